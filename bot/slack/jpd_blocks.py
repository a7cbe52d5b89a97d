"""Block Kit for the JPD exchange: the invitation, the form, the introductions and the summary.

Pure functions of the domain's facts; tests/bot/slack/test_jpd_blocks.py checks them against
Slack's limits without a server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.jpd_text import FIRST_STEP, NOT_ANONYMOUS, NOT_ANONYMOUS_SCHOOLS, deadline_text, summary_text
from bot.slack.blocks import esc, text_object
from bot.slack.views import VALUE
from surveys.jpd.exchange import MAX_NOTE, MAX_UNIT
from surveys.jpd.notices import Introduction, Invitation, LeftOut, Partnership
from surveys.jpd.summary import Summary
from surveys.jpd.topics import Topic

TAKE_PART = "jpd:take-part"
WITHDRAW = "jpd:withdraw"
FORM_CALLBACK = "jpd_entry"
OFFERS, WANTS, UNIT, NOTE = "offers", "wants", "unit", "note"

Block = dict[str, Any]


def _section(text: str) -> Block:
    return {"type": "section", "text": text_object(text[:3000])}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [text_object(text[:3000])]}


def statement(kind: str) -> str:
    return NOT_ANONYMOUS_SCHOOLS if kind == "schools" else NOT_ANONYMOUS


def invitation_text(invitation: Invitation) -> str:
    return (
        f"Joint practice development exchange: say what you could offer and would like to gain by {_when(invitation)}."
    )


def _when(invitation: Invitation) -> str:
    return deadline_text(invitation.deadline, invitation.timezone)


def invitation_blocks(invitation: Invitation) -> list[Block]:
    topics = " · ".join(esc(t.label) for t in invitation.topics)
    header: Block = {"type": "header", "text": text_object("Joint practice development exchange", "plain_text")}
    if invitation.closed:
        return [
            header,
            _section(
                f"This exchange closed on {_when(invitation)}. Everyone who took part has heard about their group."
            ),
        ]
    who = "your school" if invitation.kind == "schools" else "you"
    ask = (
        f"*What could {who} offer, and what would {who} like to gain?* Choose from the topics by "
        f"*{_when(invitation)}*. Then everyone who took part is introduced in a group of two or three in "
        "which each gives something another wants, and gains something another offers."
    )
    return [
        header,
        _section(ask),
        _section(f"*Topics:* {topics}"),
        _context(f":unlock: {statement(invitation.kind)} You can change your answer or withdraw until the deadline."),
        {
            "type": "actions",
            "block_id": f"jpd-{invitation.exchange_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": TAKE_PART,
                    "text": text_object("Take part or change", "plain_text"),
                    "style": "primary",
                    "value": str(invitation.exchange_id),
                },
                {
                    "type": "button",
                    "action_id": WITHDRAW,
                    "text": text_object("Withdraw", "plain_text"),
                    "value": str(invitation.exchange_id),
                },
            ],
        },
    ]


def _option(topic: Topic) -> dict[str, Any]:
    return {"text": text_object(topic.label[:75], "plain_text"), "value": topic.slug}


def _select(block_id: str, label: str, topics: Sequence[Topic], chosen: Sequence[str]) -> Block:
    element: dict[str, Any] = {
        "type": "multi_static_select",
        "action_id": VALUE,
        "placeholder": text_object("Choose topics", "plain_text"),
        "options": [_option(t) for t in topics],
    }
    initial = [_option(t) for t in topics if t.slug in chosen]
    if initial:
        element["initial_options"] = initial
    return {"type": "input", "block_id": block_id, "label": text_object(label, "plain_text"), "element": element}


def _text_input(block_id: str, label: str, value: str, *, limit: int, optional: bool, multiline: bool) -> Block:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": VALUE, "max_length": limit}
    if multiline:
        element["multiline"] = True
    if value:
        element["initial_value"] = value
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": text_object(label, "plain_text"),
        "element": element,
    }


def form_modal(
    invitation: Invitation,
    *,
    offers: Sequence[str] = (),
    wants: Sequence[str] = (),
    unit: str = "",
    note: str = "",
) -> dict[str, Any]:
    schools = invitation.kind == "schools"
    who = "your school" if schools else "you"
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "private_metadata": str(invitation.exchange_id),
        "title": text_object("JPD exchange", "plain_text"),
        "submit": text_object("Save", "plain_text"),
        "close": text_object("Cancel", "plain_text"),
        "blocks": [
            _context(f":unlock: *{statement(invitation.kind)}*"),
            _select(OFFERS, f"What could {who} offer someone else?", invitation.topics, offers),
            _select(WANTS, f"What would {who} like to gain from someone else?", invitation.topics, wants),
            _text_input(
                UNIT,
                "Which school are you answering for?" if schools else "Your department (optional)",
                unit,
                limit=MAX_UNIT,
                optional=not schools,
                multiline=False,
            ),
            _text_input(NOTE, "A note for your group (optional)", note, limit=MAX_NOTE, optional=True, multiline=True),
            _context(f"Open until {_when(invitation)}. Groups mix departments and schools where they can."),
        ],
    }


def form_values(state: dict[str, Any]) -> dict[str, Any]:
    """The submitted form's fields: topic slugs chosen, and the two texts."""

    def picked(block: str) -> tuple[str, ...]:
        element = (state.get(block) or {}).get(VALUE) or {}
        return tuple(str(o.get("value")) for o in element.get("selected_options") or [])

    def typed(block: str) -> str:
        element = (state.get(block) or {}).get(VALUE) or {}
        return str(element.get("value") or "")

    return {"offers": picked(OFFERS), "wants": picked(WANTS), "unit": typed(UNIT), "note": typed(NOTE)}


