"""Teams' 429s and transient errors, injected by the Bot Connector double at the network edge.

The pacer runs on a virtual clock, so waits are measured exactly and cost no real time.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from bot.teams.throttle import PER_APP, PER_CONVERSATION, Throttle
from storage.models import Round
from surveys import operations
from surveys.banks import BankRegistry
from surveys.pacing import Pacer
from surveys.platform import PlatformError
from surveys.rounds import round_message
from tests.e2e.teams.conftest import ELMHURST, OAKFIELD, installed, make_teams_survey
from tests.harness import SimClock
from tests.teams_double import Call, TeamsDouble, cards_of
from tests.teams_double.harness import TeamsHarness


class VirtualTime:
    """A monotonic clock that moves only when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)


@pytest.fixture
def time_() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
async def app(
    db_url: str, teams: TeamsDouble, clock: SimClock, banks: BankRegistry, time_: VirtualTime
) -> AsyncIterator[TeamsHarness]:
    pacer = Pacer(per_key=PER_CONVERSATION, shared=PER_APP, clock=time_.clock, sleep=time_.sleep)
    throttle = Throttle(pacer, rng=random.Random(7))
    async with TeamsHarness(db_url, double=teams, clock=clock, banks=banks, throttle=throttle) as h:
        yield h


def _posts(teams: TeamsDouble, conversation: str) -> list[Call]:
    return [c for c in teams.calls_to("POST", f"/conversations/{conversation}/activities")]


async def test_429_waits_at_least_retry_after_plus_jitter_then_posts_once(
    app: TeamsHarness, teams: TeamsDouble, time_: VirtualTime
) -> None:
    await installed(app)
    survey = await make_teams_survey(app)
    teams.rate_limit_next(2, retry_after="3", path_contains=f"{OAKFIELD}/activities")
    round_, report = await operations.open_and_send(app.db, app.ctx.banks, app.platform, survey.id, now=app.ctx.clock())
    assert round_ is not None and (report.sent, report.failed) == (2, 0)
    throttled = _posts(teams, OAKFIELD)
    assert [c.status for c in throttled[-3:]] == [429, 429, 201]
    assert len([m for m in teams.messages_in(OAKFIELD) if cards_of(m)]) == 1
    waits = app.platform.throttle.waits
    assert len(waits) == 2 and all(w >= 3.0 for w in waits)
    # Jittered, and backing off: not two identical waits.
    assert waits[0] != waits[1] and max(waits) <= 3.0 + 30.0
    # The pacer really held the conversation that long before trying again.
    assert sum(time_.slept) >= sum(waits) - 1e-6
    # The other school was not held up by Oakfield's throttling.
    assert [c.status for c in _posts(teams, ELMHURST)[-1:]] == [201]


async def test_429_without_retry_after_still_backs_off_with_jitter(app: TeamsHarness, teams: TeamsDouble) -> None:
    await installed(app)
    survey = await make_teams_survey(app)
    teams.rate_limit_next(1, retry_after=None, path_contains=f"{OAKFIELD}/activities")
    _, report = await operations.open_and_send(app.db, app.ctx.banks, app.platform, survey.id, now=app.ctx.clock())
    assert report.sent == 2
    [wait] = app.platform.throttle.waits
    assert 0.0 <= wait <= 0.5 * 2


async def test_throttled_past_the_attempts_tells_the_outbox_when_to_come_back(
    app: TeamsHarness, teams: TeamsDouble
) -> None:
    key = (await installed(app))[0]
    survey = await make_teams_survey(app)
    round_, _ = await operations.open_and_send(app.db, app.ctx.banks, app.platform, survey.id, now=app.ctx.clock())
    assert round_ is not None
    async with app.db.session() as s:
        message = round_message(survey, await s.get(Round, round_.id), app.ctx.banks)  # type: ignore[arg-type]
    teams.rate_limit_next(10, retry_after="20", path_contains=f"{OAKFIELD}/activities")
    before = len(_posts(teams, OAKFIELD))
    with pytest.raises(PlatformError) as throttled:
        await app.platform.post_round(key, message)
    assert throttled.value.transient and throttled.value.retry_after == 20.0
    assert not throttled.value.maybe_delivered
    assert len(_posts(teams, OAKFIELD)) - before == app.platform.throttle.attempts


async def test_a_5xx_on_a_post_is_handed_back_not_repeated_blindly(app: TeamsHarness, teams: TeamsDouble) -> None:
    await installed(app)
    survey = await make_teams_survey(app)
    teams.fail_next(1, status=502, path_contains=f"{OAKFIELD}/activities")
    _, report = await operations.open_and_send(app.db, app.ctx.banks, app.platform, survey.id, now=app.ctx.clock())
    # The platform raised "maybe delivered"; the outbox asked find_delivery (Teams cannot look a
    # message up, so: not found) and posted again. Both schools have their card.
    assert report.sent == 2 and report.retried == 1
    assert [c.status for c in _posts(teams, OAKFIELD)[-2:]] == [502, 201]
    assert app.platform.throttle.waits == []


async def test_reading_a_roster_retries_a_transient_error_in_place(app: TeamsHarness, teams: TeamsDouble) -> None:
    key = (await installed(app))[0]
    teams.fail_next(1, status=503, path_contains="pagedmembers")
    members = await app.platform.channel_members(key)
    assert len(members) == 12
    assert [c.status for c in teams.calls_to("GET", "pagedmembers")] == [503, 200]


async def test_a_refusal_is_not_retried(app: TeamsHarness, teams: TeamsDouble) -> None:
    key = (await installed(app))[0]
    teams.fail_next(1, status=403, path_contains="pagedmembers")
    with pytest.raises(PlatformError) as refused:
        await app.platform.channel_members(key)
    assert not refused.value.transient and len(teams.calls_to("GET", "pagedmembers")) == 1
