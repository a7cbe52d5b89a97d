"""Mistakes and failures at /pulse: a short private sentence with the right usage, never a trace."""

from __future__ import annotations

import logging
import socket

import pytest

from bot.scheduler import Clock
from storage.db import Database
from tests.e2e.conftest import make_survey
from tests.e2e.pulse_support import ADMIN, STAFF, pulse, snapshot
from tests.harness import Harness
from tests.slack_double import SlackDouble


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("frobnicate", "There is no command 'frobnicate'. `/pulse help` lists the commands."),
        ("stauts", "Did you mean `status`?"),
        ("pause", "Which survey? Give its number. Usage: `/pulse pause ID`"),
        ("pause twelve", "'twelve' is not a survey number. Usage: `/pulse pause ID`"),
        ("send-now 1 now", "Too many words after `send-now`. Usage: `/pulse send-now ID`"),
        ("holidays add 1 tomorrow", "'tomorrow' is not a date; write it as YYYY-MM-DD."),
        ("help resume", "`/pulse resume ID` — start sending a paused survey again"),
    ],
)
@pytest.mark.parametrize("user", [ADMIN, STAFF])
async def test_mistakes_get_the_usage_privately(app: Harness, user: str, text: str, expected: str) -> None:
    await make_survey(app)
    before = await snapshot(app)
    reply = await pulse(app, user, text)
    assert expected in reply["text"]
    assert reply["response_type"] == "ephemeral"
    assert await snapshot(app) == before


async def test_a_survey_that_is_not_there(app: Harness) -> None:
    reply = await pulse(app, ADMIN, "pause 42")
    assert reply["text"] == "There is no survey 42 here. `/pulse surveys` lists them."


async def test_sending_a_paused_survey_asks_to_resume_first(app: Harness, double: SlackDouble) -> None:
    survey = await make_survey(app)
    await pulse(app, ADMIN, f"pause {survey.id}")
    reply = await pulse(app, ADMIN, f"send-now {survey.id}")
    assert f"`/pulse resume {survey.id}` first" in reply["text"]
    assert double.messages == []


async def test_a_failure_inside_is_one_short_sentence_and_the_log_names_only_its_type(
    app: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    working = app.ctx.db
    app.ctx.db = Database("sqlite+aiosqlite:////nonexistent-dir/pulse.db")
    try:
        with caplog.at_level(logging.INFO):
            reply = await pulse(app, ADMIN, "status")
    finally:
        await app.ctx.db.dispose()
        app.ctx.db = working
    assert reply["text"] == "Sorry, something went wrong and nothing more was done. Please try again in a minute."
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["/pulse failed: OperationalError"]
    assert not any(r.exc_info for r in caplog.records)
    assert not any(ADMIN in r.getMessage() for r in caplog.records)


async def test_when_slack_cannot_say_who_someone_is_they_are_treated_as_staff(
    app: Harness, double: SlackDouble
) -> None:
    survey = await make_survey(app)
    before = await snapshot(app)
    double.faults.fail_next("users.info", n=4, status=200, error="user_not_found")
    reply = await pulse(app, ADMIN, f"pause {survey.id}")
    assert reply["text"].startswith("Sorry, only Pulse coordinators")
    assert await snapshot(app) == before


async def test_holidays_for_every_survey_and_for_one(app: Harness) -> None:
    first = await make_survey(app, name="First")
    reply = await pulse(app, ADMIN, "holidays add all 2026-10-26 2026-10-30 Half term")
    assert "for every survey" in reply["text"]
    reply = await pulse(app, ADMIN, f"holidays add {first.id} 2026-11-02 Inset day")
    assert f"for survey {first.id}" in reply["text"] and "Mon 02 Nov 2026 to Mon 02 Nov 2026" in reply["text"]
    listed = (await pulse(app, ADMIN, "holidays list"))["text"]
    assert "Half term: Mon 26 Oct 2026 to Fri 30 Oct 2026 (every survey)" in listed
    assert f"Inset day: Mon 02 Nov 2026 (survey {first.id})" in listed
    # The same range again keeps the one holiday.
    again = await pulse(app, ADMIN, "holidays add all 2026-10-26 2026-10-30 Half term")
    assert again["text"].startswith("Added holiday 1: Half term")
    assert (await pulse(app, ADMIN, "holidays remove 77"))["text"].startswith("There is no holiday 77")
    assert (await pulse(app, ADMIN, "holidays add 99 2026-10-26"))["text"].startswith("There is no survey 99")
    too_long = await pulse(app, ADMIN, "holidays add all 2026-01-01 2027-06-01 Forever")
    assert too_long["text"].startswith("That holiday cannot be added") and "longer than a year" in too_long["text"]


async def test_status_names_the_channels_a_round_could_not_reach(app: Harness, double: SlackDouble) -> None:
    survey = await make_survey(app, audience=["C0SCHOOLA", "CBADSCHOOL"])
    sent = await pulse(app, ADMIN, f"send-now {survey.id}")
    assert "2 message(s) queued" in sent["text"] and f"`/pulse status {survey.id}`" in sent["text"]
    report = await app.drain_outbox()
    assert (report.sent, report.failed) == (1, 1)
    status = await pulse(app, ADMIN, f"status {survey.id}")
    assert "1 message(s) could not be delivered" in status["text"]
    assert "Not delivered: CBADSCHOOL: slack: channel_not_found" in status["text"]


async def test_while_slacks_api_cannot_be_reached_pulse_still_answers_in_a_sentence(
    app: Harness, double: SlackDouble, caplog: pytest.LogCaptureFixture
) -> None:
    """Bolt's own token check lets a connection error out as a bare 500; the product's does not."""
    reachable = app.slack_app.client.base_url
    app.slack_app.client.base_url = f"http://127.0.0.1:{_closed_port()}/api/"  # each request's client copies it
    try:
        with caplog.at_level(logging.WARNING):
            for user in (ADMIN, STAFF):
                reply = await pulse(app, user, "help")
                assert reply["response_type"] == "ephemeral"
                assert "Traceback" not in reply["text"] and len(reply["text"].splitlines()) <= 40
    finally:
        app.slack_app.client.base_url = reachable
    assert any("could not be reached" in r.getMessage() for r in caplog.records)
    assert not any(r.exc_info for r in caplog.records)
    # Once Slack answers, the bot's identity is asked once and kept.
    before = len([c for c in double.calls if c.method == "auth.test"])
    for _ in range(2):
        assert "/pulse" in (await pulse(app, ADMIN, "help"))["text"]
    assert len([c for c in double.calls if c.method == "auth.test"]) == before + 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_survey_whose_bank_is_gone_is_flagged_to_coordinators_and_in_the_clocks_log(
    app: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    survey = await make_survey(app, bank_ids=["staff-trust-in-leadership", "a-bank-since-removed"])
    status = (await pulse(app, ADMIN, f"status {survey.id}"))["text"]
    assert "⚠️ Bank 'a-bank-since-removed' is not loaded, so no round can go out" in status
    assert "'staff-trust-in-leadership'" not in status
    assert "is not loaded" in (await pulse(app, ADMIN, "surveys"))["text"]
    clock = Clock(app.ctx)
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        await clock.sync()
        await clock.sync()
    warned = [r.getMessage() for r in caplog.records if "not loaded" in r.getMessage()]
    assert warned == [
        f"survey {survey.id}: bank 'a-bank-since-removed' is not loaded, so no round can go out: "
        "put its file back in PULSE_BANKS_DIR (`pulse banks validate` says what is wrong with it) "
        "or edit the survey to use another bank"
    ]
