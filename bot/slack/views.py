"""The survey modal, the App Home tab and the delete confirmation, built by pure functions.

No I/O: each builder takes plain data and returns Block Kit, so the tests validate them with
the Slack double's validate_view / validate_blocks. Each form field's input block uses the
field's own name as block_id, so a FormErrors dict maps onto `response_action: errors` as is.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from bot.commands.forms import CUSTOM, INPUT_FIELDS, SurveyForm
from bot.promises import HOME_PROMISE
from bot.slack.blocks import Block, esc, local_time, text_object
from surveys.banks import Bank
from surveys.cadence import WEEKDAY_LABELS, WEEKDAYS
from surveys.management import SurveyStatus
from surveys.participant import MyRound

SURVEY_CALLBACK = "pulse_survey"
VALUE = "value"
# Buttons that run a command for a survey: action_id "pulse:<verb>", value the survey id.
ACTION_PREFIX = "pulse:"
DELETE_CONFIRMED = "pulse:delete-confirmed"
DELETE_KEPT = "pulse:delete-kept"
CLOSE_CONFIRMED = "pulse:close-confirmed"
CLOSE_KEPT = "pulse:close-kept"
# A single select cannot be emptied once chosen, so "no user group" is an option of its own.
NO_GROUP = "none"
MAX_HOME_BLOCKS = 100
MAX_HOME_SURVEYS = 20

FIELDS = INPUT_FIELDS
ANONYMITY_PROMISE = ":lock: " + HOME_PROMISE + " What you answered this round is shown here to you alone."


def _plain(text: str) -> dict[str, Any]:
    return text_object(text, "plain_text")


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _plain(label[:75]), "value": value}


def _input(field: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str = "") -> Block:
    block: Block = {
        "type": "input",
        "block_id": field,
        "label": _plain(label),
        "element": {**element, "action_id": VALUE},
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


# Slack takes at most 100 options in a select, or at most 100 labelled groups of 100 each.
MAX_OPTIONS = 100
KIND_TITLES = {"statements": "Trust audits", "strands": "Maturity strands", "picks": "Trust behaviours"}
Option = dict[str, Any]


def _choices(groups: Sequence[tuple[str, list[Option]]]) -> dict[str, Any]:
    """A select's choices: one flat list while they fit, else labelled groups of at most 100, so
    that none is dropped (a group too long for one is split and numbered)."""
    flat = [o for _, options in groups for o in options]
    if len(flat) <= MAX_OPTIONS:
        return {"options": flat}
    out = []
    for label, options in groups:
        for start in range(0, len(options), MAX_OPTIONS):
            part = f" {start // MAX_OPTIONS + 1}" if len(options) > MAX_OPTIONS else ""
            label_text = _plain(f"{label[: 75 - len(part)]}{part}")
            out.append({"label": label_text, "options": options[start : start + MAX_OPTIONS]})
    return {"option_groups": out[:MAX_OPTIONS]}


def _static(
    options: list[Option], initial: str | None, placeholder: str, *, groups: Sequence[tuple[str, list[Option]]] = ()
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "placeholder": _plain(placeholder)}
    element.update(_choices(groups or [("", options)]))
    every = [o for _, group in groups for o in group] if groups else options
    chosen = next((o for o in every if o["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def _number(value: str, low: int, high: int) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "number_input",
        "is_decimal_allowed": False,
        "min_value": str(low),
        "max_value": str(high),
    }
    if value.strip().isdigit():
        element["initial_value"] = value.strip()
    return element


def _time(value: str) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "timepicker", "placeholder": _plain("Time")}
    if len(value) == 5 and value[2] == ":":
        element["initial_time"] = value
    return element


def _weekdays(include_custom: str | None = None) -> list[dict[str, Any]]:
    options = [_option(WEEKDAY_LABELS[d], d) for d in WEEKDAYS]
    if include_custom:
        options.append(_option(f"Keep the current schedule ({include_custom})", CUSTOM))
    return options


def survey_modal(
    form: SurveyForm,
    *,
    banks: Iterable[Bank],
    usergroups: Sequence[tuple[str, str]] = (),
    survey_id: int | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The new/edit survey form; `errors` (field -> problem) are shown under their fields, for a
    form sent back after checks that could only run once Slack had its answer."""
    by_kind: dict[str, list[Option]] = {}
    for b in banks:
        by_kind.setdefault(b.kind, []).append(_option(f"{b.title} ({b.id})", b.id))
    by_id = {o["value"]: o for options in by_kind.values() for o in options}
    # In the survey's own order: it decides how a round's items are shared between banks.
    chosen_banks = [by_id[b] for b in form.bank_ids if b in by_id]
    banks_element: dict[str, Any] = {
        "type": "multi_static_select",
        "placeholder": _plain("Choose banks"),
        **_choices([(KIND_TITLES.get(kind, kind.capitalize()), options) for kind, options in by_kind.items()]),
    }
    if chosen_banks:
        banks_element["initial_options"] = chosen_banks

    channels_element: dict[str, Any] = {
        "type": "multi_conversations_select",
        "placeholder": _plain("One channel per school"),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if form.channels:
        channels_element["initial_conversations"] = list(form.channels)

    cadence_options = [
        _option("Weekly", "weekly"),
        _option("Fortnightly (every other week)", "fortnightly"),
        _option("Monthly (first such weekday)", "monthly"),
    ]
    if form.cadence == CUSTOM and form.custom_schedule:
        cadence_options.append(_option(f"Keep the current schedule ({form.custom_schedule})", CUSTOM))

    digest_element: dict[str, Any] = {
        "type": "conversations_select",
        "placeholder": _plain("Where leaders read the digest"),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if form.digest_channel:
        digest_element["initial_conversation"] = form.digest_channel

    blocks: list[Block] = [
        _input("name", "Name", {"type": "plain_text_input", "initial_value": form.name, "max_length": 200}),
        _input("bank_ids", "Question banks", banks_element, hint="Several banks take turns within each round."),
        _input(
            "channels",
            "School channels",
            channels_element,
            optional=True,
            hint="One channel per school; answers are counted per channel. Invite the app to each.",
        ),
    ]
    if usergroups or form.usergroup:
        groups = [_option(f"@{name}", gid) for gid, name in usergroups]
        if form.usergroup and form.usergroup not in {g for g, _ in usergroups}:
            groups.append(_option(form.usergroup, form.usergroup))
        none = [_option("None: send to the school channels", NO_GROUP)]
        choices = [("No user group", none), ("User groups", groups)]
        blocks.append(
            _input(
                "usergroup",
                "Or a user group, answered by direct message",
                _static([], form.usergroup or NO_GROUP, "Choose a user group", groups=choices),
                optional=True,
            )
        )
    blocks += [
        _input("cadence", "How often", _static(cadence_options, form.cadence, "How often")),
        _input("weekday", "On", _static(_weekdays(), form.weekday, "Day of the week")),
        _input("time", "At", _time(form.time)),
        _input(
            "timezone",
            "Time zone",
            {"type": "plain_text_input", "initial_value": form.timezone, "max_length": 64},
            hint="A name like Europe/London; daylight saving is followed.",
        ),
        _input("items_per_round", "Items per round", _number(form.items_per_round, 1, 10)),
        _input(
            "round_hours",
            "Hours a round stays open",
            _number(form.round_hours, 1, 24 * 28),
            hint="72 hours is three days. A round closes before the next one opens.",
        ),
        _input("digest_channel", "Leaders' digest channel", digest_element),
        _input(
            "digest_weekday",
            "Digest day",
            _static(_weekdays(form.custom_digest_schedule), form.digest_weekday, "Day of the week"),
        ),
        _input("digest_time", "Digest time", _time(form.digest_time)),
        _input(
            "k",
            "Anonymity threshold",
            _number(form.k, 3, 100),
            hint="Figures with fewer people behind them are hidden. 5 is the default; never below 3.",
        ),
    ]
    if errors:
        blocks = _with_errors(blocks, field_errors(errors))
    title = "New survey" if survey_id is None else f"Edit survey {survey_id}"
    return {
        "type": "modal",
        "callback_id": SURVEY_CALLBACK,
        "private_metadata": json.dumps({"survey_id": survey_id}),
        "title": _plain(title[:24]),
        "submit": _plain("Save"),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def _with_errors(blocks: list[Block], errors: dict[str, str]) -> list[Block]:
    out: list[Block] = []
    for block in blocks:
        out.append(block)
        problem = errors.get(str(block.get("block_id")))
        if problem:
            out.append({"type": "context", "elements": [text_object(f":warning: {esc(problem)}")]})
    return out


def saving_modal() -> dict[str, Any]:
    """What the form turns into the moment it is sent, while the survey is checked and saved."""
    return notice_modal("Saving…", "Checking the channels and saving the survey; this takes a moment.")


def survey_id_of(private_metadata: str) -> int | None:
    try:
        value = json.loads(private_metadata or "{}").get("survey_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _state_value(entry: dict[str, Any]) -> Any:
    if "selected_options" in entry:
        return [o.get("value") for o in entry.get("selected_options") or [] if isinstance(o, dict)]
    if "selected_option" in entry:
        return (entry.get("selected_option") or {}).get("value")
    if "selected_conversations" in entry:
        return list(entry.get("selected_conversations") or [])
    if "selected_conversation" in entry:
        return entry.get("selected_conversation")
    if "selected_time" in entry:
        return entry.get("selected_time")
    return entry.get("value")


def form_from_state(values: dict[str, Any]) -> dict[str, Any]:
    """The submitted modal's state as the raw values of a SurveyForm (validated by the caller)."""
    raw: dict[str, Any] = {}
    for field in FIELDS:
        entry = (values.get(field) or {}).get(VALUE)
        if not isinstance(entry, dict):
            continue
        value = _state_value(entry)
        if value is None or (field == "usergroup" and value == NO_GROUP):
            value = "" if field not in ("usergroup", "digest_channel") else None
        raw[field] = value
    return raw


def field_errors(errors: dict[str, str]) -> dict[str, str]:
    """FormErrors as `response_action: errors` wants them: block_id -> message (<150 chars)."""
    return {(field if field in FIELDS else "name"): message[:150] for field, message in errors.items()}


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something: the result of a submission, or a refusal."""
    return {
        "type": "modal",
        "callback_id": "pulse_notice",
        "title": _plain(title[:24]),
        "close": _plain("Close"),
        "blocks": [{"type": "section", "text": text_object(text[:3000])}],
    }


def delete_confirmation(survey_id: int, name: str) -> list[Block]:
    """The ephemeral question `delete` asks, with Slack's own confirm dialog on the button."""
    return [
        {
            "type": "section",
            "text": text_object(
                f"Delete survey {survey_id}, *{esc(name[:150])}*? Its rounds and all its results are deleted too, "
                "and this cannot be undone. To stop it for a while instead, pause it."
            ),
        },
        {
            "type": "actions",
            "block_id": f"delete:{survey_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": DELETE_CONFIRMED,
                    "style": "danger",
                    "text": _plain("Delete it"),
                    "value": str(survey_id),
                    "confirm": {
                        "title": _plain("Delete this survey?"),
                        "text": _plain(f"Survey {survey_id} and all its results will be gone for good."),
                        "confirm": _plain("Delete"),
                        "deny": _plain("Keep it"),
                        "style": "danger",
                    },
                },
                {"type": "button", "action_id": DELETE_KEPT, "text": _plain("Keep it"), "value": str(survey_id)},
            ],
        },
    ]


def close_confirmation(survey_id: int, name: str, round_id: int, seq: int) -> list[Block]:
    """The ephemeral question `close` asks, with Slack's own confirm dialog on the button. The
    button carries the round's id: a round opened meanwhile is not the one closed."""
    value = f"{survey_id}:{round_id}"
    return [
        {
            "type": "section",
            "text": text_object(
                f"Close round {seq} of *{esc(name[:150])}* now? It is sealed at once: nobody can answer it or "
                "change an answer any more, and its results are in the digest straight away."
            ),
        },
        {
            "type": "actions",
            "block_id": f"close:{survey_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": CLOSE_CONFIRMED,
                    "style": "danger",
                    "text": _plain("Close it now"),
                    "value": value,
                    "confirm": {
                        "title": _plain("Close this round?"),
                        "text": _plain(f"Round {seq} will be sealed and can no longer be answered."),
                        "confirm": _plain("Close it"),
                        "deny": _plain("Keep it open"),
                        "style": "danger",
                    },
                },
                {"type": "button", "action_id": CLOSE_KEPT, "text": _plain("Keep it open"), "value": value},
            ],
        },
    ]


