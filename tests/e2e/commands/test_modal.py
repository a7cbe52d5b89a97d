"""The new/edit survey modal through signed HTTP: opened by /pulse, submitted as Slack submits it.

Good input creates or changes the survey; bad input comes back on its field (response_action:
errors) and changes nothing; someone who is not a coordinator changes nothing either.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Round, Survey
from surveys import operations
from surveys.banks import BankRegistry
from surveys.banks.registry import BUILTIN_DIR
from tests.e2e.conftest import make_survey
from tests.e2e.pulse_support import (
    ADMIN,
    LEADER,
    LEADERS,
    SCHOOL_A,
    SCHOOL_B,
    STAFF,
    STAFF_GROUP,
    modal_state,
    published_home,
    pulse,
    snapshot,
    submit_view,
)
from tests.harness import Harness, SimClock
from tests.slack_double import SlackDouble, validate_view

BANK = "staff-trust-in-leadership"


async def open_modal(app: Harness, user: str, text: str = "new") -> dict[str, Any]:
    before = len(app.double.views)
    assert await app.command(user, text) == 200
    await app.wait_for(lambda: len(app.double.views) > before)
    opened = app.double.views[-1]
    assert opened["kind"] == "open"
    assert validate_view(opened["view"], surface="modal") == []
    return opened["view"]


GOOD = {
    "name": "Partnership pulse",
    "bank_ids": [BANK],
    "channels": [SCHOOL_A, SCHOOL_B],
    "cadence": "weekly",
    "weekday": "tue",
    "time": "08:30",
    "items_per_round": "2",
    "round_hours": "48",
    "digest_channel": LEADERS,
    "digest_weekday": "fri",
    "digest_time": "15:00",
    "k": "6",
}


async def submitted(
    app: Harness, user: str, view: dict[str, Any], values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Submit the modal: Slack's answer at once, and the view that replaces "Saving…" (if any)."""
    before = len(app.double.views)
    status, body = await submit_view(app, user, view, values)
    assert status == 200
    if body.get("response_action") != "update" or body["view"]["title"]["text"] != "Saving…":
        return body, None
    await app.wait_for(lambda: any(v["kind"] == "update" for v in app.double.views[before:]))
    return body, next(v["view"] for v in app.double.views[before:] if v["kind"] == "update")


def problems_on(view: dict[str, Any]) -> dict[str, str]:
    """The form sent back: each field's problem, from the warning under it."""
    out: dict[str, str] = {}
    for block, after in zip(view["blocks"], view["blocks"][1:], strict=False):
        if after["type"] == "context" and after["elements"][0]["text"].startswith(":warning: "):
            out[block["block_id"]] = after["elements"][0]["text"].removeprefix(":warning: ")
    return out


async def saved(app: Harness, body: dict[str, Any]) -> None:
    """A saved survey; then wait for the App Home refresh that follows the answer to Slack."""
    assert body["response_action"] == "update", body
    await app.wait_for(lambda: published_home(app, ADMIN) is not None)


async def surveys(app: Harness) -> list[Survey]:
    async with app.db.session() as session:
        return list((await session.scalars(select(Survey).order_by(Survey.id))).all())


