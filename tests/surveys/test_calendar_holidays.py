"""Holidays: entered, listed, removed and imported (CSV and iCalendar), all or nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.db import Database
from storage.models import Holiday, Survey
from surveys.calendar import (
    HolidayError,
    HolidayFileError,
    HolidayRange,
    add_holiday,
    holiday_on,
    import_holidays,
    list_holidays,
    next_send,
    parse_holiday_file,
    remove_holiday,
)
from surveys.config import SurveyConfig

D = dt.date

# -- files (pure) ---------------------------------------------------------------------------------


def test_csv_with_header_comments_blank_lines_and_quoted_labels() -> None:
    text = (
        "start,end,label\n"
        "# autumn term\n"
        "2026-10-26,2026-10-30,October half term\n"
        "\n"
        '2026-12-21,2027-01-01,"Christmas, and New Year"\n'
        "2027-02-15,2027-02-15\n"
    )
    assert parse_holiday_file(text) == [
        HolidayRange(D(2026, 10, 26), D(2026, 10, 30), "October half term", 3),
        HolidayRange(D(2026, 12, 21), D(2027, 1, 1), "Christmas, and New Year", 5),
        HolidayRange(D(2027, 2, 15), D(2027, 2, 15), "", 6),
    ]


def test_csv_mistakes_are_all_reported_with_their_line_numbers() -> None:
    text = (
        "2026-10-26,2026-10-30,Half term\n"
        "26/10/2026,2026-10-30,British dates\n"
        "2026-11-05,2026-11-01,Backwards\n"
        "2026-01-01,2027-06-01,Too long\n"
        "1999-12-31,2000-01-01,Too early\n"
        "2026-10-26\n"
    )
    with pytest.raises(HolidayFileError) as caught:
        parse_holiday_file(text, "terms.csv")
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 3", "line 4", "line 5", "line 6"]
    assert "'26/10/2026' is not a date (use YYYY-MM-DD)" in problems[0]
    assert "ends (2026-11-01) before it starts" in problems[1]
    assert "longer than a year" in problems[2]
    assert str(caught.value).startswith("terms.csv: line 2:")
    assert isinstance(caught.value, ValueError)


def test_an_empty_file_is_an_error_not_a_silent_success() -> None:
    with pytest.raises(HolidayFileError, match="no holidays found"):
        parse_holiday_file("start,end,label\n# nothing yet\n")


ICS = (
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//School//Calendar//EN\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:1@school\r\n"
    "DTSTART;VALUE=DATE:20261026\r\n"
    "DTEND;VALUE=DATE:20261031\r\n"
    "SUMMARY:October half term\\, all\r\n"
    "  schools\r\n"
    "BEGIN:VALARM\r\n"
    "TRIGGER:-P1D\r\n"
    "SUMMARY:not the event's summary\r\n"
    "END:VALARM\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "DTSTART;VALUE=DATE:20270215\r\n"
    "SUMMARY:INSET day\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "DTSTART;VALUE=DATE:20270405\r\n"
    "DURATION:P2W\r\n"
    "SUMMARY:Easter\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "DTSTART;VALUE=DATE:20270501\r\n"
    "STATUS:CANCELLED\r\n"
    "SUMMARY:Called off\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def test_ics_all_day_events_become_inclusive_ranges() -> None:
    ranges = parse_holiday_file(ICS, "school.ics")
    assert [(r.starts, r.ends, r.label) for r in ranges] == [
        (D(2026, 10, 26), D(2026, 10, 30), "October half term, all schools"),  # DTEND is exclusive
        (D(2027, 2, 15), D(2027, 2, 15), "INSET day"),  # no DTEND: one day
        (D(2027, 4, 5), D(2027, 4, 18), "Easter"),
    ]


def test_ics_timed_and_repeating_events_are_refused_with_line_numbers() -> None:
    text = (
        "BEGIN:VCALENDAR\n"
        "BEGIN:VEVENT\n"
        "DTSTART:20261026T090000Z\n"
        "DTEND:20261026T150000Z\n"
        "SUMMARY:Parents' evening\n"
        "END:VEVENT\n"
        "BEGIN:VEVENT\n"
        "DTSTART;VALUE=DATE:20261102\n"
        "RRULE:FREQ=WEEKLY\n"
        "END:VEVENT\n"
        "BEGIN:VEVENT\n"
        "SUMMARY:no start\n"
        "END:VEVENT\n"
        "END:VCALENDAR\n"
    )
    with pytest.raises(HolidayFileError) as caught:
        parse_holiday_file(text, "cal.ics")
    assert caught.value.problems == [
        "line 3: only all-day events can be imported (this one has a time of day)",
        "line 9: repeating events are not supported; list each holiday once",
        "line 11: the event has no DTSTART",
    ]


def test_ics_structure_errors() -> None:
    with pytest.raises(HolidayFileError, match="line 1: an iCalendar file starts with BEGIN:VCALENDAR"):
        parse_holiday_file("BEGIN:VEVENT\nEND:VEVENT\n", "x.ics")
    with pytest.raises(HolidayFileError, match="ends inside BEGIN:VEVENT"):
        parse_holiday_file("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261026\n")


ranges_strategy = st.lists(
    st.tuples(
        st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 11, 30)),
        st.integers(0, 30),
        st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P"]), max_size=40),
    ),
    min_size=1,
    max_size=8,
)


@given(ranges_strategy)
@settings(max_examples=100, deadline=None)
def test_csv_and_ics_written_from_ranges_read_back_the_same(rows: list[tuple[dt.date, int, str]]) -> None:
    expected = [(s, s + dt.timedelta(days=n), " ".join(label.split())) for s, n, label in rows]
    csv_text = "start,end,label\n" + "".join(
        f'{s},{e},"{lbl.replace(chr(34), chr(34) * 2)}"\n' for s, e, lbl in expected
    )
    assert [(r.starts, r.ends, r.label) for r in parse_holiday_file(csv_text)] == expected

    def esc(v: str) -> str:
        return v.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")

    events = "".join(
        "BEGIN:VEVENT\r\n"
        f"DTSTART;VALUE=DATE:{s:%Y%m%d}\r\n"
        f"DTEND;VALUE=DATE:{e + dt.timedelta(days=1):%Y%m%d}\r\n"
        f"SUMMARY:{esc(lbl)}\r\n"
        "END:VEVENT\r\n"
        for s, e, lbl in expected
    )
    ics = f"BEGIN:VCALENDAR\r\n{events}END:VCALENDAR\r\n"
    assert [(r.starts, r.ends, r.label) for r in parse_holiday_file(ics, "x.ics")] == expected


# -- the database ---------------------------------------------------------------------------------


async def _survey(db: Database) -> int:
    config = SurveyConfig(bank_ids=["staff-trust-in-leadership"], audience=["C0A"], digest_channel="C0L")
    async with db.session() as session:
        survey: Survey = config.to_model()
        session.add(survey)
        await session.flush()
        return survey.id


async def _count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Holiday)) or 0)


async def test_add_list_remove_and_which_apply_to_a_survey(db: Database) -> None:
    a, b = await _survey(db), await _survey(db)
    async with db.session() as session:
        everyone = await add_holiday(session, survey_id=None, starts=D(2026, 10, 26), ends=D(2026, 10, 30), label="HT")
        only_a = await add_holiday(session, survey_id=a, starts=D(2026, 11, 2), ends=D(2026, 11, 2), label=" INSET  ")
        again = await add_holiday(session, survey_id=None, starts=D(2026, 10, 26), ends=D(2026, 10, 30), label="HT")
    assert again.id == everyone.id and only_a.label == "INSET"
    async with db.session() as session:
        assert [h.id for h in await list_holidays(session, None)] == [everyone.id, only_a.id]
        assert [h.id for h in await list_holidays(session, a)] == [everyone.id, only_a.id]
        assert [h.id for h in await list_holidays(session, b)] == [everyone.id]
        assert (await holiday_on(session, b, D(2026, 10, 30))) is not None
        assert (await holiday_on(session, b, D(2026, 10, 31))) is None
        assert (await holiday_on(session, b, D(2026, 11, 2))) is None
        assert (await holiday_on(session, a, D(2026, 11, 2))) is not None
    async with db.session() as session:
        assert await remove_holiday(session, only_a.id) is True
        assert await remove_holiday(session, only_a.id) is False
    assert await _count(db) == 1


async def test_bad_holidays_are_refused_and_change_nothing(db: Database) -> None:
    for kwargs, message in (
        ({"starts": D(2026, 10, 30), "ends": D(2026, 10, 26)}, "before it starts"),
        ({"starts": D(2026, 1, 1), "ends": D(2027, 12, 31)}, "longer than a year"),
        ({"starts": D(1990, 1, 1), "ends": D(1990, 1, 2)}, "between"),
        ({"starts": D(2026, 1, 1), "ends": D(2026, 1, 2), "label": "x" * 201}, "longer than 200"),
        ({"starts": D(2026, 1, 1), "ends": D(2026, 1, 2), "survey_id": 999}, "no survey 999"),
    ):
        values: dict[str, object] = {"survey_id": None, "label": "", **kwargs}
        with pytest.raises(HolidayError, match=message):
            async with db.session() as session:
                await add_holiday(session, **values)  # type: ignore[arg-type]
    assert await _count(db) == 0


async def test_import_is_all_or_nothing_and_idempotent(db: Database) -> None:
    survey_id = await _survey(db)
    bad = "2026-10-26,2026-10-30,Half term\n2026-12-21,2026-12-01,Backwards\n"
    with pytest.raises(HolidayFileError, match="line 2"):
        async with db.session() as session:
            await import_holidays(session, bad, survey_id=survey_id, filename="t.csv")
    assert await _count(db) == 0

    async with db.session() as session:
        added = await import_holidays(session, ICS, survey_id=survey_id, filename="school.ics")
    assert len(added) == 3
    async with db.session() as session:
        assert await import_holidays(session, ICS, survey_id=survey_id, filename="school.ics") == []
        assert len(await list_holidays(session, survey_id)) == 3
    with pytest.raises(HolidayError, match="no survey 77"):
        async with db.session() as session:
            await import_holidays(session, "2026-10-26,2026-10-30,x\n", survey_id=77)
    assert await _count(db) == 3


async def test_next_send_steps_over_holidays_and_quiet_time(db: Database) -> None:
    survey_id = await _survey(db)  # Mondays 09:00, London
    london = ZoneInfo("Europe/London")
    saturday = dt.datetime(2026, 10, 17, 12, 0, tzinfo=london)
    async with db.session() as session:
        survey = await session.get(Survey, survey_id)
        assert survey is not None
        first = await next_send(session, survey, saturday)
        await add_holiday(session, survey_id=None, starts=D(2026, 10, 19), ends=D(2026, 10, 30), label="Half term")
        after = await next_send(session, survey, saturday)
    assert first is not None and first.astimezone(london) == dt.datetime(2026, 10, 19, 9, 0, tzinfo=london)
    # Two Mondays in the break are skipped; the first after it is in GMT, still 09:00 local.
    assert after is not None and after.astimezone(london) == dt.datetime(2026, 11, 2, 9, 0, tzinfo=london)