def _person(user: str, units: dict[str, str]) -> str:
    unit = units.get(user)
    return f"<@{user}> ({esc(unit)})" if unit else f"<@{user}>"


def _offers(intro: Introduction) -> str:
    return "\n".join(
        f"• {_person(o.giver, intro.units)} could offer {_person(o.receiver, intro.units)}: "
        f"*{', '.join(esc(t) for t in o.topics)}*"
        for o in intro.offers
    )


def introduction_text(intro: Introduction) -> str:
    return f"Your JPD group from exchange {intro.exchange_id}: " + ", ".join(f"<@{m}>" for m in intro.members)


def introduction_blocks(intro: Introduction) -> list[Block]:
    size = "pair" if len(intro.members) == 2 else "group of three"
    blocks = [
        _section(
            f":wave: *You are a JPD {size}* from exchange {intro.exchange_id}: each of you gives something another "
            "wants and gains something another offers."
        ),
        _section(_offers(intro)),
    ]
    if intro.notes:
        notes = "\n".join(f"<@{m}>: “{esc(n)}”" for m, n in sorted(intro.notes.items()))
        blocks.append(_section(f"*Notes*\n{notes}"))
    blocks.append(_context(FIRST_STEP))
    return blocks


def left_out_text(left: LeftOut) -> str:
    wants = ", ".join(esc(t) for t in left.wants) or "your topics"
    return (
        f"No group could be formed for you in JPD exchange {left.exchange_id}: {esc(left.why)}. You wanted: {wants}. "
        "The coordinator sees these topics as gaps to plan for, and you are welcome in the next exchange."
    )


def summary_blocks(summary: Summary) -> list[Block]:
    return [_section(summary_text(summary, esc)), _context("Counts only: names are in the groups' introductions.")]


def partnership_blocks(partnership: Partnership) -> list[Block]:
    blocks = [_section(f"*JPD exchange {partnership.exchange_id} between schools: the groups*")]
    for n, intro in enumerate(partnership.groups, 1):
        blocks.append(_section(f"*Group {n}*\n{_offers(intro)}"))
    if partnership.left_out:
        lines = "\n".join(
            f"• {_person(u, partnership.units)}: {esc(why)}" for u, why in sorted(partnership.left_out.items())
        )
        blocks.append(_section(f"*Without a group this time*\n{lines}"))
    blocks.append(_context(FIRST_STEP))
    return blocks[:50]
