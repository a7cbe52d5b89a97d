"""`pulse jpd ...` as the console script runs it, on a real database, opening against the Slack
double: the same results as `/pulse jpd`, and a mistake is one line, exit 1, nothing changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.settings import get_settings
from storage.db import Database
from surveys.jpd import exchange as ex
from tests.cli.test_holidays_cli import pulse
from tests.e2e.pulse_support import snapshot_db
from tests.harness import BOT_TOKEN
from tests.slack_double import SlackDouble

STAFF = "C0STAFF"
# The command line reads the real clock.
NEXT_WEEK = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).date().isoformat()


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    async with SlackDouble(channels={STAFF: {"name": "staff", "members": ["UA", "UB"]}}) as d:
        yield d


@pytest.fixture
def cli_env(db_url: str, double: SlackDouble, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", f"{double.url}/api/")
    monkeypatch.chdir(tmp_path)  # no stray .env
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
async def test_topics_open_status_close_and_summary(
    capsys: pytest.CaptureFixture[str], db: Database, double: SlackDouble
) -> None:
    code, out, _ = await pulse(capsys, "jpd", "topics", "add", "Retrieval", "quizzes")
    assert code == 0 and "Added the topic Retrieval quizzes" in out
    code, out, _ = await pulse(capsys, "jpd", "topics")
    assert code == 0 and "JPD topics (13)" in out and "Retrieval quizzes (`retrieval-quizzes`)" in out

    code, out, err = await pulse(
        capsys, "jpd", "open", "--channel", STAFF, "--deadline", f"{NEXT_WEEK} 15:30", "--coordinator", "UCOORD"
    )
    assert (code, err) == (0, "") and out.startswith("Opened exchange 1") and "15:30" in out
    [invitation] = double.messages_in(STAFF)
    assert "Retrieval quizzes" in str(invitation["blocks"])

    now = dt.datetime.now(dt.UTC)
    await ex.answer(db, 1, "UA", ex.Choice(("feedback",), ("reading",)), now)
    await ex.answer(db, 1, "UB", ex.Choice(("reading",), ("feedback",)), now)
    code, out, _ = await pulse(capsys, "jpd", "status")
    assert code == 0 and "Exchange 1 is open until" in out and "2 taken part so far" in out
    code, out, _ = await pulse(capsys, "jpd", "close")
    assert code == 0 and "Closed exchange 1: 2 took part, 2 are in 1 group(s)" in out
    code, out, _ = await pulse(capsys, "jpd", "summary")
    assert code == 0 and "Took part: 2 people" in out and "holding 2 of 2" in out
    code, out, _ = await pulse(capsys, "jpd", "delete", "1")
    assert code == 0 and "Deleted exchange 1" in out
    code, _, err = await pulse(capsys, "jpd", "summary", "1")
    assert code == 1 and "There is no exchange 1" in err


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["jpd", "topics", "remove", "knitting"], "There is no topic 'knitting'"),
        (["jpd", "topics", "add"], "say which topic to add"),
        (["jpd", "open", "--channel", "staff", "--deadline", NEXT_WEEK, "--coordinator", "UC"], "not a channel id"),
        (["jpd", "open", "--channel", STAFF, "--deadline", NEXT_WEEK, "--coordinator", "me"], "not a user id"),
        (["jpd", "open", "--channel", STAFF, "--deadline", "2020-01-01", "--coordinator", "UCOORD"], "already passed"),
        (
            [
                "jpd",
                "open",
                "--channel",
                STAFF,
                "--deadline",
                NEXT_WEEK,
                "--coordinator",
                "UCOORD",
                "--timezone",
                "Mars",
            ],
            "not a time zone",
        ),
        (["jpd", "close"], "No exchange is open"),
        (["jpd", "summary", "9"], "There is no exchange 9"),
    ],
)
async def test_a_mistake_is_one_line_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], db: Database, double: SlackDouble, argv: list[str], says: str
) -> None:
    before = await snapshot_db(db)
    code, out, err = await pulse(capsys, *argv)
    assert code == 1 and out == "" and says in err and len(err.strip().splitlines()) == 1
    assert await snapshot_db(db) == before and double.messages == []


@pytest.mark.usefixtures("cli_env")
async def test_a_deadline_that_is_not_one_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = await pulse(capsys, "jpd", "open", "--channel", STAFF, "--deadline", "Friday", "--coordinator", "UC")
    assert code == 2 and "'Friday' is not a deadline" in err