# -- App Home -----------------------------------------------------------------------------------


def _local(at: dt.datetime | None, tz: str) -> str:
    return local_time(at, tz) if at is not None else "—"


def _my_rounds_blocks(rounds: Sequence[MyRound]) -> list[Block]:
    blocks: list[Block] = [{"type": "header", "text": _plain("Open for you")}]
    if not rounds:
        blocks.append(
            {
                "type": "section",
                "text": text_object("Nothing is open for you right now. New items arrive in your channel."),
            }
        )
    for r in rounds:
        lines = []
        for item in r.items:
            mark = f"you answered *{', '.join(item.answered)}*" if item.answered else "_not answered yet_"
            lines.append(f"• {esc(item.text[:300])}\n      {mark}")
        heading = f"*{esc(r.survey_name[:150])}*, round {r.round_seq} · open until {_local(r.closes_at, r.timezone)}"
        blocks.append({"type": "section", "text": text_object("\n".join([heading, *lines])[:3000])})
    return blocks


def _survey_blocks(st: SurveyStatus) -> list[Block]:
    r = st.latest_round
    if r is None:
        participation = "no rounds yet"
    elif r.too_few:
        participation = f"round {r.seq}: fewer than {st.k} answers per item"
    else:
        participation = f"round {r.seq}: {r.answers_per_item:.0f} answers per item of {r.audience_size}"
    next_run = _local(st.next_run, st.timezone) if st.next_run else "none while paused"
    warning = f"\n:warning: {st.failed_deliveries} message(s) not delivered" if st.failed_deliveries else ""
    if st.missing_banks_text:
        warning += f"\n:warning: {esc(st.missing_banks_text[0].upper() + st.missing_banks_text[1:])}."
    text = (
        f"*{esc(st.name[:150])}* (`{st.survey_id}`) — {'paused' if st.paused else 'active'}\n"
        f"{st.schedule_text} · next round {next_run} · {participation}{warning}"
    )
    sid = str(st.survey_id)
    buttons: list[dict[str, Any]] = [
        {"type": "button", "action_id": f"{ACTION_PREFIX}edit", "text": _plain("Edit"), "value": sid},
        {
            "type": "button",
            "action_id": f"{ACTION_PREFIX}{'resume' if st.paused else 'pause'}",
            "text": _plain("Resume" if st.paused else "Pause"),
            "value": sid,
        },
    ]
    if not st.paused:
        buttons.append(
            {"type": "button", "action_id": f"{ACTION_PREFIX}send-now", "text": _plain("Send now"), "value": sid}
        )
    buttons.append(
        {
            "type": "button",
            "action_id": DELETE_CONFIRMED,
            "style": "danger",
            "text": _plain("Delete"),
            "value": sid,
            "confirm": {
                "title": _plain("Delete this survey?"),
                "text": _plain(f"Survey {sid} and all its results will be gone for good."),
                "confirm": _plain("Delete"),
                "deny": _plain("Keep it"),
                "style": "danger",
            },
        }
    )
    return [
        {"type": "section", "text": text_object(text)},
        {"type": "actions", "block_id": f"survey:{sid}", "elements": buttons},
    ]


