"""The new/edit survey form as an Adaptive Card, and reading it back: pure functions, no I/O.

The same fields as Slack's modal (bot/commands/forms.py decides what is valid), less the user
group: Teams audiences are conversations where the app is installed, offered by name. Save is an
Action.Execute, so the card that comes back (the form with each problem under its field, or what
was saved) replaces the form for the coordinator who pressed it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.commands.forms import CUSTOM, INPUT_FIELDS, SurveyForm
from bot.teams.cards import Card, Element, card, text
from surveys.banks import Bank
from surveys.cadence import WEEKDAY_LABELS, WEEKDAYS

SAVE_VERB = "pulse.survey.save"
FIX_THEM = "Nothing was saved: please fix the fields marked below and save again."
# SurveyForm's fields this card has, in the order drawn; the inputs carry these ids.
FIELDS = tuple(f for f in INPUT_FIELDS if f != "usergroup")  # no user-group audiences in Teams
MULTI = ("bank_ids", "channels")


def _choices(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"title": title, "value": value} for value, title in pairs]


def _choice_set(
    field: str, label: str, pairs: Iterable[tuple[str, str]], value: str | list[str], **more: Any
) -> Element:
    element: Element = {
        "type": "Input.ChoiceSet",
        "id": field,
        "label": label,
        "style": "compact",
        "choices": _choices(pairs),
        "wrap": True,
        **more,
    }
    joined = ",".join(value) if isinstance(value, list) else value
    if joined:
        element["value"] = joined
    return element


def _weekdays(custom: str | None = None) -> list[tuple[str, str]]:
    pairs = [(d, WEEKDAY_LABELS[d]) for d in WEEKDAYS]
    return [*pairs, (CUSTOM, f"Keep the current schedule ({custom})")] if custom else pairs


def _time(field: str, label: str, value: str) -> Element:
    element: Element = {"type": "Input.Time", "id": field, "label": label}
    if len(value) == 5 and value[2] == ":":
        element["value"] = value
    return element


def _number(field: str, label: str, value: str) -> Element:
    element: Element = {"type": "Input.Number", "id": field, "label": label}
    # Something that is not a whole number is left out: a number input cannot hold it, and its
    # error says what was wrong.
    if value.strip().isdigit():
        element["value"] = int(value)
    return element


def survey_form_card(
    form: SurveyForm,
    *,
    banks: Iterable[Bank],
    conversations: Mapping[str, str],
    survey_id: int | None = None,
    errors: Mapping[str, str] | None = None,
    status: str = "",
) -> Card:
    """The form, filled in from `form`. `conversations` are where the app is installed (key ->
    name), offered as school channels and the digest channel; `errors` go under their fields."""
    errors = errors or {}
    places = dict(conversations)
    # A survey being edited may name a conversation the app has since left: keep it choosable.
    for key in [*form.channels, form.digest_channel or ""]:
        if key and key not in places:
            places[key] = f"{key} (the app is not installed there)"
    place_pairs = sorted(places.items(), key=lambda kv: kv[1].lower())
    cadences = [
        ("weekly", "Weekly"),
        ("fortnightly", "Fortnightly (every other week)"),
        ("monthly", "Monthly (first such weekday)"),
    ]
    if form.cadence == CUSTOM and form.custom_schedule:
        cadences.append((CUSTOM, f"Keep the current schedule ({form.custom_schedule})"))

    inputs: dict[str, Element] = {
        "name": {"type": "Input.Text", "id": "name", "label": "Name", "value": form.name, "maxLength": 200},
        "bank_ids": _choice_set(
            "bank_ids",
            "Question banks (several take turns within each round)",
            [(b.id, f"{b.title} ({b.id})") for b in banks],
            list(form.bank_ids),
            isMultiSelect=True,
            placeholder="Choose banks",
        ),
        "channels": _choice_set(
            "channels",
            "School channels (one per school; answers are counted per channel)",
            place_pairs,
            list(form.channels),
            isMultiSelect=True,
            placeholder="Channels where the app is installed",
        ),
        "cadence": _choice_set("cadence", "How often", cadences, form.cadence),
        "weekday": _choice_set("weekday", "On", _weekdays(), form.weekday),
        "time": _time("time", "At", form.time),
        "timezone": {
            "type": "Input.Text",
            "id": "timezone",
            "label": "Time zone (a name like Europe/London; daylight saving is followed)",
            "value": form.timezone,
            "maxLength": 64,
        },
        "items_per_round": _number("items_per_round", "Items per round", form.items_per_round),
        "round_hours": _number(
            "round_hours", "Hours a round stays open (72 is three days; it closes before the next)", form.round_hours
        ),
        "digest_channel": _choice_set(
            "digest_channel",
            "Leaders' digest channel",
            place_pairs,
            form.digest_channel or "",
            placeholder="Where leaders read the digest",
        ),
        "digest_weekday": _choice_set(
            "digest_weekday", "Digest day", _weekdays(form.custom_digest_schedule), form.digest_weekday
        ),
        "digest_time": _time("digest_time", "Digest time", form.digest_time),
        "k": _number(
            "k", "Anonymity threshold (figures with fewer people behind them are hidden; never below 3)", form.k
        ),
    }
    title = "New survey" if survey_id is None else f"Edit survey {survey_id}"
    body: list[Element] = [text(title, size="Large", weight="Bolder")]
    if status:
        body.append(text(status, weight="Bolder", color="Attention" if errors else "Accent"))
    if not conversations:
        body.append(
            text(
                "The app is not installed in any channel yet: add it to each school's team and the leaders' "
                "team first, then ask for this form again.",
                color="Attention",
            )
        )
    for field in FIELDS:
        body.append(inputs[field])
        if field in errors:
            body.append(text(f"⚠️ {errors[field]}", color="Attention", size="Small", spacing="None"))
    # Problems with fields this card does not draw (none expected) still reach the coordinator.
    body += [text(f"⚠️ {message}", color="Attention", size="Small") for f, message in errors.items() if f not in FIELDS]
    save = {
        "type": "Action.Execute",
        "title": "Save",
        "verb": SAVE_VERB,
        "style": "positive",
        "data": {"s": survey_id} if survey_id is not None else {},
    }
    return card(body, actions=[save])


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return []


def form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """A submitted card's values as the raw values of a SurveyForm (validated by the caller).

    Teams sends every input as a string (a multi-select as "a,b"); an input left empty may be
    missing altogether, and then the form's own default would hide that it was emptied.
    """
    raw: dict[str, Any] = {}
    for field in FIELDS:
        value = data.get(field)
        if field in MULTI:
            raw[field] = _listed(value)
        elif field == "digest_channel":
            raw[field] = str(value).strip() if value not in (None, "") else None
        else:
            raw[field] = "" if value is None else str(value).strip()
    return raw


def survey_id_of(data: Mapping[str, Any]) -> int | None:
    value = data.get("s")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def saved_text(survey_id: int, created: bool, summary: str, prefix: str) -> str:
    verb = "Created" if created else "Saved"
    return (
        f"{verb} survey {survey_id}.\n{summary}\n\n"
        f"`{prefix} send-now {survey_id}` sends a round straight away; "
        f"`{prefix} status {survey_id}` shows how it is going."
    )
