"""The modal, App Home and delete confirmation as data, checked against Slack's limits."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from bot.commands.forms import SurveyForm
from bot.slack import views
from surveys.banks import BankRegistry
from surveys.management import RoundStatus, SurveyStatus
from surveys.participant import MyItem, MyRound
from tests.slack_double import validate_blocks, validate_view

NOW = dt.datetime(2026, 9, 7, 8, tzinfo=dt.UTC)


def filled() -> SurveyForm:
    return SurveyForm(
        name="Autumn",
        bank_ids=["staff-trust-in-leadership", "maturity-strands"],
        channels=["C0A", "C0B"],
        cadence="fortnightly",
        weekday="wed",
        time="10:30",
        timezone="Asia/Tokyo",
        items_per_round="3",
        round_hours="96",
        digest_channel="C0L",
        digest_weekday="mon",
        digest_time="07:45",
        k="6",
    )


def state_of(view: dict[str, Any]) -> dict[str, Any]:
    """The state Slack would send back for a modal nobody touched: each element's initial value."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        el = block["element"]
        kind = el["type"]
        if kind == "multi_static_select":
            entry = {"selected_options": el.get("initial_options", [])}
        elif kind == "static_select":
            entry = {"selected_option": el.get("initial_option")}
        elif kind == "multi_conversations_select":
            entry = {"selected_conversations": el.get("initial_conversations", [])}
        elif kind == "conversations_select":
            entry = {"selected_conversation": el.get("initial_conversation")}
        elif kind == "timepicker":
            entry = {"selected_time": el.get("initial_time")}
        else:
            entry = {"value": el.get("initial_value")}
        values[block["block_id"]] = {el["action_id"]: {"type": kind, **entry}}
    return values


def test_the_new_survey_modal_is_valid_and_has_every_field(banks: BankRegistry) -> None:
    view = views.survey_modal(SurveyForm(), banks=list(banks), usergroups=[("S1", "staff")])
    assert validate_view(view, surface="modal") == []
    assert [b["block_id"] for b in view["blocks"]] == list(views.FIELDS)
    assert views.survey_id_of(view["private_metadata"]) is None
    k = next(b for b in view["blocks"] if b["block_id"] == "k")["element"]
    assert (k["initial_value"], k["min_value"]) == ("5", "3")


def test_without_user_groups_the_group_field_is_left_out(banks: BankRegistry) -> None:
    view = views.survey_modal(SurveyForm(), banks=list(banks))
    assert validate_view(view, surface="modal") == []
    assert "usergroup" not in [b["block_id"] for b in view["blocks"]]


def test_an_untouched_edit_modal_gives_back_the_same_form(banks: BankRegistry) -> None:
    form = filled()
    view = views.survey_modal(form, banks=list(banks), survey_id=12)
    assert validate_view(view, surface="modal") == []
    assert view["title"]["text"] == "Edit survey 12" and views.survey_id_of(view["private_metadata"]) == 12
    again = SurveyForm.model_validate(views.form_from_state(state_of(view)))
    assert again == form


def test_a_custom_schedule_is_offered_as_kept(banks: BankRegistry) -> None:
    form = SurveyForm(
        cadence="custom", custom_schedule="0 9 * * 1-5", digest_weekday="custom", custom_digest_schedule="0 8 1 * *"
    )
    view = views.survey_modal(form, banks=list(banks))
    assert validate_view(view, surface="modal") == []
    state = views.form_from_state(state_of(view))
    assert (state["cadence"], state["digest_weekday"]) == ("custom", "custom")
    assert "0 9 * * 1-5" in json.dumps(view)


def test_cleared_fields_come_back_empty_not_defaulted() -> None:
    values = {
        "time": {"value": {"type": "timepicker", "selected_time": None}},
        "usergroup": {"value": {"type": "static_select", "selected_option": None}},
        "bank_ids": {"value": {"type": "multi_static_select", "selected_options": []}},
    }
    assert views.form_from_state(values) == {"time": "", "usergroup": None, "bank_ids": []}


@pytest.mark.parametrize(
    "metadata", ["", "not json", "[]", '{"survey_id": "3"}', '{"survey_id": true}', '{"survey_id": -2}']
)
def test_bad_private_metadata_means_a_new_survey(metadata: str) -> None:
    assert views.survey_id_of(metadata) is None


def test_field_errors_fit_slacks_limits() -> None:
    errors = views.field_errors({"k": "x" * 400, "custom_schedule": "bad"})
    assert errors == {"k": "x" * 150, "name": "bad"}


