"""The survey form as an Adaptive Card: valid 1.5, every form field drawn, read back into a SurveyForm."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.commands.forms import CUSTOM, FormErrors, SurveyForm
from bot.teams import cards
from bot.teams.survey_cards import FIELDS, SAVE_VERB, form_values, survey_form_card, survey_id_of
from surveys.banks import BankRegistry
from tests.teams_double import validate_card

PLACES = {"T0000000000000A01": "Oakfield Primary", "T0000000000000B02": "Leadership"}


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in card["body"] if str(e.get("type", "")).startswith("Input.")}


def test_a_new_form_is_valid_and_has_every_field_but_the_user_group(banks: BankRegistry) -> None:
    card = survey_form_card(SurveyForm(), banks=list(banks), conversations=PLACES)
    assert validate_card(card) == []
    assert cards.message_bytes(card) < cards.MAX_MESSAGE_BYTES
    assert list(inputs(card)) == list(FIELDS)
    assert set(SurveyForm.model_fields) - set(FIELDS) == {"usergroup", "custom_schedule", "custom_digest_schedule"}
    assert [a["verb"] for a in card["actions"]] == [SAVE_VERB] and card["actions"][0]["data"] == {}
    fields = inputs(card)
    assert [c["value"] for c in fields["bank_ids"]["choices"]] == [b.id for b in banks]
    assert [c["title"] for c in fields["channels"]["choices"]] == ["Leadership", "Oakfield Primary"]
    assert fields["time"] == {"type": "Input.Time", "id": "time", "label": "At", "value": "09:00"}
    assert fields["k"]["value"] == 5


def test_an_edit_keeps_a_schedule_the_form_cannot_show_and_places_the_app_has_left(banks: BankRegistry) -> None:
    form = SurveyForm(
        cadence=CUSTOM,
        custom_schedule="0 9 1,15 * *",
        channels=["T0000000000000A01", "T00000000000000C3"],
        digest_channel="T0000000000000B02",
        bank_ids=["maturity-strands"],
    )
    card = survey_form_card(form, banks=list(banks), conversations=PLACES, survey_id=4)
    assert validate_card(card) == []
    fields = inputs(card)
    assert card["body"][0]["text"] == "Edit survey 4" and card["actions"][0]["data"] == {"s": 4}
    assert fields["cadence"]["value"] == CUSTOM and "0 9 1,15 * *" in json.dumps(fields["cadence"]["choices"])
    assert fields["channels"]["value"] == "T0000000000000A01,T00000000000000C3"
    assert "not installed there" in json.dumps(fields["channels"]["choices"])
    assert fields["bank_ids"]["value"] == "maturity-strands"


def test_with_the_app_installed_nowhere_the_form_says_what_to_do_first(banks: BankRegistry) -> None:
    card = survey_form_card(SurveyForm(), banks=list(banks), conversations={})
    assert validate_card(card) == [] and "not installed in any channel yet" in json.dumps(card)


def test_submitted_values_read_back_into_the_same_form_rules(banks: BankRegistry) -> None:
    data = {
        "s": 3,
        "name": " Partnership ",
        "bank_ids": "staff-trust-in-leadership",
        "channels": "T0000000000000A01,T00000000000000C3",
        "cadence": "fortnightly",
        "weekday": "tue",
        "time": "10:15",
        "timezone": "Europe/London",
        "items_per_round": 2,
        "round_hours": "48",
        "digest_channel": "T0000000000000B02",
        "digest_weekday": "fri",
        "digest_time": "08:00",
        "k": "5",
    }
    assert survey_id_of(data) == 3 and survey_id_of({"s": True}) is None and survey_id_of({}) is None
    form = SurveyForm.model_validate(form_values(data))
    assert form.channels == ["T0000000000000A01", "T00000000000000C3"] and form.items_per_round == "2"
    config = form.to_config(banks, workspace_id="tenant", platform="teams")
    assert (config.cadence, config.schedule, config.round_hours, config.platform) == (
        "fortnightly",
        "15 10 * * tue",
        48,
        "teams",
    )
    # Emptied inputs are missing from what Teams sends: they must not fall back to defaults.
    emptied = SurveyForm.model_validate(form_values({**data, "time": None, "digest_channel": ""}))
    with pytest.raises(FormErrors) as wrong:
        emptied.to_config(banks, workspace_id="tenant", platform="teams")
    assert set(wrong.value.errors) == {"time", "digest_channel"}


def test_problems_are_drawn_under_their_fields(banks: BankRegistry) -> None:
    errors = {"k": "The anonymity threshold must be between 3 and 100.", "weekday": "Choose a day of the week."}
    card = survey_form_card(
        SurveyForm(k="2"), banks=list(banks), conversations=PLACES, errors=errors, status="Nothing was saved"
    )
    assert validate_card(card) == []
    body = card["body"]
    assert body[1]["color"] == "Attention"
    for field, message in errors.items():
        at = next(n for n, e in enumerate(body) if e.get("id") == field)
        assert body[at + 1]["color"] == "Attention" and message in body[at + 1]["text"]
    assert len([e for e in body if e.get("color") == "Attention"]) == 3
