"""The trust-behaviour picks exercise as Adaptive Card parts: pure functions, no I/O.

In the round card everyone sees, the exercise is one button. Pressing it answers (for that
person only) with the round card again, the exercise drawn as a form: per perspective, one
multi-select for the strongest and one for the weakest behaviours, filled in with that person's
current picks, and a Save button. Teams sends the inputs' values along with the button's data,
each multi-select as one comma-separated string of behaviour ids.

Adaptive Cards cannot cap how many options a multi-select takes, so limits are checked when the
form comes back (surveys.picks.check_picks) and each problem is drawn under its input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.promises import PICKS_NOTE
from surveys.answers import Outcome
from surveys.banks import Bank
from surveys.banks.model import PICK_STRONG, PICK_WEAK
from surveys.picks import TOOK_PART, PickSet, PicksResult

Element = dict[str, Any]

OPEN_VERB = "pulse.picks.open"
SAVE_VERB = "pulse.picks.save"
PERSPECTIVE_HEADER = {"self": "For yourself", "team": "For the leadership team as a whole"}
PERSPECTIVE_NAME = {"self": "for yourself", "team": "for the team"}
SIDE_LABEL = {PICK_STRONG: "Strongest", PICK_WEAK: "Weakest"}
PRIVACY = "🔒 " + PICKS_NOTE
FIX_THEM = "Nothing was saved: please fix the picks marked below and save again."


@dataclass(frozen=True)
class PicksForm:
    """One person's form for one exercise: what is filled in, and what is wrong with it."""

    picks: Mapping[str, PickSet] = field(default_factory=dict)
    # (perspective, "strong" or "weak") -> problem, as check_picks gives them.
    problems: Mapping[tuple[str, str], str] = field(default_factory=dict)


def _text(value: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": value, "wrap": True, **style}


def perspective_name(perspective: str) -> str:
    return PERSPECTIVE_NAME.get(perspective, f"for the {perspective.replace('-', ' ')}")


def perspective_header(perspective: str) -> str:
    return PERSPECTIVE_HEADER.get(perspective, f"For the {perspective.replace('-', ' ')}")


def input_id(bank: Bank, perspective: str, side: str) -> str:
    """The input's id, which is also the key its value comes back under."""
    return f"p:{bank.id}:{perspective}:{side}"


def ref_data(round_id: int, bank: Bank) -> dict[str, Any]:
    """What the exercise's buttons carry: which round and which bank. Never who."""
    return {"r": round_id, "b": bank.id}


def scope_line(bank: Bank) -> str:
    limits = bank.picks
    if limits is None:
        return ""
    views = " and ".join(perspective_name(p) for p in limits.perspectives)
    return f"Pick up to {limits.strongest} strongest and {limits.weakest} weakest, {views}. Takes a minute."


def took_part(bank: Bank, chosen: Mapping[tuple[str, str], str] | None) -> list[str]:
    """The perspectives this person has saved picks for, from their participation rows."""
    perspectives = bank.picks.perspectives if bank.picks else []
    return [p for p in perspectives if (chosen or {}).get((bank.exercise_id, p)) == TOOK_PART]


def prompt_elements(
    round_id: int, bank: Bank, chosen: Mapping[tuple[str, str], str] | None = None, *, open_: bool = True
) -> list[Element]:
    """The exercise in the round card: what it is, and the button that opens the form."""
    done = took_part(bank, chosen)
    elements: list[Element] = [_text(bank.title, weight="Bolder")]
    if bank.intro:
        elements.append(_text(bank.intro, isSubtle=True, size="Small"))
    if open_:
        elements.append(_text(scope_line(bank), size="Small"))
        elements.append(
            {
                "type": "ActionSet",
                "actions": [
                    {
                        "type": "Action.Execute",
                        "title": "Change my picks" if done else "Choose behaviours",
                        "verb": OPEN_VERB,
                        "style": "positive",
                        "data": ref_data(round_id, bank),
                    }
                ],
            }
        )
    if done:
        where = " and ".join(perspective_name(p) for p in done)
        elements.append(_text(f"Your picks are saved ({where}).", color="Good", size="Small"))
    return [{"type": "Container", "separator": True, "spacing": "Medium", "items": elements}]


def form_elements(round_id: int, bank: Bank, form: PicksForm) -> list[Element]:
    """The exercise as a form, filled in with `form.picks`, each problem under its input."""
    limits = bank.picks
    assert limits is not None, "only a picks bank has a picks form"
    choices = [{"title": item.name, "value": item.id} for item in bank.items]
    about_id = f"p:{bank.id}:about"
    elements: list[Element] = [_text(bank.title, weight="Bolder")]
    if bank.intro:
        elements.append(_text(bank.intro, isSubtle=True, size="Small"))
    elements.append(
        {
            "type": "ActionSet",
            "actions": [
                {
                    "type": "Action.ToggleVisibility",
                    "title": "What do the behaviours mean?",
                    "targetElements": [about_id],
                }
            ],
        }
    )
    elements.append(
        {
            "type": "Container",
            "id": about_id,
            "isVisible": False,
            "items": [_text(f"• {item.text}", size="Small", spacing="None") for item in bank.items],
        }
    )
    for perspective in limits.perspectives:
        elements.append(_text(perspective_header(perspective), weight="Bolder", spacing="Medium"))
        chosen = form.picks.get(perspective, PickSet())
        for side, most, ids in (
            (PICK_STRONG, limits.strongest, chosen.strong),
            (PICK_WEAK, limits.weakest, chosen.weak),
        ):
            choice_set: Element = {
                "type": "Input.ChoiceSet",
                "id": input_id(bank, perspective, side),
                "label": f"{SIDE_LABEL[side]} (up to {most})",
                "isMultiSelect": True,
                "style": "compact",
                "placeholder": f"Choose up to {most}",
                "choices": choices,
                "wrap": True,
            }
            if ids:
                choice_set["value"] = ",".join(ids)
            elements.append(choice_set)
            problem = form.problems.get((perspective, side))
            if problem:
                elements.append(_text(f"⚠️ {problem}", color="Attention", size="Small", spacing="None"))
    elements.append(
        {
            "type": "ActionSet",
            "actions": [
                {
                    "type": "Action.Execute",
                    "title": "Save picks",
                    "verb": SAVE_VERB,
                    "style": "positive",
                    "data": ref_data(round_id, bank),
                }
            ],
        }
    )
    elements.append(_text(PRIVACY, isSubtle=True, size="Small"))
    return [{"type": "Container", "separator": True, "spacing": "Medium", "items": elements}]


def _ids(value: Any) -> tuple[str, ...]:
    """A multi-select's value: "a,b,c" as Teams sends it (a list is read too)."""
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, list):
        parts = [str(v) for v in value]
    else:
        return ()
    return tuple(p.strip() for p in parts if p.strip())