def test_delete_confirmation_has_a_confirm_dialog() -> None:
    blocks = views.delete_confirmation(4, "Autumn pulse")
    assert validate_blocks(blocks) == []
    delete = blocks[1]["elements"][0]
    assert (delete["action_id"], delete["value"], delete["style"]) == (views.DELETE_CONFIRMED, "4", "danger")
    assert delete["confirm"]["confirm"]["text"] == "Delete"


def status(survey_id: int, *, paused: bool = False, too_few: bool = False) -> SurveyStatus:
    return SurveyStatus(
        survey_id=survey_id,
        name=f"Survey {survey_id}",
        paused=paused,
        timezone="Europe/London",
        schedule_text="every Monday at 09:00",
        next_run=None if paused else NOW,
        latest_round=RoundStatus(
            seq=3,
            opened_at=NOW,
            closes_at=NOW,
            open=True,
            audience_size=40,
            answers_per_item=None if too_few else 17.0,
            too_few=too_few,
        ),
        failed_deliveries=2,
        k=5,
    )


def my_round() -> MyRound:
    return MyRound(
        1,
        "Trust pulse",
        3,
        NOW + dt.timedelta(days=2),
        "Europe/London",
        5,
        (MyItem("a", "Leaders keep their word.", ("Agree",)), MyItem("b", "I can speak up.", ())),
    )


def test_staff_home_shows_their_items_answers_and_the_anonymity_note() -> None:
    view = views.home_view(rounds=[my_round()], k=5)
    assert validate_view(view, surface="home") == []
    text = json.dumps(view)
    assert "you answered *Agree*" in text and "_not answered yet_" in text
    assert "How your anonymity is protected" in text and "fewer than 5 people" in text
    assert "Your surveys" not in text and "pulse:" not in text


def test_coordinator_home_has_each_survey_with_its_buttons() -> None:
    view = views.home_view(rounds=[], k=5, surveys=[status(1), status(2, paused=True, too_few=True)])
    assert validate_view(view, surface="home") == []
    actions = [b for b in view["blocks"] if b["type"] == "actions"]
    ids = [[e["action_id"] for e in a["elements"]] for a in actions]
    assert ids == [
        ["pulse:edit", "pulse:pause", "pulse:send-now", views.DELETE_CONFIRMED],
        ["pulse:edit", "pulse:resume", views.DELETE_CONFIRMED],
    ]
    text = json.dumps(view)
    assert "17 answers per item of 40" in text and "fewer than 5 answers per item" in text
    assert "none while paused" in text and "2 message(s) not delivered" in text


def test_home_stays_within_100_blocks_however_much_there_is() -> None:
    digest = [{"type": "section", "text": {"type": "mrkdwn", "text": f"line {i}"}} for i in range(60)]
    view = views.home_view(
        rounds=[my_round()] * 30,
        k=5,
        surveys=[status(i) for i in range(1, 40)],
        digests=[("A", digest), ("B", digest)],
        notice="Survey 3 paused.",
    )
    assert validate_view(view, surface="home") == []
    assert len(view["blocks"]) <= 100
    assert view["blocks"][-1]["type"] == "context"  # the anonymity note always stays
    assert "And 19 more" in json.dumps(view)


def test_flatten_takes_one_or_several_messages() -> None:
    a, b = {"type": "divider"}, {"type": "divider"}
    assert views.flatten([a, b]) == [a, b]
    assert views.flatten([[a], [b]]) == [a, b]
    assert views.flatten([]) == []


def test_a_chosen_user_group_can_be_given_up_again(banks: BankRegistry) -> None:
    view = views.survey_modal(SurveyForm(usergroup="S1"), banks=list(banks), usergroups=[("S1", "staff")])
    group = next(b for b in view["blocks"] if b["block_id"] == "usergroup")["element"]
    assert group["initial_option"]["value"] == "S1"
    assert group["options"][0]["value"] == views.NO_GROUP
    chosen = {"usergroup": {"value": {"type": "static_select", "selected_option": {"value": views.NO_GROUP}}}}
    assert views.form_from_state(chosen) == {"usergroup": None}


def test_home_warns_a_coordinator_of_a_bank_that_is_no_longer_loaded() -> None:
    fine = status(1)
    lacking = dataclasses.replace(status(2), missing_banks=("our-own-bank",))
    view = views.home_view(rounds=[], k=5, surveys=[fine, lacking])
    assert validate_view(view, surface="home") == []
    texts = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    [one, two] = [t for t in texts if t.startswith("*Survey")]
    assert "not loaded" not in one
    assert ":warning: Bank 'our-own-bank' is not loaded, so no round can go out" in two
    assert "PULSE_BANKS_DIR" in two
