"""Cadences: weekly, fortnightly and monthly as cron, read back, and alternate weeks skipped."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from surveys.cadence import Cadence, describe_schedule, is_due, read_cadence
from surveys.schedule import next_slot

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("cadence", "cron"),
    [
        (Cadence(kind="weekly", weekday="mon", hour=9, minute=0), "0 9 * * mon"),
        (Cadence(kind="fortnightly", weekday="fri", hour=15, minute=30), "30 15 * * fri"),
        (Cadence(kind="monthly", weekday="tue", hour=8, minute=5), "5 8 1-7 * tue"),
    ],
)
def test_cron_and_back(cadence: Cadence, cron: str) -> None:
    assert cadence.cron() == cron
    assert read_cadence(cron, cadence.kind) == cadence


@pytest.mark.parametrize("cron", ["0 9 * * 1-5", "*/5 * * * *", "0 9 1 * *", "0 25 * * mon", "nonsense"])
def test_other_crons_are_custom(cron: str) -> None:
    assert read_cadence(cron, "custom") is None
    assert describe_schedule(cron, "custom") == f"cron `{cron}`"


def test_numeric_weekdays_are_read_as_standard_cron() -> None:
    assert read_cadence("0 9 * * 1", "custom") == Cadence(kind="weekly", weekday="mon", hour=9, minute=0)
    assert read_cadence("0 9 * * 0", "custom") == Cadence(kind="weekly", weekday="sun", hour=9, minute=0)


def test_monthly_is_the_first_such_weekday() -> None:
    cron = Cadence(kind="monthly", weekday="mon", hour=9, minute=0).cron()
    at = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    fires = []
    for _ in range(4):
        fire = next_slot(cron, "Europe/London", at)
        assert fire is not None
        fires.append(fire.astimezone(LONDON).date())
        at = fire + dt.timedelta(minutes=1)
    assert fires == [dt.date(2026, 9, 7), dt.date(2026, 10, 5), dt.date(2026, 11, 2), dt.date(2026, 12, 7)]
    assert all(d.weekday() == 0 and d.day <= 7 for d in fires)


def test_fortnightly_skips_alternate_weeks_across_a_clock_change() -> None:
    cron = "0 9 * * mon"
    anchor = dt.datetime(2026, 10, 14, 12, 0, tzinfo=dt.UTC)  # a Wednesday; clocks go back on 25 October
    mondays = [dt.datetime(2026, 10, 19, 9, tzinfo=LONDON) + dt.timedelta(weeks=n) for n in range(6)]
    due = [is_due("fortnightly", cron, "Europe/London", anchor, m.astimezone(dt.UTC)) for m in mondays]
    assert due == [True, False, True, False, True, False]
    assert all(is_due("weekly", cron, "Europe/London", anchor, m.astimezone(dt.UTC)) for m in mondays)


def test_nothing_before_the_anchor_is_due() -> None:
    anchor = dt.datetime(2026, 10, 14, tzinfo=dt.UTC)
    before = dt.datetime(2026, 10, 12, 8, tzinfo=dt.UTC)
    assert not is_due("fortnightly", "0 9 * * mon", "Europe/London", anchor, before)
