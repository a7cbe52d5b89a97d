"""The survey form: what coordinators pick becomes a valid SurveyConfig, or errors per field."""

from __future__ import annotations

import pytest

from bot.commands.forms import FormErrors, SurveyForm
from surveys.banks import BankRegistry
from surveys.config import SurveyConfig

BANK = "staff-trust-in-leadership"


def good(**changes: object) -> SurveyForm:
    values: dict[str, object] = {
        "name": "Autumn pulse",
        "bank_ids": [BANK],
        "channels": ["C0SCHOOLA", "C0SCHOOLB"],
        "cadence": "weekly",
        "weekday": "tue",
        "time": "08:30",
        "timezone": "Europe/London",
        "items_per_round": "2",
        "round_hours": "48",
        "digest_channel": "C0LEADERS",
        "digest_weekday": "fri",
        "digest_time": "16:00",
        "k": "5",
    }
    values.update(changes)
    return SurveyForm.model_validate(values)


def errors_of(form: SurveyForm, banks: BankRegistry) -> dict[str, str]:
    with pytest.raises(FormErrors) as caught:
        form.to_config(banks, workspace_id="T1")
    return caught.value.errors


@pytest.mark.parametrize(
    ("cadence", "weekday", "time", "cron"),
    [
        ("weekly", "tue", "08:30", "30 8 * * tue"),
        ("fortnightly", "mon", "09:00", "0 9 * * mon"),
        ("monthly", "wed", "7:05", "5 7 1-7 * wed"),
    ],
)
def test_cadence_becomes_the_surveys_cron(
    banks: BankRegistry, cadence: str, weekday: str, time: str, cron: str
) -> None:
    config = good(cadence=cadence, weekday=weekday, time=time).to_config(banks, workspace_id="T1")
    assert (config.schedule, config.cadence) == (cron, cadence)
    assert config.digest_schedule == "0 16 * * fri"
    assert config.workspace_id == "T1"
    assert (config.items_per_round, config.round_hours, config.k) == (2, 48, 5)
    assert config.audience_kind == "channels" and config.audience == ["C0SCHOOLA", "C0SCHOOLB"]


def test_a_user_group_audience(banks: BankRegistry) -> None:
    config = good(channels=[], usergroup="S0STAFF").to_config(banks, workspace_id=None)
    assert (config.audience_kind, config.audience) == ("usergroup", ["S0STAFF"])


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"k": "2"}, "k", "between 3 and 100"),
        ({"k": "five"}, "k", "whole number"),
        ({"items_per_round": "0"}, "items_per_round", "between 1 and 10"),
        ({"round_hours": "200"}, "round_hours", "at most 168 hours"),
        ({"round_hours": "1000"}, "round_hours", "between 1 and 672"),
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"bank_ids": []}, "bank_ids", "at least one"),
        ({"bank_ids": ["no-such-bank"]}, "bank_ids", "no bank 'no-such-bank'"),
        ({"channels": [], "usergroup": None}, "channels", "Choose the channels"),
        ({"usergroup": "S0STAFF"}, "channels", "not both"),
        ({"digest_channel": None}, "digest_channel", "leaders read"),
        ({"time": "25:00"}, "time", "HH:MM"),
        ({"weekday": "funday"}, "weekday", "day of the week"),
        ({"cadence": "hourly"}, "cadence", "weekly, fortnightly or monthly"),
        ({"digest_time": ""}, "digest_time", "HH:MM"),
        ({"channels": ["not a channel"]}, "channels", "pattern"),
        ({"name": "x" * 201}, "name", "at most 200"),
    ],
)
def test_each_problem_is_reported_on_its_own_field(
    banks: BankRegistry, changes: dict[str, object], field: str, words: str
) -> None:
    errors = errors_of(good(**changes), banks)
    assert field in errors
    assert words in errors[field]


def test_several_problems_are_reported_together(banks: BankRegistry) -> None:
    errors = errors_of(good(k="1", time="x", bank_ids=[]), banks)
    assert set(errors) == {"k", "time", "bank_ids"}


def test_a_fortnightly_round_may_stay_open_two_weeks(banks: BankRegistry) -> None:
    assert good(cadence="fortnightly", round_hours="300").to_config(banks, workspace_id=None).round_hours == 300


def test_from_survey_round_trips(banks: BankRegistry) -> None:
    config = good(cadence="monthly", weekday="thu", time="10:15").to_config(banks, workspace_id="T1")
    survey = config.to_model()
    again = SurveyForm.from_survey(survey).to_config(banks, workspace_id="T1")
    assert again == config


def test_a_schedule_the_form_cannot_show_is_kept(banks: BankRegistry) -> None:
    config = SurveyConfig(
        bank_ids=[BANK], audience=["C0A"], digest_channel="C0L", schedule="0 9 * * 1-5", digest_schedule="0 8 1 * *"
    )
    form = SurveyForm.from_survey(config.to_model())
    assert (form.cadence, form.custom_schedule, form.digest_weekday) == ("custom", "0 9 * * 1-5", "custom")
    kept = form.to_config(banks, workspace_id=None)
    assert (kept.schedule, kept.cadence, kept.digest_schedule) == ("0 9 * * 1-5", "custom", "0 8 1 * *")
    # Choosing a weekly cadence instead replaces it.
    changed = form.model_copy(update={"cadence": "weekly", "weekday": "wed", "time": "12:00"})
    assert changed.to_config(banks, workspace_id=None).schedule == "0 12 * * wed"


def test_segment_labels_are_kept_for_channels_still_in_the_audience(banks: BankRegistry) -> None:
    config = good(channels=["C0SCHOOLA"]).to_config(
        banks, workspace_id=None, segment_labels={"C0SCHOOLA": "Oakfield", "C0GONE": "Elm"}
    )
    assert config.segment_labels == {"C0SCHOOLA": "Oakfield"}