async def test_new_opens_with_the_coordinators_time_zone_and_creates_the_survey(app: Harness) -> None:
    view = await open_modal(app, ADMIN)
    tz = next(b for b in view["blocks"] if b["block_id"] == "timezone")
    assert tz["element"]["initial_value"] == "America/New_York"  # from users.info

    body, answer = await submitted(app, ADMIN, view, modal_state(view, **GOOD))

    # Slack's answer is "Saving…" at once; the result replaces it once saved.
    assert body["response_action"] == "update" and validate_view(body["view"], surface="modal") == []
    assert answer is not None and "Created survey 1" in json.dumps(answer)
    assert validate_view(answer, surface="modal") == []
    [survey] = await surveys(app)
    assert (survey.name, survey.bank_ids, survey.audience_kind, survey.audience) == (
        "Partnership pulse",
        [BANK],
        "channels",
        [SCHOOL_A, SCHOOL_B],
    )
    assert (survey.schedule, survey.cadence, survey.digest_schedule) == ("30 8 * * tue", "weekly", "0 15 * * fri")
    assert (survey.timezone, survey.items_per_round, survey.round_hours, survey.k) == ("America/New_York", 2, 48, 6)
    assert (survey.workspace_id, survey.paused, survey.digest_channel) == (app.double.team_id, False, LEADERS)
    # The coordinator's App Home is refreshed to show it.
    await app.wait_for(lambda: published_home(app, ADMIN) is not None)
    assert "Partnership pulse" in json.dumps(published_home(app, ADMIN))


async def test_a_user_group_audience_is_answered_by_dm(app: Harness, double: SlackDouble) -> None:
    view = await open_modal(app, ADMIN)
    _status, body = await submit_view(
        app, ADMIN, view, modal_state(view, **{**GOOD, "channels": [], "usergroup": STAFF_GROUP})
    )
    await saved(app, body)
    [survey] = await surveys(app)
    assert (survey.audience_kind, survey.audience) == ("usergroup", [STAFF_GROUP])
    reply = await pulse(app, ADMIN, f"send-now {survey.id}")
    assert "12 message(s) queued" in reply["text"]
    assert (await app.drain_outbox()).sent == 12
    assert len(double.dms) == 12


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"k": "2"}, {"k"}),
        ({"timezone": "Mars/Olympus"}, {"timezone"}),
        ({"usergroup": STAFF_GROUP}, {"channels"}),
        ({"channels": []}, {"channels"}),
        ({"round_hours": "200"}, {"round_hours"}),
        ({"bank_ids": ["not-a-bank"]}, {"bank_ids"}),
        (
            {"items_per_round": "11", "time": None, "digest_channel": None},
            {"items_per_round", "time", "digest_channel"},
        ),
        ({"name": ["a", "forged", "list"]}, {"name"}),
        ({"k": {"nested": True}}, {"k"}),
        ({"not_a_field": "x"}, set()),
    ],
)
async def test_bad_input_is_shown_on_its_field_and_changes_nothing(
    app: Harness, changes: dict[str, Any], fields: set[str]
) -> None:
    view = await open_modal(app, ADMIN)
    before = await snapshot(app)
    status, body = await submit_view(app, ADMIN, view, modal_state(view, **{**GOOD, **changes}))
    assert status == 200
    if not fields:  # an unknown field is ignored, and the rest is fine
        await saved(app, body)
        return
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == fields
    assert all(0 < len(message) <= 150 for message in body["errors"].values())
    assert "Traceback" not in json.dumps(body)
    assert await snapshot(app) == before


async def test_edit_changes_the_survey_and_keeps_its_rotation(app: Harness) -> None:
    survey = await make_survey(app, name="Old name")
    view = await open_modal(app, ADMIN, f"edit {survey.id}")
    assert view["title"]["text"] == f"Edit survey {survey.id}"
    body, answer = await submitted(
        app, ADMIN, view, modal_state(view, name="New name", cadence="fortnightly", weekday="thu", time="13:15", k="6")
    )
    await saved(app, body)
    assert f"Saved survey {survey.id}" in json.dumps(answer)
    [changed] = await surveys(app)
    assert (changed.name, changed.schedule, changed.cadence, changed.k) == (
        "New name",
        "15 13 * * thu",
        "fortnightly",
        6,
    )
    assert (changed.seed, changed.audience, changed.bank_ids) == (survey.seed, survey.audience, survey.bank_ids)


