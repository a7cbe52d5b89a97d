"""Daylight saving never moves a local send time, and never doubles or loses a slot.

Each zone's two clock changes are crossed: Europe/London (last Sundays of March and October),
America/New_York (second Sunday of March, first of November) and Australia/Sydney (first Sundays
of October and April, the other way round).
"""

from __future__ import annotations

import datetime as dt
from itertools import islice, pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.calendar import QuietRules, RoundTrigger
from surveys.schedule import latest_slot, next_slot, trigger

ZONES = ("Europe/London", "America/New_York", "Australia/Sydney")
# (zone, a local date a few weeks before a change, the date of the change)
CHANGES = [
    ("Europe/London", dt.date(2026, 3, 2), dt.date(2026, 3, 29)),
    ("Europe/London", dt.date(2026, 10, 5), dt.date(2026, 10, 25)),
    ("America/New_York", dt.date(2026, 2, 16), dt.date(2026, 3, 8)),
    ("America/New_York", dt.date(2026, 10, 12), dt.date(2026, 11, 1)),
    ("Australia/Sydney", dt.date(2026, 3, 16), dt.date(2026, 4, 5)),
    ("Australia/Sydney", dt.date(2026, 9, 14), dt.date(2026, 10, 4)),
]


def _start(tz: str, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)


def _exists(naive: dt.datetime, tz: ZoneInfo) -> bool:
    """Whether a wall-clock time happens at all in `tz` (it does not inside a spring-forward gap)."""
    return naive.replace(tzinfo=tz).astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) == naive


@pytest.mark.parametrize(("tz", "before", "change"), CHANGES)
def test_weekly_monday_nine_stays_nine_local_across_the_change(tz: str, before: dt.date, change: dt.date) -> None:
    slots = list(islice(trigger("0 9 * * 1", tz).slots_from(_start(tz, before)), 8))
    local = [s.astimezone(ZoneInfo(tz)) for s in slots]
    assert all((t.weekday(), t.hour, t.minute) == (0, 9, 0) for t in local)
    assert [(b.date() - a.date()).days for a, b in pairwise(local)] == [7] * 7
    # The UTC time did move: the schedule follows the wall clock, not UTC.
    assert len({s.time() for s in slots}) == 2


@pytest.mark.parametrize(("tz", "before", "change"), CHANGES)
def test_round_trigger_with_quiet_hours_also_keeps_nine_local(tz: str, before: dt.date, change: dt.date) -> None:
    trig = RoundTrigger("0 9 * * 1", tz, QuietRules())
    fires: list[dt.datetime] = []
    now = _start(tz, before)
    prev = None
    for _ in range(8):
        prev = trig.get_next_fire_time(prev, now)
        assert prev is not None
        fires.append(prev)
    assert all((t.astimezone(ZoneInfo(tz)).weekday(), t.astimezone(ZoneInfo(tz)).hour) == (0, 9) for t in fires)


@pytest.mark.parametrize(("tz", "before", "change"), CHANGES)
@pytest.mark.parametrize("cron_time", [(30, 1), (30, 2), (0, 2), (0, 3), (45, 0)])
def test_daily_slot_in_the_changing_hour_fires_once_a_day(
    tz: str, before: dt.date, change: dt.date, cron_time: tuple[int, int]
) -> None:
    minute, hour = cron_time
    _check_daily(tz, hour, minute, change - dt.timedelta(days=3), days=7)


@given(
    tz=st.sampled_from(ZONES),
    day=st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 12, 31)),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 1, 15, 30, 45, 59]),
)
@settings(max_examples=150, deadline=None)
def test_any_daily_time_on_any_date_gives_exactly_one_slot_per_local_day(
    tz: str, day: dt.date, hour: int, minute: int
) -> None:
    _check_daily(tz, hour, minute, day, days=5)


@given(
    tz=st.sampled_from(ZONES),
    start=st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 12, 31)),
    cron=st.sampled_from(["*/20 0-4 * * *", "0 * * * *", "30 1,2 * * 0", "15 2 * * *"]),
)
@settings(max_examples=150, deadline=None)
def test_fire_times_strictly_increase_as_apscheduler_walks_them(tz: str, start: dt.datetime, cron: str) -> None:
    """APScheduler asks for the next fire after the previous one until it passes `now`; a trigger
    that returns the same time again would hang it (the stock CronTrigger does, when clocks go back)."""
    trig = trigger(cron, tz)
    now = start.replace(tzinfo=dt.UTC) + dt.timedelta(days=3)
    fire = trig.get_next_fire_time(None, start.replace(tzinfo=dt.UTC))
    seen = []
    while fire is not None and fire <= now:
        assert not seen or fire > seen[-1]
        seen.append(fire)
        assert len(seen) < 1000
        fire = trig.get_next_fire_time(fire, now)
    # Every wall-clock match happened once: no slot twice at the same local wall time and date.
    walls = [s.astimezone(ZoneInfo(tz)).replace(tzinfo=None) for s in seen]
    assert len(walls) == len(set(walls))


def _check_daily(tz: str, hour: int, minute: int, first_day: dt.date, *, days: int) -> None:
    zone = ZoneInfo(tz)
    slots = list(islice(trigger(f"{minute} {hour} * * *", tz).slots_from(_start(tz, first_day)), days))
    local = [s.astimezone(zone) for s in slots]
    assert slots == sorted(set(slots)), "slots must strictly increase"
    assert [t.date() for t in local] == [first_day + dt.timedelta(days=i) for i in range(days)]
    for t in local:
        wanted = dt.datetime.combine(t.date(), dt.time(hour, minute))
        if _exists(wanted, zone):
            assert (t.hour, t.minute) == (hour, minute)
        else:
            # Skipped by the clocks going forward: sent as soon as the gap is over, not lost.
            assert dt.timedelta(0) < t.replace(tzinfo=None) - wanted <= dt.timedelta(hours=2)


def test_latest_and_next_slot_inside_the_repeated_hour_answer_at_once() -> None:
    """latest_slot walked APScheduler's fire times and never returned inside the autumn fold."""
    tz = "Europe/London"
    first_0130 = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)  # 01:30 BST
    second_0130 = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)  # 01:30 GMT, the same wall time
    assert latest_slot("30 1 * * *", tz, second_0130 + dt.timedelta(minutes=5)) == first_0130
    assert latest_slot("30 1 * * *", tz, dt.datetime(2026, 10, 25, 3, 0, tzinfo=dt.UTC)) == first_0130
    assert next_slot("30 1 * * *", tz, first_0130 + dt.timedelta(seconds=1)) == dt.datetime(
        2026, 10, 26, 1, 30, tzinfo=dt.UTC
    )
