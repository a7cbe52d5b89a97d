"""Quiet hours, weekends, deferral and reminders' timing: the pure rules of a school year."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from surveys.calendar import QuietRules, RoundTrigger, due_slot, send_time
from surveys.config import SurveyConfig
from surveys.reminders import reminder_due, unanswered

LONDON = "Europe/London"
Z = ZoneInfo(LONDON)
DEFAULT = QuietRules()  # 19:00-07:00, weekends quiet


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    """A London wall-clock time, in UTC."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=Z).astimezone(dt.UTC)


def local(t: dt.datetime | None) -> tuple[int, int, int, int, int] | None:
    if t is None:
        return None
    lt = t.astimezone(Z)
    return (lt.year, lt.month, lt.day, lt.hour, lt.minute)


@pytest.mark.parametrize(
    ("hh", "mm", "quiet"),
    [(6, 59, True), (7, 0, False), (12, 0, False), (18, 59, False), (19, 0, True), (23, 30, True), (0, 0, True)],
)
def test_quiet_hours_run_past_midnight(hh: int, mm: int, quiet: bool) -> None:
    assert DEFAULT.in_quiet_hours(dt.time(hh, mm)) is quiet


def test_quiet_hours_within_a_day_and_switched_off() -> None:
    lunch = QuietRules(dt.time(12, 0), dt.time(13, 30), weekends=False)
    assert [lunch.in_quiet_hours(dt.time(h, m)) for h, m in ((11, 59), (12, 0), (13, 29), (13, 30))] == [
        False,
        True,
        True,
        False,
    ]
    off = QuietRules(None, None, weekends=False)
    assert not off.is_quiet(dt.datetime(2026, 9, 12, 3, 0, tzinfo=Z))  # a Saturday, at 3 a.m.


def test_weekends_are_quiet_all_day_unless_switched_off() -> None:
    saturday_noon = dt.datetime(2026, 9, 12, 12, 0, tzinfo=Z)
    assert DEFAULT.is_quiet(saturday_noon)
    assert not QuietRules(weekends=False).is_quiet(saturday_noon)
    assert not DEFAULT.is_quiet(dt.datetime(2026, 9, 14, 12, 0, tzinfo=Z))  # Monday


def test_a_round_due_in_early_quiet_hours_waits_until_they_end_the_same_day() -> None:
    assert local(send_time(at(2026, 9, 14, 6, 30), LONDON, DEFAULT)) == (2026, 9, 14, 7, 0)


def test_a_round_due_in_evening_quiet_hours_is_skipped_not_sent_next_morning() -> None:
    assert send_time(at(2026, 9, 14, 20, 0), LONDON, DEFAULT) is None


def test_a_round_due_at_a_weekend_is_skipped_and_a_round_outside_quiet_time_is_untouched() -> None:
    assert send_time(at(2026, 9, 12, 9, 0), LONDON, DEFAULT) is None
    assert send_time(at(2026, 9, 12, 9, 0), LONDON, QuietRules(weekends=False)) == at(2026, 9, 12, 9, 0)
    assert send_time(at(2026, 9, 14, 9, 0), LONDON, DEFAULT) == at(2026, 9, 14, 9, 0)


def test_round_trigger_fires_at_send_times_and_never_twice_for_slots_deferred_together() -> None:
    # 05:00, 05:30, 06:00 and 06:30 on Mondays are all deferred to 07:00: one firing, not four.
    trig = RoundTrigger("*/30 5-6 * * 1", LONDON, DEFAULT)
    first = trig.get_next_fire_time(None, at(2026, 9, 13, 12, 0))
    second = trig.get_next_fire_time(first, first)
    assert [local(first), local(second)] == [(2026, 9, 14, 7, 0), (2026, 9, 21, 7, 0)]


def test_round_trigger_for_a_schedule_that_is_always_quiet_never_fires() -> None:
    assert RoundTrigger("0 20 * * 1-5", LONDON, DEFAULT).get_next_fire_time(None, at(2026, 9, 13)) is None
    assert RoundTrigger("0 9 * * 6", LONDON, DEFAULT).get_next_fire_time(None, at(2026, 9, 13)) is None


def test_due_slot_names_the_original_slot_once_its_deferred_send_time_has_come() -> None:
    cron = "30 6 * * 1"
    assert due_slot(cron, LONDON, DEFAULT, at(2026, 9, 14, 6, 45)) is None
    assert due_slot(cron, LONDON, DEFAULT, at(2026, 9, 14, 7, 0)) == at(2026, 9, 14, 6, 30)
    assert due_slot(cron, LONDON, DEFAULT, at(2026, 9, 14, 12, 0)) == at(2026, 9, 14, 6, 30)
    # Six hours after the send time it is no longer "due": a late clock does not open it then.
    assert due_slot(cron, LONDON, DEFAULT, at(2026, 9, 14, 13, 1)) is None
    assert due_slot("0 20 * * 1", LONDON, DEFAULT, at(2026, 9, 14, 21, 0)) is None


def test_reminder_falls_due_hours_before_closing_but_never_before_half_the_window() -> None:
    opened = at(2026, 9, 14, 9, 0)
    assert reminder_due(opened, opened + dt.timedelta(hours=72), 24) == opened + dt.timedelta(hours=48)
    assert reminder_due(opened, opened + dt.timedelta(hours=24), 24) == opened + dt.timedelta(hours=12)
    assert reminder_due(opened, opened + dt.timedelta(hours=72), 0) is None


def test_unanswered_counts_items_from_the_keys_alone() -> None:
    from surveys.keys import RoundKey

    this, other = RoundKey.derive(b"s", 7, b"nonce 7"), RoundKey.derive(b"s", 8, b"nonce 8")
    answered = {this.respondent("bank/a", "U1"), this.respondent("bank/b", "U2")}
    assert unanswered(this, ["bank/a", "bank/b"], "U1", answered) == 1
    assert unanswered(this, ["bank/a", "bank/b"], "U3", answered) == 2
    assert unanswered(other, ["bank/a", "bank/b"], "U1", answered) == 2  # another round's keys differ


def _config(**overrides: object) -> SurveyConfig:
    values: dict[str, object] = {"bank_ids": ["staff-trust-in-leadership"], "audience": ["C1"], "digest_channel": "C2"}
    values.update(overrides)
    return SurveyConfig.model_validate(values)


def test_survey_config_defaults_and_checks_quiet_hours() -> None:
    c = _config()
    assert (c.quiet_start, c.quiet_end, c.quiet_weekends, c.remind_hours) == (dt.time(19), dt.time(7), True, 24)
    assert _config(quiet_start=None, quiet_end=None).quiet_start is None
    assert _config(quiet_start="12:00", quiet_end="13:00").quiet_end == dt.time(13)
    for bad in (
        {"quiet_start": "19:00", "quiet_end": None},
        {"quiet_start": "07:00", "quiet_end": "07:00"},
        {"schedule": "0 21 * * 1"},  # always in quiet hours: no round would ever go out
        {"schedule": "0 9 * * 6"},  # Saturdays only, with weekends quiet
        {"remind_hours": -1},
        {"quiet_start": "25:00"},
    ):
        with pytest.raises(ValidationError):
            _config(**bad)
    assert _config(schedule="0 9 * * 6", quiet_weekends=False).schedule == "0 9 * * 6"
