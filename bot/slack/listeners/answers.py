"""A click on an answer button: ack at once, record anonymously, confirm to the clicker alone."""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Context
from bot.locks import KeyedLocks
from bot.slack.blocks import ANSWER_ACTION, confirmation_text
from bot.slack.checkin_blocks import strand_confirmation_text
from surveys.anonymity import respondent_key
from surveys.answers import Answer, AnswerResult, Outcome, record_answer

log = logging.getLogger(__name__)


def register(app: AsyncApp, ctx: Context) -> None:
    locks = KeyedLocks()

    @app.action(re.compile(rf"^{ANSWER_ACTION}:"))
    async def on_answer(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        channel_id = (body.get("channel") or {}).get("id")
        actions = body.get("actions") or [{}]
        try:
            answer: Answer | None = Answer.model_validate_json(actions[0].get("value") or "")
        except ValidationError:
            answer = None
        if answer is None:
            await ack()
            result = AnswerResult(Outcome.INVALID)
        else:
            # Taken before the ack, in arrival order: a quick second click is applied after the first.
            async with locks.hold(respondent_key(ctx.secret, answer.round_id, answer.item_id, user_id)):
                await ack()
                async with ctx.db.session() as session:
                    result = await record_answer(
                        session,
                        ctx.banks,
                        ctx.secret,
                        answer,
                        user_id=user_id,
                        channel_id=channel_id,
                        now=ctx.clock(),
                    )
        # Deliberately no user id and no option: a log line must never join a person to an answer.
        log.info("answer %s", result.outcome.value)
        if channel_id and user_id:
            text = strand_confirmation_text(result) if result.facet else confirmation_text(result)
            await client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
