"""A click on an answer button: ack at once, record anonymously, confirm to the clicker alone."""

from __future__ import annotations

import asyncio
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
from surveys.answers import Answer, AnswerResult, Outcome
from surveys.recording import AnswerRecorder

log = logging.getLogger(__name__)

# How many clicks may be between their ack and their stored answer at once. Taken before the ack,
# so under overload Slack waits for acks instead of a backlog growing behind them until database
# connections time out and acknowledged answers are lost (measured in bench/ingestion).
IN_FLIGHT = 32
NOT_SAVED = ":warning: Sorry, your answer could not be saved just now. Nothing was recorded; please click it again."


def register(app: AsyncApp, ctx: Context) -> None:
    locks = KeyedLocks()
    admission = asyncio.Semaphore(IN_FLIGHT)
    # Round facts kept for a few seconds, answers arriving together written in one transaction.
    recorder = AnswerRecorder(lambda: ctx.db, ctx.banks, ctx.secret)

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
            result: AnswerResult | None = AnswerResult(Outcome.INVALID)
        else:
            key = respondent_key(ctx.secret, answer.round_id, answer.item_id, user_id)
            # Both taken before the ack, in arrival order: a quick second click is applied after the first.
            async with admission, locks.hold(key):
                await ack()
                result = await _record(ctx, recorder, answer, user_id, channel_id)
        if result is None:
            text = NOT_SAVED
        else:
            # Deliberately no user id and no option: a log line must never join a person to an answer.
            log.info("answer %s", result.outcome.value)
            text = strand_confirmation_text(result) if result.facet else confirmation_text(result)
        if channel_id and user_id:
            await client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)


async def _record(
    ctx: Context, recorder: AnswerRecorder, answer: Answer, user_id: str, channel_id: str | None
) -> AnswerResult | None:
    """The stored result, or None when the database failed: the person is told, never left guessing."""
    try:
        return await recorder.record(answer, user_id=user_id, channel_id=channel_id, now=ctx.clock())
    except Exception as exc:  # the click was acked; say so to the person instead of losing it silently
        log.error("answer not saved: %s", type(exc).__name__)
        return None
