"""How often a survey goes out, as a coordinator says it: weekly, fortnightly or monthly, a
weekday and a time. Turned into the survey's cron expression, read back for editing.

Cron cannot say "every other week", so a fortnightly survey keeps a weekly cron and its
`cadence_anchor`: a weekly slot is due only in even weeks counted from the first slot at or
after the anchor. Monthly is the first given weekday of the month: "M H 1-7 * D", which
APScheduler (unlike Vixie cron, which ORs the two day fields) reads as day 1-7 AND that weekday.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from storage.models import Survey
from surveys.schedule import DAY_NAMES, next_slot, zone

Kind = Literal["weekly", "fortnightly", "monthly", "custom"]
# Monday first, as people list them; values are the cron day names.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
# Longest a round may stay open without overlapping the next one, in hours.
PERIOD_HOURS: dict[str, int] = {"weekly": 7 * 24, "fortnightly": 14 * 24, "monthly": 28 * 24}

_SIMPLE = re.compile(r"^(\d{1,2}) (\d{1,2}) (\*|1-7) \* ([a-z]{3}|[0-7])$")


class Cadence(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Kind = "weekly"
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    hour: int = Field(default=9, ge=0, le=23)
    minute: int = Field(default=0, ge=0, le=59)

    def cron(self) -> str:
        day = "1-7" if self.kind == "monthly" else "*"
        return f"{self.minute} {self.hour} {day} * {self.weekday}"

    @property
    def time(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    def describe(self) -> str:
        day = WEEKDAY_LABELS[self.weekday]
        match self.kind:
            case "weekly":
                return f"every {day} at {self.time}"
            case "fortnightly":
                return f"every other {day} at {self.time}"
            case "monthly":
                return f"the first {day} of each month at {self.time}"
            case _:
                return f"{day} at {self.time}"


def read_cadence(cron: str, kind: str) -> Cadence | None:
    """The cadence a cron expression was made from, or None for one the modal cannot show."""
    match = _SIMPLE.match(cron.strip().lower())
    if match is None:
        return None
    minute, hour, days, weekday = match.groups()
    if weekday.isdigit():
        weekday = DAY_NAMES[int(weekday) % 7]
    if weekday not in WEEKDAYS or int(hour) > 23 or int(minute) > 59:
        return None
    shape: Kind = "monthly" if days == "1-7" else ("fortnightly" if kind == "fortnightly" else "weekly")
    return Cadence(kind=shape, weekday=weekday, hour=int(hour), minute=int(minute))


def describe_schedule(cron: str, kind: str) -> str:
    cadence = read_cadence(cron, kind)
    return cadence.describe() if cadence is not None else f"cron `{cron}`"


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def is_due(kind: str, schedule: str, tz: str, anchor: dt.datetime, slot: dt.datetime) -> bool:
    """Whether a cron slot is a sending slot for this cadence (only fortnightly skips any)."""
    if kind != "fortnightly":
        return True
    # Strictly after: a survey set up at 09:00 on a Monday starts with the next slot, as the clock does.
    first = next_slot(schedule, tz, anchor + dt.timedelta(seconds=1))
    if first is None or slot < first:
        return False
    local = zone(tz)
    weeks = (_monday(slot.astimezone(local).date()) - _monday(first.astimezone(local).date())).days // 7
    return weeks % 2 == 0


def due_for(survey: Survey, slot: dt.datetime) -> bool:
    """Whether a scheduled slot of this survey sends (a fortnightly survey skips alternate weeks)."""
    anchor = survey.cadence_anchor or survey.created_at
    return is_due(survey.cadence, survey.schedule, survey.timezone, anchor, slot)