def picks_from_data(bank: Bank, data: Mapping[str, Any]) -> dict[str, PickSet]:
    """Each perspective's picks from a submitted form; an input left empty may be missing."""
    perspectives = bank.picks.perspectives if bank.picks else []
    return {
        p: PickSet(
            strong=_ids(data.get(input_id(bank, p, PICK_STRONG))),
            weak=_ids(data.get(input_id(bank, p, PICK_WEAK))),
        )
        for p in perspectives
    }


def placed_problems(bank: Bank, problems: Mapping[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """Problems keyed by an input the form has (one about no perspective goes on the first)."""
    perspectives = bank.picks.perspectives if bank.picks else []
    placed: dict[tuple[str, str], str] = {}
    for (perspective, side), message in problems.items():
        if perspective not in perspectives and perspectives:
            perspective, side = perspectives[0], PICK_STRONG
        placed.setdefault((perspective, side), message)
    return placed


def status_line(result: PicksResult, until: str = "") -> str:
    """What happened to a submission; `until` is when the round closes, in local time."""
    later = f" You can change them until {until}." if until else ""
    match result.outcome:
        case Outcome.RECORDED | Outcome.CHANGED:
            parts = [f"{perspective_name(p)}: {s} strongest, {w} weakest" for p, (s, w) in result.counts.items()]
            verb = "updated" if result.outcome is Outcome.CHANGED else "recorded anonymously"
            said = f" ({'; '.join(parts)})" if parts else ""
            return f"✅ Thanks — your picks are {verb}{said}.{later}"
        case Outcome.CLOSED:
            return "This round has closed, so picks can no longer be recorded. Look out for the next one."
        case Outcome.SUPERSEDED:
            return f"Picks you sent later already stand; these were not recorded.{later}"
        case _:
            return "Sorry, those picks could not be recorded: the exercise is not open to you here."
