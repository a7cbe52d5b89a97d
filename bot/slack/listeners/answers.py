"""A click on an answer button: ack at once, record anonymously, confirm to the clicker alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Context
from bot.slack.blocks import ANSWER_ACTION, confirmation_text
from bot.slack.checkin_blocks import strand_confirmation_text
from surveys.answers import Answer, AnswerResult, Outcome, slack_seq
from surveys.recording import AnswerRecorder

log = logging.getLogger(__name__)

# Backpressure (measured in bench/ingestion and bench/floor): acking costs less than storing, so a
# process that always acked at once took clicks faster than it could store them under a flood,
# until the backlog passed its limit and every further click had to be refused. While more than
# ACK_AFTER_BACKLOG clicks wait for a batch, a click's ack waits for room, at most ACK_WAIT
# seconds (a sixth of Slack's 3; tested with the database slowed, tests/reliability), which slows
# a flood to what the database takes; under any ordinary load nothing waits, and nothing else
# (no lock, no database call) comes before the ack. Past MAX_BACKLOG the click is answered
# "please click again". The backlog is also how long a confirmation waits behind the ack: at 256
# a saturated server kept 256 clicks queued and confirmed 3.7x slower than the bare app (p99);
# at 64 it is 1.9x with the same throughput; at 16 throughput fell to 0.8 (docs/benchmarks.md).
ACK_AFTER_BACKLOG = 64
ACK_WAIT = 0.5
MAX_BACKLOG = 2048
NOT_SAVED = ":warning: Sorry, your answer could not be saved just now. Nothing was recorded; please click it again."


def register(app: AsyncApp, ctx: Context) -> None:
    # Round facts kept for a few seconds, answers arriving together written in one transaction.
    recorder = AnswerRecorder(lambda: ctx.db, ctx.banks, ctx.secret)

    @app.action(re.compile(rf"^{ANSWER_ACTION}:"))
    async def on_answer(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ACK_WAIT):
                await recorder.room(ACK_AFTER_BACKLOG)
        await ack()
        user_id = str((body.get("user") or {}).get("id", ""))
        channel_id = (body.get("channel") or {}).get("id")
        actions = body.get("actions") or [{}]
        try:
            answer: Answer | None = Answer.model_validate_json(actions[0].get("value") or "")
        except ValidationError:
            answer = None
        if answer is None:
            result: AnswerResult | None = AnswerResult(Outcome.INVALID)
        elif recorder.backlog >= MAX_BACKLOG:
            result = None
        else:
            # The click's own time orders it among this person's clicks, whichever process stores it.
            seq = slack_seq(actions[0].get("action_ts"), ctx.clock())
            result = await _record(ctx, recorder, answer, user_id, channel_id, seq)
        # Counted, never logged one by one: a line's time would say when somebody answered.
        ctx.counters.add("answers", result.outcome.value if result is not None else "not saved")
        if result is None:
            text = NOT_SAVED
        else:
            text = strand_confirmation_text(result) if result.facet else confirmation_text(result)
        if channel_id and user_id:
            await client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)


async def _record(
    ctx: Context, recorder: AnswerRecorder, answer: Answer, user_id: str, channel_id: str | None, seq: int
) -> AnswerResult | None:
    """The stored result, or None when the database failed: the person is told, never left guessing."""
    try:
        return await recorder.record(answer, user_id=user_id, channel_id=channel_id, now=ctx.clock(), seq=seq)
    except Exception:  # the click was acked; say so to the person instead of losing it silently
        return None
