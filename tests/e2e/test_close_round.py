"""Ending a round early, and listing rounds: `pulse rounds list|close` on the real database, with
the round sent and answered through the real app, and late clicks refused after."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.settings import get_settings
from bot.slack.views import CLOSE_CONFIRMED
from storage.models import Round
from surveys import operations
from tests.cli.test_holidays_cli import pulse
from tests.e2e.conftest import SCHOOL_A, SCHOOL_B, STAFF_A, STAFF_B, make_survey
from tests.e2e.pulse_support import ADMIN, press, snapshot
from tests.e2e.pulse_support import pulse as pulse_as
from tests.harness import Harness, SimClock, buttons_of
from tests.slack_double import SlackDouble, validate_blocks

# The command line reads the real clock: the round is sent at it too, so it is open for the CLI.
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
async def app(db_url: str, double: SlackDouble, banks) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    async with Harness(db_url, double=double, clock=SimClock(NOW), banks=banks) as h:
        yield h


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("PULSE_ANONYMITY_SECRET", "a-test-secret-that-is-long-enough-0123456789")
    monkeypatch.chdir(tmp_path)  # no stray .env
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
async def test_a_round_closed_early_is_sealed_once_reported_at_once_and_refuses_late_clicks(
    app: Harness, double: SlackDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    survey = await make_survey(app, items_per_round=1, k=5)
    # Mistakes first: nothing to close, nothing changes, one line each.
    before = await snapshot(app)
    for argv, said in (
        (("rounds", "close", "999"), "there is no round 999"),
        (("rounds", "close", "--survey", str(survey.id)), f"survey {survey.id} has no open round"),
        (("rounds", "close", "--survey", "999"), "there is no survey 999"),
        (("rounds", "list", "999"), "there is no survey 999"),
    ):
        code, out, err = await pulse(capsys, *argv)
        assert (code, out) == (1, ""), argv
        assert err.count("\n") == 1 and said in err, err
    assert await snapshot(app) == before

    round_, _ = await operations.open_and_send(
        app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=NOW, scheduled=False
    )
    assert round_ is not None
    [posted] = double.messages_in(SCHOOL_A)
    options = next(iter(buttons_of(posted).values()))
    people = [*STAFF_A[:4], *STAFF_B[:3]]
    for n, person in enumerate(people):
        channel = SCHOOL_A if person in STAFF_A else SCHOOL_B
        message = posted if channel == SCHOOL_A else double.messages_in(SCHOOL_B)[0]
        assert await app.click(person, channel, next(iter(buttons_of(message).values()))[0 if n % 2 else -1]) == 200
    await app.wait_for(lambda: len(double.ephemerals) >= len(people))

    # Listed while open: its id, and no count yet (answers are counted as of the start of the hour).
    code, out, _ = await pulse(capsys, "rounds", "list", str(survey.id))
    assert code == 0
    [header, line] = out.strip().splitlines()
    assert line.split()[:3] == [str(round_.id), "1", "open"] and "not shown below 5" in line
    assert "id" in header and "answered" in header

    code, out, _ = await pulse(capsys, "rounds", "close", "--survey", str(survey.id))
    assert code == 0 and out.startswith(f"closed round 1 of survey {survey.id}: sealed")
    code, out, _ = await pulse(capsys, "rounds", "close", str(round_.id))
    assert code == 0 and "was already closed; nothing changed" in out
    code, out, _ = await pulse(capsys, "rounds", "list", str(survey.id))
    assert "closed" in out and "7 per item" in out

    # The digest reports it at once, though its window has days to run.
    digest = await operations.digest_for(app.db, app.ctx.banks, survey.id, now=NOW + dt.timedelta(seconds=1))
    [item] = digest.items
    assert item.n == len(people) and item.round_seq == 1
    # A late click is told the round has closed, and changes nothing.
    before = await snapshot(app)
    assert await app.click(STAFF_A[9], SCHOOL_A, options[0]) == 200
    await app.wait_for(lambda: any("has closed" in (e.get("text") or "") for e in double.ephemerals))
    assert await snapshot(app) == before


async def test_a_coordinator_closes_the_open_round_from_slack_after_confirming(
    app: Harness, double: SlackDouble
) -> None:
    survey = await make_survey(app, items_per_round=1, k=5)
    assert (await pulse_as(app, ADMIN, "close"))["text"] == "No survey has an open round; nothing to close."
    round_, _ = await operations.open_and_send(
        app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=NOW, scheduled=False
    )
    assert round_ is not None
    [posted] = double.messages_in(SCHOOL_A)
    options = next(iter(buttons_of(posted).values()))
    for n, person in enumerate(STAFF_A[:6]):
        assert await app.click(person, SCHOOL_A, options[0 if n % 2 else -1]) == 200  # not unanimous
    await app.wait_for(lambda: len(double.ephemerals) >= 6)

    # `/pulse close` names the one survey with an open round and asks first; nothing is sealed yet.
    question = await pulse_as(app, ADMIN, "close")
    assert validate_blocks(question["blocks"]) == []
    [button] = [e for b in question["blocks"] if b["type"] == "actions" for e in b["elements"] if e.get("confirm")]
    assert button["action_id"] == CLOSE_CONFIRMED and button["value"] == f"{survey.id}:{round_.id}"
    assert "sealed" in json.dumps(question["blocks"]) and "no longer be answered" in json.dumps(button["confirm"])
    async with app.db.session() as session:
        assert (await session.get(Round, round_.id)).closed_at is None  # type: ignore[union-attr]

    # Staff cannot press it into effect; the coordinator can, once.
    before = len(double.responses)
    assert await press(app, STAFF_A[0], CLOSE_CONFIRMED, button["value"]) == 200
    await app.wait_for(lambda: len(double.responses) > before)
    assert double.responses[-1]["body"]["text"].startswith("Sorry, only Pulse coordinators")
    for expected in ("Closed round 1 of", "was already closed; nothing changed"):
        before = len(double.responses)
        assert await press(app, ADMIN, CLOSE_CONFIRMED, button["value"]) == 200
        await app.wait_for(lambda b=before: len(double.responses) > b)
        assert expected in double.responses[-1]["body"]["text"]
    async with app.db.session() as session:
        assert (await session.get(Round, round_.id)).closed_at is not None  # type: ignore[union-attr]

    # The results show the round at once; a late click is told it has closed.
    digest = await operations.digest_for(app.db, app.ctx.banks, survey.id, now=NOW + dt.timedelta(seconds=1))
    assert [i.n for i in digest.items] == [6]
    assert await app.click(STAFF_A[9], SCHOOL_A, options[0]) == 200
    await app.wait_for(lambda: any("has closed" in (e.get("text") or "") for e in double.ephemerals))
    assert (await pulse_as(app, ADMIN, f"close {survey.id}"))["text"] == (
        f"Survey {survey.id} has no open round; nothing to close."
    )
