"""The /pulse parser: every command, every mistake, and fuzzing (it never raises anything else)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands import parser as p


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", p.Help()),
        ("   ", p.Help()),
        ("help", p.Help()),
        ("HELP pause", p.Help(topic="pause")),
        ("help nonsense", p.Help()),
        ("surveys", p.ListSurveys()),
        ("surveys list", p.ListSurveys()),
        ("list", p.ListSurveys()),
        ("new", p.NewSurvey()),
        ("edit 3", p.EditSurvey(survey_id=3)),
        ("pause #12", p.Pause(survey_id=12)),
        ("resume 12", p.Resume(survey_id=12)),
        ("delete 7", p.Delete(survey_id=7)),
        ("send-now 2", p.SendNow(survey_id=2)),
        ("send_now 2", p.SendNow(survey_id=2)),
        ("sendnow 2", p.SendNow(survey_id=2)),
        ("digest-now 2", p.DigestNow(survey_id=2)),
        ("banks", p.ListBanks()),
        ("status", p.Status()),
        ("status 4", p.Status(survey_id=4)),
        ("results 4", p.Results(survey_id=4)),
        ("pulse pause 3", p.Pause(survey_id=3)),  # as typed to the Teams bot
        ("/pulse status", p.Status()),
        ("holidays", p.HolidaysList()),
        ("holidays list", p.HolidaysList()),
        ("holidays list 3", p.HolidaysList(survey_id=3)),
        ("holidays list all", p.HolidaysList()),
        ("holidays remove 9", p.HolidaysRemove(holiday_id=9)),
        (
            "holidays add 3 2026-10-26 2026-10-30 Half term",
            p.HolidaysAdd(survey_id=3, starts=dt.date(2026, 10, 26), ends=dt.date(2026, 10, 30), label="Half term"),
        ),
        (
            "holidays add all 2026-12-21 Inset day",
            p.HolidaysAdd(survey_id=None, starts=dt.date(2026, 12, 21), ends=dt.date(2026, 12, 21), label="Inset day"),
        ),
        (
            "holidays add all 2026-12-21",
            p.HolidaysAdd(survey_id=None, starts=dt.date(2026, 12, 21), ends=dt.date(2026, 12, 21)),
        ),
        ("jpd", p.JpdStatus()),
        ("jpd open 2026-12-04", p.JpdOpen(day=dt.date(2026, 12, 4))),
        ("JPD open Schools 2026-12-04 9:30", p.JpdOpen(kind="schools", day=dt.date(2026, 12, 4), at=dt.time(9, 30))),
        ("jpd close", p.JpdClose()),
        ("jpd summary", p.JpdSummary()),
        ("jpd results #2", p.JpdSummary(exchange_id=2)),
        ("jpd topics", p.JpdTopics()),
        ("jpd delete 3", p.JpdDelete(exchange_id=3)),
        ("jpd topics add Retrieval  quizzes", p.JpdTopicAdd(label="Retrieval quizzes")),
        ("jpd topics remove feedback", p.JpdTopicRemove(name="feedback")),
    ],
)
def test_parses(text: str, expected: p.Command) -> None:
    assert p.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "problem", "usage"),
    [
        ("frobnicate", "There is no command 'frobnicate'.", "`/pulse help` lists the commands."),
        ("pasue 3", "Did you mean `pause`?", "`/pulse help`"),
        ("pause", "Which survey?", "Usage: `/pulse pause ID`"),
        ("pause abc", "'abc' is not a survey number.", "Usage: `/pulse pause ID`"),
        ("pause 0", "'0' is not a survey number.", "Usage: `/pulse pause ID`"),
        ("pause -1", "is not a survey number", "Usage: `/pulse pause ID`"),
        ("pause 1 2", "Too many words", "Usage: `/pulse pause ID`"),
        ("edit", "Which survey?", "Usage: `/pulse edit ID`"),
        ("results 99999999999", "is not a survey number", "Usage: `/pulse results ID`"),
        ("new survey", "Too many words", "Usage: `/pulse new`"),
        ("status 1 2", "Too many words", "Usage: `/pulse status [ID]`"),
        ("holidays add 3", "first day", "holidays add ID|all FROM"),
        ("holidays add 3 26/10/2026", "not a date", "holidays add ID|all FROM"),
        ("holidays add 3 2026-10-30 2026-10-26", "before the first", "holidays add"),
        ("holidays add x 2026-10-26", "'x' is not a survey number", "holidays add"),
        ("holidays remove", "Say which holiday", "holidays remove N"),
        ("holidays rename 3", "does not know 'rename'", "holidays add"),
        ("jpd open", "Say when it closes", "jpd open [schools] YYYY-MM-DD [HH:MM]"),
        ("jpd open 04/12/2026", "not a date", "jpd open"),
        ("jpd open 2026-12-04 5pm", "not a time of day", "jpd open"),
        ("jpd open 2026-12-04 24:00", "not a time of day", "jpd open"),
        ("jpd open 2026-12-04 15:00 extra", "Too many words", "jpd open"),
        ("jpd topics add", "Say which topic", "jpd topics [add NAME | remove NAME]"),
        ("jpd topics rename x", "does not know 'rename'", "jpd topics"),
        ("jpd topics add " + "x" * 101, "at most 100", "jpd topics"),
        ("jpd summary x", "'x' is not an exchange number", "jpd summary [N]"),
        ("jpd dance", "does not know 'dance'", "jpd open"),
        ("jpd delete", "Say which exchange to delete", "jpd delete N"),
    ],
)
def test_mistakes_say_what_is_wrong_and_show_the_usage(text: str, problem: str, usage: str) -> None:
    with pytest.raises(p.UsageError) as caught:
        p.parse(text)
    assert problem in caught.value.message
    assert usage in caught.value.message


def test_help_lists_every_command_one_line_each() -> None:
    lines = p.help_text().splitlines()[1:]
    assert len(lines) == len(p.COMMANDS)
    for verb, line in zip(p.COMMANDS, lines, strict=True):
        assert line.startswith(f"`/pulse {verb}")
    assert p.help_text("pulse").splitlines()[1].startswith("`pulse help")


def test_usage_quotes_are_safe_for_backticks() -> None:
    with pytest.raises(p.UsageError) as caught:
        p.parse("`rm -rf`")
    assert "`rm" not in caught.value.problem


@given(st.text(max_size=200))
def test_any_text_parses_or_gets_a_usage_error(text: str) -> None:
    try:
        command = p.parse(text)
    except p.UsageError as exc:
        assert exc.message and len(exc.message) < 400
    else:
        assert command.verb.split()[0] in p.COMMANDS


words = st.sampled_from(
    [
        "pause",
        "resume",
        "edit",
        "delete",
        "send-now",
        "digest-now",
        "results",
        "status",
        "#3",
        "all",
        "holidays",
        "add",
        "list",
        "remove",
        "2026-10-26",
        "2026-02-30",
        "x",
        "0",
        "12",
        "new",
        "help",
        "jpd",
        "open",
        "close",
        "topics",
        "schools",
        "15:30",
        "summary",
    ]
)


@given(st.lists(words, max_size=6))
def test_command_like_text_parses_or_gets_a_usage_error(tokens: list[str]) -> None:
    try:
        p.parse(" ".join(tokens))
    except p.UsageError as exc:
        assert exc.usage


survey_ids = st.integers(min_value=1, max_value=10**9 - 1)
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1))
labels = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8), min_size=1, max_size=4)
commands = st.one_of(
    st.just(p.Help()),
    st.sampled_from(list(p.COMMANDS)).map(lambda v: p.Help(topic=v)),
    st.just(p.ListSurveys()),
    st.just(p.NewSurvey()),
    st.just(p.ListBanks()),
    st.builds(p.Status, survey_id=st.none() | survey_ids),
    *(
        st.builds(cls, survey_id=survey_ids)
        for cls in (p.EditSurvey, p.Pause, p.Resume, p.Delete, p.SendNow, p.DigestNow, p.Results)
    ),
    st.builds(p.HolidaysList, survey_id=st.none() | survey_ids),
    st.builds(p.HolidaysRemove, holiday_id=survey_ids),
    st.just(p.JpdClose()),
    st.just(p.JpdStatus()),
    st.just(p.JpdTopics()),
    st.builds(p.JpdSummary, exchange_id=st.none() | survey_ids),
    st.builds(p.JpdDelete, exchange_id=survey_ids),
    st.builds(
        p.JpdOpen,
        kind=st.sampled_from(["staff", "schools"]),
        day=dates,
        at=st.none() | st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    ),
    labels.map(lambda ws: p.JpdTopicAdd(label=" ".join(ws))),
    labels.map(lambda ws: p.JpdTopicRemove(name=" ".join(ws))),
    st.tuples(st.none() | survey_ids, dates, st.integers(0, 30), labels).map(
        lambda t: p.HolidaysAdd(survey_id=t[0], starts=t[1], ends=t[1] + dt.timedelta(days=t[2]), label=" ".join(t[3]))
    ),
)


@given(commands)
def test_unparse_round_trips(command: p.Command) -> None:
    assert p.parse(p.unparse(command)) == command
