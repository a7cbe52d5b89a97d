"""Adaptive Cards for the JPD exchange in Teams: the invitation, the form, and what is sent at
the deadline. Pure functions, checked against the card schema in tests without a server.

Cards cannot mention people by id the way Slack's text can, so they name people by the display
name Teams gave when they answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.jpd_text import FIRST_STEP, NOT_ANONYMOUS, NOT_ANONYMOUS_SCHOOLS, deadline_text, summary_text
from bot.teams.cards import Card, Element, card, text
from surveys.jpd.exchange import MAX_NOTE, MAX_UNIT
from surveys.jpd.notices import Introduction, Invitation, LeftOut, Partnership
from surveys.jpd.summary import Summary

OPEN_VERB = "pulse.jpd.open"
SAVE_VERB = "pulse.jpd.save"
WITHDRAW_VERB = "pulse.jpd.withdraw"
OFFERS, WANTS, UNIT, NOTE = "jpd:offers", "jpd:wants", "jpd:unit", "jpd:note"
TITLE = "Joint practice development exchange"


def _statement(kind: str) -> str:
    return NOT_ANONYMOUS_SCHOOLS if kind == "schools" else NOT_ANONYMOUS


def _execute(title: str, verb: str, exchange_id: int, **style: Any) -> Element:
    return {"type": "Action.Execute", "title": title, "verb": verb, "data": {"x": exchange_id}, **style}


def invitation_card(invitation: Invitation) -> Card:
    when = deadline_text(invitation.deadline, invitation.timezone)
    if invitation.closed:
        return card([text(TITLE, weight="Bolder", size="Medium"), text(f"This exchange closed on {when}.")])
    who = "your school" if invitation.kind == "schools" else "you"
    return card(
        [
            text(TITLE, weight="Bolder", size="Medium"),
            text(
                f"**What could {who} offer, and what would {who} like to gain?** Choose from the topics by "
                f"**{when}**. Then everyone who took part is introduced in a group of two or three in which each "
                "gives something another wants, and gains something another offers."
            ),
            text("**Topics:** " + " · ".join(t.label for t in invitation.topics)),
            text(
                f"🔓 {_statement(invitation.kind)} You can change your answer or withdraw until the deadline.",
                isSubtle=True,
                size="Small",
            ),
        ],
        actions=[
            _execute("Take part or change", OPEN_VERB, invitation.exchange_id, style="positive"),
            _execute("Withdraw", WITHDRAW_VERB, invitation.exchange_id),
        ],
    )


def _choices(input_id: str, label: str, invitation: Invitation, chosen: Sequence[str]) -> Element:
    return {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "isMultiSelect": True,
        "isRequired": True,
        "errorMessage": "Choose at least one topic.",
        "choices": [{"title": t.label, "value": t.slug} for t in invitation.topics],
        "value": ",".join(chosen),
    }


def form_card(
    invitation: Invitation,
    *,
    offers: Sequence[str] = (),
    wants: Sequence[str] = (),
    unit: str = "",
    note: str = "",
    problem: str | None = None,
) -> Card:
    schools = invitation.kind == "schools"
    who = "your school" if schools else "you"
    body: list[Element] = [text(TITLE, weight="Bolder"), text(f"🔓 **{_statement(invitation.kind)}**", size="Small")]
    if problem:
        body.append(text(problem, color="Attention"))
    body += [
        _choices(OFFERS, f"What could {who} offer someone else?", invitation, offers),
        _choices(WANTS, f"What would {who} like to gain from someone else?", invitation, wants),
        {
            "type": "Input.Text",
            "id": UNIT,
            "label": "Which school are you answering for?" if schools else "Your department (optional)",
            "isRequired": schools,
            "maxLength": MAX_UNIT,
            "value": unit,
        },
        {
            "type": "Input.Text",
            "id": NOTE,
            "label": "A note for your group (optional)",
            "isMultiline": True,
            "maxLength": MAX_NOTE,
            "value": note,
        },
        text(f"Open until {deadline_text(invitation.deadline, invitation.timezone)}.", isSubtle=True, size="Small"),
    ]
    return card(body, actions=[_execute("Save", SAVE_VERB, invitation.exchange_id, style="positive")])


def form_values(data: dict[str, Any]) -> dict[str, Any]:
    """The form's inputs as Teams sends them: multi-selects as "a,b", texts as they are."""

    def picked(key: str) -> tuple[str, ...]:
        return tuple(v for v in str(data.get(key) or "").split(",") if v)

    return {
        "offers": picked(OFFERS),
        "wants": picked(WANTS),
        "unit": str(data.get(UNIT) or ""),
        "note": str(data.get(NOTE) or ""),
    }


def _who(person: str, names: dict[str, str], units: dict[str, str]) -> str:
    name = names.get(person) or "a colleague"
    return f"{name} ({units[person]})" if units.get(person) else name


def _offers(intro: Introduction) -> list[Element]:
    def who(person: str) -> str:
        return _who(person, intro.names, intro.units)

    return [
        text(f"• **{who(o.giver)}** could offer **{who(o.receiver)}**: " + ", ".join(o.topics)) for o in intro.offers
    ]


def introduction_card(intro: Introduction) -> Card:
    size = "pair" if len(intro.members) == 2 else "group of three"
    body: list[Element] = [
        text(f"👋 You are a JPD {size} (exchange {intro.exchange_id})", weight="Bolder"),
        text("Each of you gives something another wants and gains something another offers."),
        *_offers(intro),
    ]
    for person, note in sorted(intro.notes.items()):
        body.append(text(f"{intro.names.get(person) or 'A colleague'}: “{note}”", isSubtle=True))
    body.append(text(FIRST_STEP, size="Small"))
    return card(body)


def left_out_card(left: LeftOut) -> Card:
    wants = ", ".join(left.wants) or "your topics"
    return card(
        [
            text(f"JPD exchange {left.exchange_id}", weight="Bolder"),
            text(
                f"No group could be formed for you this time: {left.why}. You wanted: {wants}. The coordinator sees "
                "these topics as gaps to plan for, and you are welcome in the next exchange."
            ),
        ]
    )


def summary_card(summary: Summary) -> Card:
    lines = summary_text(summary).replace("*", "**").splitlines()
    return card([text(line) for line in lines] + [text("Counts only: names are in the introductions.", size="Small")])


def partnership_card(partnership: Partnership) -> Card:
    body: list[Element] = [text(f"JPD exchange {partnership.exchange_id} between schools: the groups", weight="Bolder")]
    for n, intro in enumerate(partnership.groups, 1):
        body.append(text(f"Group {n}", weight="Bolder"))
        body += _offers(intro)
    if partnership.left_out:
        body.append(text("Without a group this time", weight="Bolder"))
        body += [
            text(f"• {_who(p, partnership.names, partnership.units)}: {why}")
            for p, why in sorted(partnership.left_out.items())
        ]
    body.append(text(FIRST_STEP, size="Small"))
    return card(body)
