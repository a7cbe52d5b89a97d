"""Block Kit for strand check-ins and the trust-behaviour picks: pure functions, no I/O.

A strand check-in is one short message: the strand, a row of four level buttons for where the
school is now and one for where it should be in a year, and a button that opens the level
descriptors in a modal, so the channel never fills with text. The picks exercise is a button
in the round message that opens a form with one multi-select per perspective and side.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.promises import PICKS_NOTE
from bot.slack.blocks import ANSWER_ACTION, Block, answer_value, confirmation_text, esc, local_time, text_object
from surveys.answers import AnswerResult, Outcome
from surveys.banks import Bank, Item
from surveys.banks.model import PICK_STRONG, PICK_WEAK
from surveys.picks import PickSet, PicksResult

LEVELS_ACTION = "levels"
PICKS_ACTION = "picks"
PICKS_CALLBACK = "picks"
PICKS_SELECT = "behaviours"
MAX_SECTION = 3000

FACET_QUESTION = {"now": "*Now* — where are we today?", "future": "*In a year* — where should we be?"}
FACET_NAME = {"now": "now", "future": "in a year", "self": "for yourself", "team": "for the team"}
PERSPECTIVE_HEADER = {"self": "For yourself", "team": "For the leadership team as a whole"}


def facet_name(facet: str) -> str:
    return FACET_NAME.get(facet, facet.replace("-", " "))


def perspective_header(perspective: str) -> str:
    return PERSPECTIVE_HEADER.get(perspective, f"For the {perspective.replace('-', ' ')}")


def _level_buttons(round_id: int, bank: Bank, item: Item, facet: str) -> Block:
    return {
        "type": "actions",
        "block_id": f"a:{round_id}:{bank.id}:{item.id}:{facet}",
        "elements": [
            {
                "type": "button",
                "action_id": f"{ANSWER_ACTION}:{item.id}:{facet}:{opt.value}",
                "text": text_object(opt.label, "plain_text"),
                "value": answer_value(round_id, bank.id, item.id, opt.value, facet),
            }
            for opt in bank.scale_of(item).options
        ],
    }


def strand_blocks(round_id: int, bank: Bank, item: Item, *, show_intro: bool = True) -> list[Block]:
    """Four blocks: the strand and "now", its buttons, "in a year", its buttons."""
    dimensions = {d.id: d.title for d in bank.dimensions}
    where = f"  ·  _{esc(dimensions[item.dimension])}_" if item.dimension in dimensions else ""
    lead = f"_{esc(bank.intro)}_\n" if show_intro and bank.intro else ""
    levels_button = {
        "type": "button",
        "action_id": f"{LEVELS_ACTION}:{item.id}",
        "text": text_object("What do the levels mean?", "plain_text"),
        "value": json.dumps({"b": bank.id, "i": item.id}, separators=(",", ":")),
    }
    return [
        {
            "type": "section",
            "block_id": f"q:{bank.id}:{item.id}",
            "text": text_object(f"{lead}*{esc(item.name)}*{where}\n{FACET_QUESTION['now']}"[:MAX_SECTION]),
            "accessory": levels_button,
        },
        _level_buttons(round_id, bank, item, "now"),
        {
            "type": "section",
            "block_id": f"q:{bank.id}:{item.id}:future",
            "text": text_object(FACET_QUESTION["future"]),
        },
        _level_buttons(round_id, bank, item, "future"),
    ]


def levels_view(bank: Bank, item: Item) -> dict[str, Any]:
    """The modal behind "What do the levels mean?": the strand's four descriptors."""
    dimensions = {d.id: d.title for d in bank.dimensions}
    options = {o.value: o.label for o in bank.scale_of(item).options}
    blocks: list[Block] = [{"type": "header", "text": text_object(item.name[:150], "plain_text")}]
    if item.dimension in dimensions:
        where = f"{esc(dimensions[item.dimension])} · {esc(bank.title)}"
        blocks.append({"type": "context", "elements": [text_object(where)]})
    for level, descriptor in item.levels.as_list() if item.levels else []:
        name = esc(options.get(level, level.title()))
        blocks.append({"type": "section", "text": text_object(f"*{name}*\n{esc(descriptor)}")})
    blocks.append(
        {
            "type": "context",
            "elements": [text_object("Pick the level that fits best for now and for a year from now in the message.")],
        }
    )
    return {
        "type": "modal",
        "title": text_object("Maturity levels", "plain_text"),
        "close": text_object("Close", "plain_text"),
        "blocks": blocks,
    }


def picks_blocks(round_id: int, bank: Bank) -> list[Block]:
    """The round message's part for a picks exercise: what it is, and a button to the form."""
    limits = bank.picks
    scope = ""
    if limits is not None:
        sides = f"up to {limits.strongest} strongest and {limits.weakest} weakest"
        views = " and ".join(facet_name(p) for p in limits.perspectives)
        scope = f"Pick {sides}, {views}. Takes a minute; only you see your choices."
    blocks: list[Block] = [
        {
            "type": "section",
            "block_id": f"q:{bank.exercise_id}",
            "text": text_object(f"*{esc(bank.title)}*\n{esc(bank.intro)}"[:MAX_SECTION]),
        },
        {
            "type": "actions",
            "block_id": f"a:{round_id}:{bank.exercise_id}",
            "elements": [
                {
                    "type": "button",
                    "style": "primary",
                    "action_id": f"{PICKS_ACTION}:{bank.id}",
                    "text": text_object("Choose behaviours", "plain_text"),
                    "value": json.dumps({"r": round_id, "b": bank.id}, separators=(",", ":")),
                }
            ],
        },
    ]
    if scope:
        blocks.append({"type": "context", "elements": [text_object(scope)]})
    return blocks


