"""When rounds and digests fall due: cron expressions read in the survey's own time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger


class ScheduleError(ValueError):
    pass


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone '{name}' (use a name like Europe/London)") from None


DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_weekdays(field: str) -> str:
    """Standard cron's day-of-week field in names.

    APScheduler 3 counts 0 as Monday, standard cron counts 0 (and 7) as Sunday; names mean the
    same to both, so "0 9 * * 1" is Monday at nine as anyone who writes cron expects.
    """
    if field == "*" or not any(ch.isdigit() for ch in field):
        return field
    days: list[int] = []
    for part in field.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if body == "*":
            lo, hi = 0, 6
        elif "-" in body:
            a, b = body.split("-", 1)
            lo, hi = _day(a), _day(b)
            if hi == 0 and lo > 0:
                hi = 7  # "5-7" or "5-0": Friday through Sunday
        else:
            lo = hi = _day(body)
            if step_text:
                hi = 6
        if lo > hi or step < 1:
            raise ScheduleError(f"day-of-week '{part}' is not a valid range")
        days.extend(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(DAY_NAMES[d] for d in sorted(set(days)))


def _day(text: str) -> int:
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)
    if text.lower()[:3] in DAY_NAMES:
        return DAY_NAMES.index(text.lower()[:3])
    raise ScheduleError(f"'{text}' is not a day of the week (0-7 or sun-sat)")


def trigger(cron: str, tz: str) -> CronTrigger:
    """A CronTrigger for a five-field cron expression, evaluated in local time (DST-safe)."""
    fields = cron.split()
    if len(fields) != 5:
        raise ScheduleError(f"'{cron}' is not a valid schedule: it needs five fields (minute hour day month weekday)")
    try:
        minute, hour, day, month, weekday = fields
        return CronTrigger(
            minute=minute, hour=hour, day=day, month=month, day_of_week=cron_weekdays(weekday), timezone=zone(tz)
        )
    except ScheduleError:
        raise
    except ValueError as exc:
        raise ScheduleError(f"'{cron}' is not a valid schedule: {exc}") from None


def latest_slot(
    cron: str, tz: str, now: dt.datetime, lookback: dt.timedelta = dt.timedelta(hours=6)
) -> dt.datetime | None:
    """The most recent scheduled time at or before `now` (within `lookback`), in UTC.

    A round is keyed by this slot, so two firings for the same time open one round.
    """
    trig = trigger(cron, tz)
    start = now - lookback
    fire = trig.get_next_fire_time(None, start)
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trig.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
    return latest.astimezone(dt.UTC) if latest is not None else None


def next_slot(cron: str, tz: str, after: dt.datetime) -> dt.datetime | None:
    fire = trigger(cron, tz).get_next_fire_time(None, after)
    return fire.astimezone(dt.UTC) if fire is not None else None
