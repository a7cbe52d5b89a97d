"""Free-text comments: the round's "Add a comment" button opens a modal; its submission stores the text.

Never logged: the text, and who wrote it. A log line names the outcome only.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Context
from bot.slack.blocks import COMMENT_ACTION
from bot.slack.comment_blocks import (
    COMMENT_BLOCK,
    COMMENT_CALLBACK,
    COMMENT_INPUT,
    CommentMeta,
    comment_error,
    comment_modal,
    comment_thanks,
)
from bot.slack.views import notice_modal
from surveys.comments import comment_threshold_for, record_comment

log = logging.getLogger(__name__)

SORRY = "Sorry, your comment could not be saved just now. Nothing was stored; please try again."


def _meta(raw: str) -> CommentMeta | None:
    try:
        return CommentMeta.model_validate(json.loads(raw))
    except (ValueError, TypeError, ValidationError):
        return None


def register(app: AsyncApp, ctx: Context) -> None:
    @app.action(COMMENT_ACTION)
    async def on_comment_button(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        value = str(((body.get("actions") or [{}])[0]).get("value") or "")
        channel_id = (body.get("channel") or {}).get("id")
        trigger_id = body.get("trigger_id")
        if not value.isdigit() or not trigger_id:
            return
        meta = CommentMeta.model_validate({"r": int(value), "c": channel_id})
        try:
            async with ctx.db.session() as session:
                threshold = await comment_threshold_for(session, meta.round_id, ctx.clock())
        except Exception:
            ctx.counters.add("forms", "not opened")
            threshold, view = None, notice_modal("Pulse Audit", SORRY)
        else:
            view = (
                comment_modal(meta, threshold)
                if threshold is not None
                else notice_modal("Pulse Audit", "This round has closed, so comments can no longer be added.")
            )
        await client.views_open(trigger_id=trigger_id, view=view)

    @app.view(COMMENT_CALLBACK)
    async def on_comment_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        meta = _meta(str(view.get("private_metadata") or ""))
        values = ((view.get("state") or {}).get("values") or {}).get(COMMENT_BLOCK) or {}
        text = str((values.get(COMMENT_INPUT) or {}).get("value") or "")
        if meta is None:
            await ack(response_action="errors", errors={COMMENT_BLOCK: "Sorry, this comment cannot be taken here."})
            return
        try:
            now = ctx.clock()
            result = await record_comment(ctx.db, ctx.secret, meta.round_id, user_id, meta.channel_id, text, now)
        except Exception:
            ctx.counters.add("comments", "not saved")
            await ack(response_action="errors", errors={COMMENT_BLOCK: SORRY})
            return
        # Counts only: never the text, who wrote it, or when.
        ctx.counters.add("comments", result.outcome.value)
        error = comment_error(result.outcome)
        if error is not None:
            await ack(response_action="errors", errors={COMMENT_BLOCK: error})
            return
        await ack(
            response_action="update",
            view=notice_modal("Comment saved", comment_thanks(result.outcome, result.threshold)),
        )
