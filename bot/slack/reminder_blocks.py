"""The reminder before a round closes, as Block Kit: pure functions, no I/O."""

from __future__ import annotations

from bot.slack.blocks import MAX_BLOCKS, Block, esc, local_time, round_blocks, text_object
from surveys.platform import Reminder


def reminder_text(reminder: Reminder) -> str:
    message = reminder.round
    total = len(message.prompts)
    left = f"{reminder.unanswered} of {total} items" if total > 1 else "its item"
    return (
        f":alarm_clock: Reminder: *{esc(message.survey_name)}* closes {local_time(message.closes_at, message.timezone)}"
        f" and you have {left} still to answer. One click each, and it stays anonymous."
    )


def reminder_blocks(reminder: Reminder) -> list[Block]:
    """The nudge, then the round's own items so they can be answered right here."""
    head: Block = {"type": "section", "text": text_object(reminder_text(reminder))}
    items = round_blocks(reminder.round)
    if 1 + len(items) > MAX_BLOCKS:
        return [head]
    return [head, *items]
