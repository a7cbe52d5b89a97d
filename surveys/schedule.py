"""When rounds and digests fall due: cron expressions read in the survey's own time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
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


# Longer than any clock change anywhere (most are an hour; none exceeds two).
_GAP_MARGIN = dt.timedelta(hours=3)


class LocalCronTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 ships no types
    """A five-field cron schedule matched against the wall clock of one time zone.

    APScheduler's own CronTrigger fires twice in the hour that happens twice when the clocks go
    back, and from then on keeps returning the same time, so anything that walks its fire times
    never ends. Here the fields are matched on naive wall-clock time (a CronTrigger in UTC, which
    has no clock changes) and each match is placed in the zone once, as cron does: a repeated
    time at its first occurrence, a time the clocks skip moved forward by the gap. Fire times are
    strictly increasing, so no slot is doubled and none is lost.
    """

    __slots__ = ("_wall", "cron", "tz", "zone")

    def __init__(self, cron: str, tz: str) -> None:
        fields = cron.split()
        if len(fields) != 5:
            raise ScheduleError(
                f"'{cron}' is not a valid schedule: it needs five fields (minute hour day month weekday)"
            )
        minute, hour, day, month, weekday = fields
        self.cron = cron
        self.tz = tz
        self.zone = zone(tz)
        try:
            self._wall = CronTrigger(
                minute=minute, hour=hour, day=day, month=month, day_of_week=cron_weekdays(weekday), timezone=dt.UTC
            )
        except ScheduleError:
            raise
        except ValueError as exc:
            raise ScheduleError(f"'{cron}' is not a valid schedule: {exc}") from None

    def slots_from(self, start: dt.datetime) -> Iterator[dt.datetime]:
        """Every scheduled time at or after `start`, in UTC, strictly increasing."""
        wall = start.astimezone(self.zone).replace(tzinfo=dt.UTC) - _GAP_MARGIN
        last: dt.datetime | None = None
        fire: dt.datetime | None = self._wall.get_next_fire_time(None, wall)
        while fire is not None:
            # fold=0: a repeated wall time is its first occurrence; a skipped one lands after the gap.
            at = fire.replace(tzinfo=self.zone).astimezone(dt.UTC)
            if at >= start and (last is None or at > last):
                last = at
                yield at
            fire = self._wall.get_next_fire_time(fire, fire)

    def get_next_fire_time(self, previous_fire_time: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
        start = now if previous_fire_time is None else previous_fire_time + dt.timedelta(microseconds=1)
        return next(self.slots_from(start), None)

    def __str__(self) -> str:
        return f"cron[{self.cron}] in {self.tz}"


def trigger(cron: str, tz: str) -> LocalCronTrigger:
    """The trigger for a five-field cron expression read in the zone's local time (DST-safe)."""
    return LocalCronTrigger(cron, tz)


def latest_slot(
    cron: str, tz: str, now: dt.datetime, lookback: dt.timedelta = dt.timedelta(hours=6)
) -> dt.datetime | None:
    """The most recent scheduled time at or before `now` (within `lookback`), in UTC.

    A round is keyed by this slot, so two firings for the same time open one round.
    """
    latest = None
    for fire in trigger(cron, tz).slots_from(now - lookback):
        if fire > now:
            break
        latest = fire
    return latest


def next_slot(cron: str, tz: str, after: dt.datetime) -> dt.datetime | None:
    return next(trigger(cron, tz).slots_from(after), None)
