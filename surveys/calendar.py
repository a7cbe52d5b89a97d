"""A school year: quiet hours, weekends and holidays, each read in the survey's own time zone.

The rules, as coordinators are told them:

- A round due in quiet hours on a school day waits until quiet hours end, if they end the same
  day (due 06:30 with quiet hours until 07:00: sent at 07:00). If they run on past midnight
  (due 20:00 with quiet hours from 19:00), that round is skipped.
- A round due on a Saturday or Sunday (when weekends are quiet) or on a holiday is skipped.
- A skipped round is never opened later to catch up: the next scheduled round opens as usual and
  the rotation carries on where it stopped, so nothing piles up after a break.
- Reminders go out only outside quiet hours, weekends and holidays.

Holidays are date ranges, first and last day included. A holiday with no survey applies to every
survey; term dates are entered as the holidays between terms.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Holiday, Survey
from surveys.schedule import LocalCronTrigger, zone

log = logging.getLogger(__name__)

DEFAULT_QUIET_START = dt.time(19, 0)
DEFAULT_QUIET_END = dt.time(7, 0)
# A deferred round still goes out on the day it was due, so never more than a day late.
_MAX_DEFER = dt.timedelta(days=1)
# How far RoundTrigger looks for a time that is not quiet before it gives up.
_HORIZON = dt.timedelta(days=400)
_MAX_SCAN = 20_000
LOOKBACK = dt.timedelta(hours=6)


# -- quiet hours and weekends (pure) -------------------------------------------------------------


@dataclass(frozen=True)
class QuietRules:
    """When nothing is sent: daily quiet hours (local; may run past midnight) and weekends."""

    start: dt.time | None = DEFAULT_QUIET_START
    end: dt.time | None = DEFAULT_QUIET_END
    weekends: bool = True

    @classmethod
    def of(cls, survey: Survey) -> QuietRules:
        return cls(survey.quiet_start, survey.quiet_end, survey.quiet_weekends)

    def in_quiet_hours(self, t: dt.time) -> bool:
        if self.start is None or self.end is None or self.start == self.end:
            return False
        t = t.replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def is_weekend(self, day: dt.date) -> bool:
        return self.weekends and day.weekday() >= 5

    def is_quiet(self, local: dt.datetime) -> bool:
        """Whether a local time is quiet (holidays aside: they come from the database)."""
        return self.is_weekend(local.date()) or self.in_quiet_hours(local.time())


def send_time(slot: dt.datetime, tz: str, rules: QuietRules) -> dt.datetime | None:
    """When a round due at `slot` goes out: the slot itself, later the same day, or never (None)."""
    local = slot.astimezone(zone(tz))
    if rules.is_weekend(local.date()):
        return None
    if not rules.in_quiet_hours(local.time()):
        return slot
    assert rules.end is not None
    resume = dt.datetime.combine(local.date(), rules.end, tzinfo=zone(tz)).astimezone(dt.UTC)
    return resume if resume > slot else None


class RoundTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 ships no types
    """When a survey's rounds go out: its cron slots, deferred or dropped by quiet hours and weekends.

    Holidays are not known here (they live in the database); a round due on one is dropped when
    the job fires. Fire times are strictly increasing: two slots deferred to the same time fire once.
    """

    __slots__ = ("rules", "slots")

    def __init__(self, cron: str, tz: str, rules: QuietRules) -> None:
        self.slots = LocalCronTrigger(cron, tz)
        self.rules = rules

    def sends_from(self, start: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """(slot, send time) pairs whose send time is at or after `start`, in order."""
        for n, slot in enumerate(self.slots.slots_from(start - _MAX_DEFER)):
            if n > _MAX_SCAN or slot > start + _HORIZON:
                return
            at = send_time(slot, self.slots.tz, self.rules)
            if at is not None and at >= start:
                yield slot, at

    def get_next_fire_time(self, previous_fire_time: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
        start = now if previous_fire_time is None else previous_fire_time + dt.timedelta(microseconds=1)
        return next((at for _slot, at in self.sends_from(start)), None)

    def __str__(self) -> str:
        return f"rounds[{self.slots}]"


def round_trigger(survey: Survey) -> RoundTrigger:
    return RoundTrigger(survey.schedule, survey.timezone, QuietRules.of(survey))


def due_slot(
    cron: str, tz: str, rules: QuietRules, now: dt.datetime, lookback: dt.timedelta = LOOKBACK
) -> dt.datetime | None:
    """The slot of the round that should be open by `now`: the latest whose send time has come
    (within `lookback`, for a clock that fires late). Rounds are keyed by it, not by send time."""
    latest = None
    for slot, at in RoundTrigger(cron, tz, rules).sends_from(now - lookback):
        if at > now:
            break
        latest = slot
    return latest


def local_day(at: dt.datetime, tz: str) -> dt.date:
    return at.astimezone(zone(tz)).date()


# -- holidays ------------------------------------------------------------------------------------

EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 12, 31)
MAX_DAYS = 366
MAX_LABEL = 200


class HolidayError(ValueError):
    """A holiday that cannot be stored as given; the message says why."""


class HolidayFileError(HolidayError):
    """A holiday file with mistakes: every problem, each with its line number. Nothing was added."""

    def __init__(self, problems: Sequence[str], filename: str = "") -> None:
        self.problems = list(problems)
        name = f"{filename}: " if filename else ""
        shown = self.problems[:10]
        more = f" (and {len(self.problems) - 10} more)" if len(self.problems) > 10 else ""
        super().__init__(f"{name}{'; '.join(shown)}{more}")


@dataclass(frozen=True)
class HolidayRange:
    starts: dt.date
    ends: dt.date
    label: str = ""
    line: int = 0


def check_range(starts: dt.date, ends: dt.date, label: str) -> str:
    """Raise HolidayError for a range no school calendar has; return the tidied label."""
    if ends < starts:
        raise HolidayError(f"the holiday ends ({ends}) before it starts ({starts})")
    if starts < EARLIEST or ends > LATEST:
        raise HolidayError(f"dates must fall between {EARLIEST} and {LATEST}")
    if (ends - starts).days + 1 > MAX_DAYS:
        raise HolidayError(f"a holiday of {(ends - starts).days + 1} days is longer than a year")
    label = " ".join(label.split())
    if len(label) > MAX_LABEL:
        raise HolidayError(f"the label is longer than {MAX_LABEL} characters")
    return label


async def _check_survey(session: AsyncSession, survey_id: int | None) -> None:
    if survey_id is not None and await session.get(Survey, survey_id) is None:
        raise HolidayError(f"no survey {survey_id}")


async def _same_range(session: AsyncSession, survey_id: int | None, starts: dt.date, ends: dt.date) -> Holiday | None:
    owner = Holiday.survey_id.is_(None) if survey_id is None else Holiday.survey_id == survey_id
    stmt = select(Holiday).where(owner, Holiday.starts == starts, Holiday.ends == ends).limit(1)
    return (await session.scalars(stmt)).first()


async def add_holiday(
    session: AsyncSession, *, survey_id: int | None, starts: dt.date, ends: dt.date, label: str
) -> Holiday:
    """Add a holiday (for one survey, or every survey when survey_id is None).

    Entering the same range twice keeps one row, so a repeated command or import is harmless.
    """
    label = check_range(starts, ends, label)
    await _check_survey(session, survey_id)
    existing = await _same_range(session, survey_id, starts, ends)
    if existing is not None:
        return existing
    holiday = Holiday(survey_id=survey_id, starts=starts, ends=ends, label=label)
    session.add(holiday)
    await session.flush()
    return holiday


async def list_holidays(session: AsyncSession, survey_id: int | None) -> list[Holiday]:
    """With a survey: the holidays that apply to it (its own and everyone's). Without: all of them."""
    stmt = select(Holiday).order_by(Holiday.starts, Holiday.ends, Holiday.id)
    if survey_id is not None:
        stmt = stmt.where(or_(Holiday.survey_id.is_(None), Holiday.survey_id == survey_id))
    return list((await session.scalars(stmt)).all())


async def remove_holiday(session: AsyncSession, holiday_id: int) -> bool:
    holiday = await session.get(Holiday, holiday_id)
    if holiday is None:
        return False
    await session.delete(holiday)
    await session.flush()
    return True


async def holiday_on(session: AsyncSession, survey_id: int, day: dt.date) -> Holiday | None:
    """The holiday (the survey's own or everyone's) that covers `day`, if any."""
    stmt = (
        select(Holiday)
        .where(
            or_(Holiday.survey_id.is_(None), Holiday.survey_id == survey_id),
            Holiday.starts <= day,
            Holiday.ends >= day,
        )
        .order_by(Holiday.id)
        .limit(1)
    )
    return (await session.scalars(stmt)).first()


async def import_holidays(
    session: AsyncSession, text: str, *, survey_id: int | None, filename: str = ""
) -> list[Holiday]:
    """Add every holiday in a file: CSV lines "start,end,label", or an iCalendar (.ics) file of
    all-day events. All or nothing: any mistake raises HolidayFileError naming each bad line.
    Returns the holidays added (ranges already present are not added again)."""
    ranges = parse_holiday_file(text, filename)
    await _check_survey(session, survey_id)
    added: list[Holiday] = []
    seen: set[tuple[dt.date, dt.date]] = set()
    for r in ranges:
        if (r.starts, r.ends) in seen or await _same_range(session, survey_id, r.starts, r.ends):
            continue
        seen.add((r.starts, r.ends))
        holiday = Holiday(survey_id=survey_id, starts=r.starts, ends=r.ends, label=r.label)
        session.add(holiday)
        added.append(holiday)
    await session.flush()
    return added


async def scheduled_slot(session: AsyncSession, survey: Survey, now: dt.datetime) -> dt.datetime | None:
    """The slot of the scheduled round to open now, or None: none due, or due on a holiday."""
    slot = due_slot(survey.schedule, survey.timezone, QuietRules.of(survey), now)
    if slot is None:
        return None
    holiday = await holiday_on(session, survey.id, local_day(slot, survey.timezone))
    if holiday is not None:
        log.info("survey %s: the round due %s is skipped: holiday %s", survey.id, slot.isoformat(), holiday.id)
        return None
    return slot


async def next_send(session: AsyncSession, survey: Survey, now: dt.datetime, *, look: int = 200) -> dt.datetime | None:
    """When the survey's next scheduled round will go out, holidays, quiet hours and weekends
    allowed for (for "next run" displays); None if none does within the next `look` slots."""
    for n, (slot, at) in enumerate(round_trigger(survey).sends_from(now)):
        if n >= look:
            break
        if await holiday_on(session, survey.id, local_day(slot, survey.timezone)) is None:
            return at
    return None


# -- holiday files (pure) ------------------------------------------------------------------------


def parse_holiday_file(text: str, filename: str = "") -> list[HolidayRange]:
    text = text.lstrip("\ufeff")
    is_ics = filename.lower().endswith((".ics", ".ical")) or text.lstrip()[:15].upper() == "BEGIN:VCALENDAR"
    ranges, problems = (_parse_ics if is_ics else _parse_csv)(text)
    if not problems and not ranges:
        problems = ["no holidays found (expected lines like 2026-10-26,2026-10-30,Half term)"]
    if problems:
        raise HolidayFileError(problems, filename)
    return ranges


def _checked(starts: dt.date, ends: dt.date, label: str, line: int, problems: list[str]) -> HolidayRange | None:
    try:
        return HolidayRange(starts, ends, check_range(starts, ends, label), line)
    except HolidayError as exc:
        problems.append(f"line {line}: {exc}")
        return None


def _iso_date(text: str) -> dt.date | None:
    text = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _parse_csv(text: str) -> tuple[list[HolidayRange], list[str]]:
    ranges: list[HolidayRange] = []
    problems: list[str] = []
    reader = csv.reader(io.StringIO(text))
    first = True
    for row in reader:
        line = reader.line_num
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if first and cells[0].lower() in ("start", "starts", "from"):
            first = False
            continue  # a header row
        first = False
        if len(cells) not in (2, 3):
            problems.append(f"line {line}: expected start,end,label (found {len(cells)} fields)")
            continue
        starts, ends = _iso_date(cells[0]), _iso_date(cells[1])
        bad = [c for c, d in zip(cells[:2], (starts, ends), strict=True) if d is None]
        if bad or starts is None or ends is None:
            problems.append(f"line {line}: '{bad[0]}' is not a date (use YYYY-MM-DD)")
            continue
        r = _checked(starts, ends, cells[2] if len(cells) == 3 else "", line, problems)
        if r is not None:
            ranges.append(r)
    return ranges, problems


def _unfold(text: str) -> list[tuple[int, str]]:
    """iCalendar content lines with their first line number: a line starting with a space or a
    tab continues the one before it (RFC 5545, 3.1)."""
    out: list[tuple[int, str]] = []
    for n, raw in enumerate(text.splitlines(), 1):
        if raw[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + raw[1:])
        elif raw.strip():
            out.append((n, raw))
    return out


def _property(line: str) -> tuple[str, dict[str, str], str]:
    """NAME;PARAM=V;...:VALUE, with ':' and ';' allowed inside quoted parameter values."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            head, value = line[:i], line[i + 1 :]
            break
    else:
        return line.upper(), {}, ""
    name, *params = head.split(";")
    parsed = {}
    for p in params:
        key, _, val = p.partition("=")
        parsed[key.upper()] = val.strip('"').upper()
    return name.upper(), parsed, value


def _ics_text(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _ics_date(value: str, params: dict[str, str]) -> dt.date | str:
    """A DATE value, or the reason it is not one."""
    if "T" in value.upper() or params.get("VALUE") == "DATE-TIME":
        return "only all-day events can be imported (this one has a time of day)"
    try:
        return dt.datetime.strptime(value.strip(), "%Y%m%d").date()
    except ValueError:
        return f"'{value}' is not a date (YYYYMMDD)"


def _ics_days(value: str) -> int | None:
    """Whole days of a DURATION such as P5D or P2W; None for anything finer."""
    m = re.fullmatch(r"P(?:(\d+)W|(\d+)D)", value.strip().upper())
    if not m:
        return None
    return int(m.group(1)) * 7 if m.group(1) else int(m.group(2))


def _parse_ics(text: str) -> tuple[list[HolidayRange], list[str]]:
    ranges: list[HolidayRange] = []
    problems: list[str] = []
    lines = _unfold(text)
    if not lines or lines[0][1].strip().upper() != "BEGIN:VCALENDAR":
        return [], ["line 1: an iCalendar file starts with BEGIN:VCALENDAR"]
    stack: list[str] = []
    event: dict[str, tuple[int, dict[str, str], str]] = {}
    event_line = 0
    for n, raw in lines:
        name, params, value = _property(raw)
        if name == "BEGIN":
            stack.append(value.strip().upper())
            if stack[-1] == "VEVENT":
                event, event_line = {}, n
            continue
        if name == "END":
            closing = value.strip().upper()
            if not stack or stack[-1] != closing:
                problems.append(f"line {n}: END:{closing} does not match an open BEGIN")
                return ranges, problems
            stack.pop()
            if closing == "VEVENT":
                r = _ics_event(event, event_line, problems)
                if r is not None:
                    ranges.append(r)
            continue
        if stack and stack[-1] == "VEVENT":
            event.setdefault(name, (n, params, value))
    if stack:
        problems.append(f"line {lines[-1][0]}: the file ends inside BEGIN:{stack[-1]}")
    return ranges, problems


def _ics_event(
    event: dict[str, tuple[int, dict[str, str], str]], line: int, problems: list[str]
) -> HolidayRange | None:
    if "STATUS" in event and event["STATUS"][2].strip().upper() == "CANCELLED":
        return None
    if "RRULE" in event:
        problems.append(f"line {event['RRULE'][0]}: repeating events are not supported; list each holiday once")
        return None
    if "DTSTART" not in event:
        problems.append(f"line {line}: the event has no DTSTART")
        return None
    start_line, start_params, start_value = event["DTSTART"]
    starts = _ics_date(start_value, start_params)
    if isinstance(starts, str):
        problems.append(f"line {start_line}: {starts}")
        return None
    ends: dt.date | str = starts
    if "DTEND" in event:
        end_line, end_params, end_value = event["DTEND"]
        end = _ics_date(end_value, end_params)
        # An all-day event's DTEND is the day after its last day (some tools repeat DTSTART instead).
        ends = max(starts, end - dt.timedelta(days=1)) if isinstance(end, dt.date) and end >= starts else end
    elif "DURATION" in event:
        end_line, _params, value = event["DURATION"]
        days = _ics_days(value)
        if days is None:
            ends = f"'{value}' is not a whole number of days"
        else:
            ends = starts + dt.timedelta(days=max(days, 1) - 1)
    else:
        end_line = start_line
    if isinstance(ends, str):
        problems.append(f"line {end_line}: {ends}")
        return None
    label = _ics_text(event["SUMMARY"][2]) if "SUMMARY" in event else ""
    return _checked(starts, ends, label, line, problems)
