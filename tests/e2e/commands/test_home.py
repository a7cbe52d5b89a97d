"""App Home through signed events and button presses: staff, coordinators and leaders each see theirs."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.logs import quiet_chatty_loggers
from bot.slack.views import DELETE_CONFIRMED
from storage.models import Round, Survey
from surveys import operations
from surveys.banks import BankRegistry
from surveys.banks.registry import BUILTIN_DIR
from surveys.reminders import remind_round
from tests.e2e.conftest import LEADERS, STAFF_A, make_survey
from tests.e2e.pulse_support import (
    ADMIN,
    LEADER,
    OUTSIDER,
    SCHOOL_A,
    STAFF,
    open_home,
    press,
    published_home,
    pulse,
    snapshot,
)
from tests.harness import Harness, SimClock, buttons_of
from tests.slack_double import SlackDouble, validate_view


async def home_of(app: Harness, user: str) -> dict[str, Any]:
    before = len(app.double.views)
    assert await open_home(app, user) == 200
    await app.wait_for(lambda: any(v["kind"] == "publish" for v in app.double.views[before:]))
    view = published_home(app, user)
    assert view is not None and validate_view(view, surface="home") == []
    return view


async def press_on_home(app: Harness, user: str, action_id: str, value: str) -> dict[str, Any] | None:
    """Press a Home button; the Home published (or modal opened) in answer."""
    before = len(app.double.views)
    assert await press(app, user, action_id, value, home=True) == 200
    await app.wait_for(lambda: len(app.double.views) > before)
    latest = app.double.views[-1]
    return latest["view"] if latest["kind"] == "publish" else None


async def open_round(app: Harness) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    survey = await make_survey(app, name="Oakfield trust")
    round_, report = await operations.open_and_send(
        app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=app.ctx.clock()
    )
    assert round_ is not None and report.sent == 2
    return survey.id, buttons_of(app.double.messages_in(SCHOOL_A)[0])


async def test_staff_see_what_is_open_and_only_their_own_answers(app: Harness, double: SlackDouble) -> None:
    _, buttons = await open_round(app)
    (_, first_options), _ = list(buttons.items())
    agree = next(b for b in first_options if '"o":"agree"' in b["value"])
    assert await app.click(STAFF, SCHOOL_A, agree) == 200
    await app.wait_for(lambda: len(double.ephemerals) == 1)

    mine = json.dumps(await home_of(app, STAFF))
    assert "Oakfield trust" in mine and "round 1" in mine
    assert mine.count("you answered *Agree*") == 1 and mine.count("_not answered yet_") == 1
    assert "How your anonymity is protected" in mine
    assert "Your surveys" not in mine and "pulse:pause" not in mine

    colleague = json.dumps(await home_of(app, STAFF_A[1]))
    assert "you answered *" not in colleague and colleague.count("_not answered yet_") == 2

    outsider = json.dumps(await home_of(app, OUTSIDER))
    assert "Nothing is open for you right now" in outsider


async def test_opening_home_logs_no_person_next_to_an_answer(
    app: Harness, double: SlackDouble, caplog: pytest.LogCaptureFixture
) -> None:
    quiet_chatty_loggers()
    _, buttons = await open_round(app)
    button = next(iter(buttons.values()))[0]
    await app.click(STAFF, SCHOOL_A, button)
    await app.wait_for(lambda: len(double.ephemerals) == 1)
    caplog.set_level(logging.DEBUG)
    await home_of(app, STAFF)
    option = json.loads(button["value"])["o"]
    for record in caplog.records:
        line = record.getMessage()
        assert not (STAFF in line and option in line), line


async def test_coordinators_see_their_surveys_and_run_them_from_home(app: Harness, double: SlackDouble) -> None:
    survey = await make_survey(app, name="Oakfield trust")
    sid = str(survey.id)
    home = json.dumps(await home_of(app, ADMIN))
    assert "Your surveys" in home and "Oakfield trust" in home and "active" in home and "next round" in home
    for action in ("pulse:edit", "pulse:pause", "pulse:send-now", DELETE_CONFIRMED):
        assert action in home

    view = await press_on_home(app, ADMIN, "pulse:pause", sid)
    assert view is not None and "paused: no rounds go out" in json.dumps(view)
    assert "pulse:resume" in json.dumps(view) and "pulse:send-now" not in json.dumps(view)
    view = await press_on_home(app, ADMIN, "pulse:resume", sid)
    assert view is not None and "resumed" in json.dumps(view)

    view = await press_on_home(app, ADMIN, "pulse:send-now", sid)
    assert view is not None and "Opened round 1" in json.dumps(view)
    await app.drain_outbox()
    assert len(double.messages_in(SCHOOL_A)) == 1

    assert await press_on_home(app, ADMIN, "pulse:edit", sid) is None
    assert double.views[-1]["kind"] == "open" and double.views[-1]["view"]["title"]["text"] == f"Edit survey {sid}"

    view = await press_on_home(app, ADMIN, DELETE_CONFIRMED, sid)
    assert view is not None and f"Deleted survey {sid}" in json.dumps(view)
    async with app.db.session() as session:
        assert (await session.scalars(select(Survey))).all() == []
        assert (await session.scalars(select(Round))).all() == []


@pytest.mark.parametrize("user", [STAFF, LEADER, OUTSIDER])
@pytest.mark.parametrize("action", ["pulse:pause", "pulse:send-now", "pulse:edit", DELETE_CONFIRMED])
async def test_home_buttons_pressed_by_others_change_nothing(app: Harness, user: str, action: str) -> None:
    survey = await make_survey(app)
    before = await snapshot(app)
    view = await press_on_home(app, user, action, str(survey.id))
    assert view is not None and "Sorry, only Pulse coordinators" in json.dumps(view)
    assert await snapshot(app) == before
    assert app.double.messages == [] and [v for v in app.double.views if v["kind"] == "open"] == []


async def test_a_stale_home_button_is_harmless(app: Harness) -> None:
    view = await press_on_home(app, ADMIN, "pulse:pause", "not-a-number")
    assert view is not None and "out of date" in json.dumps(view)
    view = await press_on_home(app, ADMIN, "pulse:pause", "999")
    assert view is not None and "There is no survey 999" in json.dumps(view)


async def test_leaders_see_the_latest_digest_and_staff_do_not(app: Harness) -> None:
    await make_survey(app, name="Oakfield trust")
    leader = json.dumps(await home_of(app, LEADER))
    assert "Latest digest: Oakfield trust" in leader and "Pulse digest" in leader
    assert "Your surveys" not in leader
    staff = json.dumps(await home_of(app, STAFF))
    assert "Latest digest" not in staff


def mrkdwn_texts(node: Any) -> list[str]:
    """Every mrkdwn text in a block tree (plain_text shows characters as they are and pings nobody)."""
    if isinstance(node, list):
        return [t for n in node for t in mrkdwn_texts(n)]
    if not isinstance(node, dict):
        return []
    own = [str(node.get("text"))] if node.get("type") == "mrkdwn" else []
    return own + [t for v in node.values() for t in mrkdwn_texts(v)]


async def test_typed_names_cannot_ping_or_disguise_a_link_in_the_round_or_on_app_home(
    app: Harness, double: SlackDouble
) -> None:
    # Issue 23, item 5: what a coordinator types goes into mrkdwn escaped.
    name = "<!channel> pulse & <https://evil.example|your payslip> for <@UA000>"
    survey = await make_survey(app, name=name)
    round_, report = await operations.open_and_send(
        app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=app.ctx.clock()
    )
    assert round_ is not None and report.sent == 2
    escaped = "&lt;!channel&gt; pulse &amp; &lt;https://evil.example|your payslip&gt; for &lt;@UA000&gt;"
    reply = await pulse(app, ADMIN, "surveys")  # sent back as mrkdwn through the response_url
    surfaces = (double.messages_in(SCHOOL_A)[0]["blocks"], (await home_of(app, ADMIN))["blocks"], [reply])
    for surface in surfaces:
        texts = mrkdwn_texts(surface) or [str(reply.get("text"))]
        assert any(escaped in t for t in texts), texts
        assert not any(raw in t for t in texts for raw in ("<!channel>", "<https://evil", "<@UA000>"))


RAW = ("<!channel>", "<https://evil", "<@UA000>")


def _safe(texts: list[str]) -> None:
    assert texts
    assert not any(raw in t for t in texts for raw in RAW), texts


async def test_typed_words_cannot_ping_from_reminders_digests_results_or_confirmations(
    db_url: str, double: SlackDouble, clock: SimClock, tmp_path: Path
) -> None:
    """Issue 23, item 5, for the rest of what reaches mrkdwn: a survey's name in a reminder, a
    digest's and /pulse results' notification text; a school's own bank's option label in the
    private confirmation of a click."""
    evil = " <!channel> & <https://evil.example|payslip> <@UA000>"
    bank = (BUILTIN_DIR / "staff-trust-in-one-another.yaml").read_text()
    bank = bank.replace("id: staff-trust-in-one-another", "id: our-bank").replace("id: peer-", "id: our-")
    # Option labels are short (30 characters at most): enough for a ping.
    (tmp_path / "our-bank.yaml").write_text(bank.replace("label: Strongly agree", 'label: "Yes <!channel>"'))
    async with Harness(db_url, double=double, clock=clock, banks=BankRegistry.load(tmp_path)) as app:
        survey = await make_survey(app, name=f"Pulse{evil}", bank_ids=["our-bank"], items_per_round=1, k=3)
        round_, _ = await operations.open_and_send(
            app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=app.ctx.clock()
        )
        assert round_ is not None
        [posted] = double.messages_in(SCHOOL_A)
        _safe([posted["text"], *mrkdwn_texts(posted["blocks"])])
        strongly = next(iter(buttons_of(posted).values()))[0]
        for person in STAFF_A[:4]:
            assert await app.click(person, SCHOOL_A, strongly) == 200
        await app.wait_for(lambda: len(double.ephemerals) >= 4)
        confirmation = double.ephemerals[0]
        assert "Yes &lt;!channel&gt;" in confirmation["text"]
        _safe([confirmation["text"], *mrkdwn_texts(confirmation.get("blocks") or [])])

        async with app.db.session() as session:
            (await session.get(Survey, survey.id)).remind_hours = 24  # type: ignore[union-attr]
        later = round_.opened_at + (round_.closes_at - round_.opened_at) * 3 / 4
        platform = app.ctx.require_platform()
        assert await remind_round(app.db, platform, app.ctx.banks, app.ctx.secret, round_.id, now=later)
        reminders = [e for e in double.ephemerals if "Reminder" in e["text"]]
        _safe([t for r in reminders for t in [r["text"], *mrkdwn_texts(r["blocks"])]])

        await operations.post_digest(app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=round_.closes_at)
        digest = double.messages_in(LEADERS)[-1]
        _safe([digest["text"], *mrkdwn_texts(digest["blocks"])])
        app.ctx.clock.now = round_.closes_at  # type: ignore[attr-defined]
        results = await pulse(app, ADMIN, f"results {survey.id}")
        _safe([results["text"], *mrkdwn_texts(results.get("blocks") or [])])