def home_view(
    *,
    rounds: Sequence[MyRound],
    k: int,
    surveys: Sequence[SurveyStatus] | None = None,
    digests: Sequence[tuple[str, list[Block]]] = (),
    notice: str | None = None,
) -> dict[str, Any]:
    """The App Home tab: what is open for this person, and more for coordinators and leaders.

    `surveys` is given only to coordinators; `digests` (title, blocks) only to leaders.
    """
    blocks: list[Block] = []
    if notice:
        blocks.append({"type": "context", "elements": [text_object(notice[:3000])]})
    if surveys is not None:
        blocks.append({"type": "header", "text": _plain("Your surveys")})
        if not surveys:
            blocks.append({"type": "section", "text": text_object("No surveys yet. `/pulse new` sets one up.")})
        for st in surveys[:MAX_HOME_SURVEYS]:
            blocks += _survey_blocks(st)
        if len(surveys) > MAX_HOME_SURVEYS:
            more = len(surveys) - MAX_HOME_SURVEYS
            blocks.append({"type": "context", "elements": [text_object(f"And {more} more: `/pulse surveys`.")]})
        blocks.append({"type": "divider"})
    for title, digest in digests:
        room = MAX_HOME_BLOCKS - len(blocks) - 8
        if room < 3:
            break
        blocks.append({"type": "header", "text": _plain(f"Latest digest: {title}"[:150])})
        blocks += digest[: room - 1]
        blocks.append({"type": "divider"})
    my = _my_rounds_blocks(rounds)
    blocks += my[: max(0, MAX_HOME_BLOCKS - len(blocks) - 2)]
    blocks.append({"type": "divider"})
    blocks.append({"type": "context", "elements": [text_object(ANONYMITY_PROMISE.format(k=k))]})
    return {"type": "home", "callback_id": "pulse_home", "blocks": blocks[:MAX_HOME_BLOCKS]}


def flatten(blocks: Any) -> list[Block]:
    """Digest blocks as one list, whether a builder returns one message's blocks or several."""
    if blocks and isinstance(blocks[0], list):
        return [b for message in blocks for b in message]
    return list(blocks)
