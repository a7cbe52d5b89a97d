"""Operators see counts of clicks, never a line per click: a line's time would say when somebody answered."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.logs import Counters, quiet_chatty_loggers
from tests.e2e.conftest import SCHOOL_A, STAFF_A
from tests.e2e.test_checkins_flow import BEHAVIOURS, _values, button, elements, open_round
from tests.e2e.test_comments_flow import comment
from tests.harness import Harness
from tests.slack_double import SlackDouble


async def _healthz_counters(app: Harness) -> dict[str, int]:
    assert app.http is not None
    async with app.http.get(f"{app.url}/healthz") as resp:
        assert resp.status == 200
        counters: dict[str, int] = (await resp.json())["counters"]
        return counters


async def test_an_answer_picks_and_a_comment_log_nothing_until_the_periods_count(
    app: Harness, double: SlackDouble, caplog: pytest.LogCaptureFixture
) -> None:
    quiet_chatty_loggers()
    message = await open_round(app, double, bank_ids=["staff-trust-in-leadership", BEHAVIOURS], items_per_round=2)
    ids = [i.id for i in app.ctx.banks[BEHAVIOURS].items]
    caplog.clear()
    caplog.set_level(logging.INFO)

    statement = next(el for el in elements(message) if el["action_id"].startswith("answer:"))
    assert await app.click(STAFF_A[0], SCHOOL_A, statement) == 200
    await app.wait_for(lambda: len(double.ephemerals) == 1)
    assert await app.click(STAFF_A[0], SCHOOL_A, button(message, prefix="picks:")) == 200
    await app.wait_for(lambda: len(double.views) == 1)
    status, _ = await app.submit_view(STAFF_A[0], double.views[0]["view"], _values({"self:strong": ids[:2]}))
    assert status == 200
    await app.wait_for(lambda: len(double.ephemerals) == 2)
    assert (await comment(app, STAFF_A[0], SCHOOL_A, "A remark"))["response_action"] == "update"

    assert [r.getMessage() for r in caplog.records] == []
    # Nor does /healthz move with the clicks: it shows the totals as of the last line.
    assert await _healthz_counters(app) == {}

    app.ctx.counters.flush()
    [line] = [r.getMessage() for r in caplog.records]
    assert line == "in the last hour: 1 answers recorded, 1 comments recorded, 1 picks recorded"
    assert await _healthz_counters(app) == {"answers recorded": 1, "comments recorded": 1, "picks recorded": 1}


async def test_counters_are_written_on_the_period_and_only_when_something_happened(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    counters = Counters(logging.getLogger("test.counters"), every=0.05)
    counters.flush()
    assert caplog.records == []
    counters.add("answers", "recorded")
    counters.add("answers", "recorded")
    counters.add("answers", "not saved")
    assert caplog.records == []
    for _ in range(100):
        if caplog.records:
            break
        await asyncio.sleep(0.01)
    [line] = [r.getMessage() for r in caplog.records]
    assert line == "in the last 0.05 seconds: 1 answers not saved, 2 answers recorded"
    assert counters.published() == {"answers not saved": 1, "answers recorded": 2}