def _option(item: Item) -> dict[str, Any]:
    return {"text": text_object(item.name, "plain_text"), "value": item.id}


def _list_sections(bank: Bank) -> list[Block]:
    """Every behaviour with its full wording, in as few sections as fit."""
    sections: list[Block] = []
    chunk = ""
    for item in bank.items:
        line = f"• {esc(item.text)}\n"
        if len(chunk) + len(line) > MAX_SECTION:
            sections.append({"type": "section", "text": text_object(chunk.rstrip())})
            chunk = ""
        chunk += line
    if chunk:
        sections.append({"type": "section", "text": text_object(chunk.rstrip())})
    return sections


def picks_block_id(perspective: str, side: str) -> str:
    return f"{perspective}:{side}"


def picks_view(
    round_id: int, bank: Bank, channel_id: str, current: Mapping[str, PickSet] | None = None
) -> dict[str, Any]:
    """The picks form. `current` fills in what this person picked before in this round.

    private_metadata names the round, the bank and the channel the answer counts toward (its
    segment): never the person.
    """
    limits = bank.picks
    assert limits is not None, "only a picks bank has a picks form"
    options = [_option(i) for i in bank.items]
    by_id = {o["value"]: o for o in options}
    blocks: list[Block] = [{"type": "section", "text": text_object(esc(bank.intro or bank.title))}]
    blocks.extend(_list_sections(bank))
    for perspective in limits.perspectives:
        blocks.append({"type": "header", "text": text_object(perspective_header(perspective), "plain_text")})
        chosen = (current or {}).get(perspective, PickSet())
        for side, most, ids in (
            (PICK_STRONG, limits.strongest, chosen.strong),
            (PICK_WEAK, limits.weakest, chosen.weak),
        ):
            element: dict[str, Any] = {
                "type": "multi_static_select",
                "action_id": PICKS_SELECT,
                "placeholder": text_object(f"Choose up to {most}", "plain_text"),
                "options": options,
                "max_selected_items": most,
            }
            initial = [by_id[i] for i in ids if i in by_id][:most]
            if initial:
                element["initial_options"] = initial
            blocks.append(
                {
                    "type": "input",
                    "block_id": picks_block_id(perspective, side),
                    "optional": True,
                    "label": text_object(
                        f"{'Strongest' if side == PICK_STRONG else 'Weakest'} (up to {most})", "plain_text"
                    ),
                    "element": element,
                }
            )
    blocks.append(
        {
            "type": "context",
            "elements": [text_object(":lock: " + PICKS_NOTE)],
        }
    )
    return {
        "type": "modal",
        "callback_id": PICKS_CALLBACK,
        "private_metadata": json.dumps({"r": round_id, "b": bank.id, "c": channel_id}, separators=(",", ":")),
        "title": text_object("Trust behaviours", "plain_text"),
        "submit": text_object("Save picks", "plain_text"),
        "close": text_object("Cancel", "plain_text"),
        "blocks": blocks,
    }


def notice_view(title: str, message: str) -> dict[str, Any]:
    """A small modal with one message, e.g. when the round has already closed."""
    return {
        "type": "modal",
        "title": text_object(title[:24], "plain_text"),
        "close": text_object("Close", "plain_text"),
        "blocks": [{"type": "section", "text": text_object(message)}],
    }


def picks_confirmation_text(result: PicksResult) -> str:
    until = f" You can change them until {local_time(result.closes_at, result.timezone)}." if result.closes_at else ""
    match result.outcome:
        case Outcome.RECORDED | Outcome.CHANGED:
            parts = [f"{facet_name(p)}: {s} strongest, {w} weakest" for p, (s, w) in result.counts.items()]
            verb = "updated" if result.outcome is Outcome.CHANGED else "recorded anonymously"
            return f":white_check_mark: Thanks — your picks are {verb} ({'; '.join(parts)}).{until}"
        case Outcome.CLOSED:
            return "This round has closed, so picks can no longer be recorded. Look out for the next one."
        case Outcome.SUPERSEDED:
            return f"Picks you sent later already stand; these were not recorded.{until}"
        case _:
            return "Sorry, those picks could not be recorded: the exercise is no longer available."


def strand_confirmation_text(result: AnswerResult) -> str:
    """What a person is told after a level click: what they picked, and whether the other half is open."""
    if result.outcome in (Outcome.CLOSED, Outcome.INVALID, Outcome.SUPERSEDED):
        return confirmation_text(result)
    until = f" You can change it until {local_time(result.closes_at, result.timezone)}." if result.closes_at else ""
    which = f"*{esc(result.item_name)}*, {facet_name(result.facet)}"
    match result.outcome:
        case Outcome.RECORDED:
            said = f":white_check_mark: Recorded anonymously — {which}: *{esc(result.option_label)}*."
        case Outcome.CHANGED:
            said = (
                f":arrows_counterclockwise: Changed {which} from *{esc(result.previous_label)}* "
                f"to *{esc(result.option_label)}*."
            )
        case _:
            said = f"You had already answered {which}: *{esc(result.option_label)}*; nothing changed."
    if result.open_facets:
        rest = " and ".join(f"*{facet_name(f)}*" for f in result.open_facets)
        said += f" Still open: {rest} — pick it in the same message."
    else:
        said += " Both halves answered, thank you."
    return said + until