async def test_editing_a_survey_with_a_custom_schedule_keeps_it(app: Harness) -> None:
    survey = await make_survey(app, schedule="0 9 * * 1-5", digest_schedule="0 8 1 * *")
    view = await open_modal(app, ADMIN, f"edit {survey.id}")
    _status, body = await submit_view(app, ADMIN, view, modal_state(view, name="Daily"))
    await saved(app, body)
    [changed] = await surveys(app)
    assert (changed.name, changed.schedule, changed.digest_schedule) == ("Daily", "0 9 * * 1-5", "0 8 1 * *")


@pytest.mark.parametrize("user", [STAFF, LEADER])
async def test_a_submission_from_someone_who_is_not_a_coordinator_changes_nothing(app: Harness, user: str) -> None:
    survey = await make_survey(app)
    view = await open_modal(app, ADMIN, f"edit {survey.id}")
    before = await snapshot(app)
    for metadata in (view["private_metadata"], json.dumps({"survey_id": None})):
        _body, answer = await submitted(app, user, {**view, "private_metadata": metadata}, modal_state(view, **GOOD))
        assert "Sorry, only Pulse coordinators" in json.dumps(answer)
    assert await snapshot(app) == before


async def test_saving_a_survey_deleted_meanwhile_says_so(app: Harness) -> None:
    survey = await make_survey(app)
    view = await open_modal(app, ADMIN, f"edit {survey.id}")
    async with app.db.session() as session:
        await session.delete(await session.get(Survey, survey.id))
    _body, answer = await submitted(app, ADMIN, view, modal_state(view))
    assert "There is no survey" in json.dumps(answer)
    assert await surveys(app) == []


async def test_a_database_failure_is_one_short_sentence(app: Harness, caplog: pytest.LogCaptureFixture) -> None:
    view = await open_modal(app, ADMIN)
    working = app.ctx.db
    app.ctx.db = Database("sqlite+aiosqlite:////nonexistent-dir/pulse.db")
    try:
        with caplog.at_level(logging.ERROR):
            _body, answer = await submitted(app, ADMIN, view, modal_state(view, **GOOD))
    finally:
        await app.ctx.db.dispose()
        app.ctx.db = working
    assert answer is not None
    assert answer["blocks"][0]["text"]["text"] == "Sorry, the survey could not be saved just now. Please try again."
    assert any("saving a survey failed: OperationalError" in r.getMessage() for r in caplog.records)
    assert not any(r.exc_info for r in caplog.records)


async def test_a_modal_that_cannot_open_in_time_is_explained(app: Harness, double: SlackDouble) -> None:
    double.faults.fail_next("views.open", status=200, error="expired_trigger_id")
    reply = await pulse(app, ADMIN, "new")
    assert reply["text"] == "The form could not be opened in time. Please run the command again."


