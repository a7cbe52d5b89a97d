"""Block Kit, built by pure functions: no I/O here, so every surface is unit-tested as data."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from bot.promises import ROUND_NOTE
from surveys.answers import Answer, AnswerResult, Outcome
from surveys.platform import Prompt, RoundMessage

Block = dict[str, Any]
MAX_BLOCKS = 50
ANSWER_ACTION = "answer"
COMMENT_ACTION = "comment:open"
ANONYMITY_NOTE = ":lock: " + ROUND_NOTE


def esc(text: str) -> str:
    """Slack's three control characters in mrkdwn, so typed text cannot ping (<!channel>) or disguise a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_object(text: str, kind: str = "mrkdwn") -> dict[str, Any]:
    return {"type": kind, "text": text}


def local_time(at: dt.datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%a %d %b, %H:%M")


def answer_value(round_id: int, bank_id: str, item_id: str, option: str, facet: str = "") -> str:
    return json.dumps(Answer.payload(round_id, bank_id, item_id, option, facet), separators=(",", ":"))


def prompt_blocks(round_id: int, prompt: Prompt, *, show_intro: bool = True) -> list[Block]:
    """One item of a round: a statement with a button per option, a strand check-in, or a picks exercise."""
    # Imported here: checkin_blocks builds on this module's helpers.
    from bot.slack.checkin_blocks import picks_blocks, strand_blocks

    bank, item = prompt.bank, prompt.item
    if bank.kind == "strands":
        return strand_blocks(round_id, bank, item, show_intro=show_intro)
    if bank.kind == "picks":
        return picks_blocks(round_id, bank)
    lead = f"_{esc(bank.intro)}_\n" if show_intro and bank.intro else ""
    buttons = [
        {
            "type": "button",
            "action_id": f"{ANSWER_ACTION}:{item.id}:{opt.value}",
            "text": text_object(opt.label, "plain_text"),
            "value": answer_value(round_id, bank.id, item.id, opt.value),
        }
        for opt in bank.scale_of(item).options
    ]
    # Block ids name the bank too: two banks of one round may share an item id, and Slack refuses
    # a message in which two blocks share an id.
    return [
        {"type": "section", "block_id": f"q:{bank.id}:{item.id}", "text": text_object(f"{lead}*{esc(item.text)}*")},
        {"type": "actions", "block_id": f"a:{round_id}:{bank.id}:{item.id}", "elements": buttons},
    ]


def round_blocks(message: RoundMessage) -> list[Block]:
    blocks: list[Block] = []
    introduced: set[str] = set()
    for prompt in message.prompts:
        # A bank's intro once per message, above its first item.
        blocks.extend(prompt_blocks(message.round_id, prompt, show_intro=prompt.bank.id not in introduced))
        introduced.add(prompt.bank.id)
    until = local_time(message.closes_at, message.timezone)
    blocks.append(
        {
            "type": "context",
            "elements": [
                text_object(f"*{esc(message.survey_name)}* · open until {until}"),
                text_object(ANONYMITY_NOTE.format(k=message.k)),
            ],
        }
    )
    # Free text is optional and goes in a modal (bot/slack/listeners/comments.py), never in the channel.
    blocks.append(
        {
            "type": "actions",
            "block_id": f"c:{message.round_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": COMMENT_ACTION,
                    "text": text_object("Add a comment", "plain_text"),
                    "value": str(message.round_id),
                }
            ],
        }
    )
    return blocks


def round_fallback_text(message: RoundMessage) -> str:
    first = message.prompts[0].item.text if message.prompts else ""
    return f"Pulse: {esc(first)}"[:300]


def confirmation_text(result: AnswerResult) -> str:
    until = f" You can change it until {local_time(result.closes_at, result.timezone)}." if result.closes_at else ""
    match result.outcome:
        case Outcome.RECORDED:
            return f":white_check_mark: Thanks — recorded anonymously: *{esc(result.option_label)}*.{until}"
        case Outcome.CHANGED:
            return (
                f":arrows_counterclockwise: Changed from *{esc(result.previous_label)}* "
                f"to *{esc(result.option_label)}*. "
                f"Still anonymous, still counted once.{until}"
            )
        case Outcome.UNCHANGED:
            return f"You had already answered *{esc(result.option_label)}*; nothing changed.{until}"
        case Outcome.SUPERSEDED:
            return (
                f"A later click of yours already stands: *{esc(result.previous_label)}*. "
                f"This one (*{esc(result.option_label)}*) was not recorded.{until}"
            )
        case Outcome.CLOSED:
            return "This round has closed, so answers can no longer be recorded. Look out for the next one."
        case _:
            return "Sorry, that answer could not be recorded: the question is no longer available."


def split_messages(blocks: list[Block], limit: int = MAX_BLOCKS) -> list[list[Block]]:
    """Several messages rather than one that breaks Slack's block limit."""
    return [blocks[i : i + limit] for i in range(0, len(blocks), limit)] or [[]]