async def test_a_fortnightly_survey_sends_every_other_week(app: Harness, clock: SimClock) -> None:
    view = await open_modal(app, ADMIN)
    changes = {**GOOD, "cadence": "fortnightly", "weekday": "mon", "time": "09:00", "timezone": "Europe/London"}
    _status, body = await submit_view(app, ADMIN, view, modal_state(view, **changes))
    await saved(app, body)
    [survey] = await surveys(app)
    opened = []
    first = dt.datetime(2026, 9, 14, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    for week in range(6):
        clock.now = (first + dt.timedelta(weeks=week)).astimezone(dt.UTC)
        round_, _ = await operations.open_and_send(
            app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=clock.now
        )
        opened.append(round_ is not None)
    assert opened == [True, False, True, False, True, False]
    async with app.db.session() as session:
        assert len((await session.scalars(select(Round))).all()) == 3


async def test_an_audience_too_small_to_stay_anonymous_is_refused_on_its_field(
    app: Harness, double: SlackDouble
) -> None:
    view = await open_modal(app, ADMIN)
    before = await snapshot(app)
    # Each school channel has 12 people: enough for k = 6 (12), not for k = 7 (14). Counting them
    # needs Slack, so the form comes back after "Saving…", the problem under its field.
    _body, answer = await submitted(app, ADMIN, view, modal_state(view, **{**GOOD, "k": "7"}))
    assert answer is not None and validate_view(answer, surface="modal") == []
    rule = "at least 14 are needed (twice the anonymity threshold, k = 7)."
    assert problems_on(answer) == {"channels": f"The channel {SCHOOL_A} has 12 people: {rule}"}
    assert [b["element"].get("initial_value") for b in answer["blocks"] if b.get("block_id") == "k"] == ["7"]
    assert await snapshot(app) == before
    _status, body = await submit_view(app, ADMIN, view, modal_state(view, **GOOD))
    await saved(app, body)
    assert [s.k for s in await surveys(app)] == [6]

    # A user group is counted whole: six people cannot carry a survey at k = 5.
    double.usergroups[STAFF_GROUP] = double.usergroups[STAFF_GROUP][:6]
    view = await open_modal(app, ADMIN)
    before = await snapshot(app)
    _body, answer = await submitted(
        app, ADMIN, view, modal_state(view, **{**GOOD, "channels": [], "usergroup": STAFF_GROUP, "k": "5"})
    )
    assert answer is not None and "has 6 people: at least 10" in problems_on(answer)["usergroup"]
    assert await snapshot(app) == before


async def test_every_bank_is_offered_in_the_modal_past_slacks_hundred_options(
    db_url: str, double: SlackDouble, clock: SimClock, tmp_path: Path
) -> None:
    """A school with 150 banks of its own sees all 156, grouped by kind, and can choose the last."""
    source = (BUILTIN_DIR / "staff-trust-in-one-another.yaml").read_text()
    for n in range(150):
        mine = source.replace("id: staff-trust-in-one-another", f"id: school-bank-{n:03d}")
        (tmp_path / f"school-bank-{n:03d}.yaml").write_text(mine.replace("id: peer-", f"id: s{n:03d}-peer-"))
    banks = BankRegistry.load(tmp_path)
    assert len(list(banks)) == 156
    async with Harness(db_url, double=double, clock=clock, banks=banks) as app:
        view = await open_modal(app, ADMIN)  # checked against Slack's limits there
        [element] = [b["element"] for b in view["blocks"] if b.get("block_id") == "bank_ids"]
        groups = element["option_groups"]
        offered = [o["value"] for g in groups for o in g["options"]]
        assert sorted(offered) == sorted(b.id for b in banks)
        assert [(g["label"]["text"], len(g["options"])) for g in groups] == [
            ("Trust behaviours", 1),
            ("Maturity strands", 1),
            ("Trust audits 1", 100),
            ("Trust audits 2", 54),
        ]
        status, body = await submit_view(
            app, ADMIN, view, modal_state(view, **{**GOOD, "bank_ids": ["school-bank-149"]})
        )
        assert status == 200
        await saved(app, body)
        [survey] = await surveys(app)
        assert survey.bank_ids == ["school-bank-149"]


async def test_the_form_is_answered_at_once_while_slack_is_slow_and_saved_after(
    app: Harness, double: SlackDouble
) -> None:
    """Issue 25: checking who may save and how many people each channel has asks Slack; with Slack
    taking 2 s a call, the answer to the submission still comes at once, and the result after."""
    view = await open_modal(app, ADMIN)
    for method in ("conversations.members", "users.info", "usergroups.list", "usergroups.users.list"):
        double.faults.slow(method, 2.0)
    started = asyncio.get_running_loop().time()
    status, body = await submit_view(app, ADMIN, view, modal_state(view, **GOOD))
    assert status == 200 and asyncio.get_running_loop().time() - started < 1.0
    assert body["response_action"] == "update" and body["view"]["title"]["text"] == "Saving…"
    await app.wait_for(lambda: any(v["kind"] == "update" for v in double.views), limit=30)
    [answer] = [v["view"] for v in double.views if v["kind"] == "update"]
    assert "Created survey 1" in json.dumps(answer)
    assert [s.name for s in await surveys(app)] == ["Partnership pulse"]
