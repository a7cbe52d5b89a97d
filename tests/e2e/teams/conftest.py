from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.teams.ids import conversation_key
from storage.models import Survey
from surveys.banks import BankRegistry
from surveys.config import SurveyConfig
from tests.harness import SimClock
from tests.teams_double import TENANT, Team, TeamsDouble
from tests.teams_double.harness import TeamsHarness

# Two schools' teams (a team's first channel has the team's id) and the leaders' team.
OAKFIELD = "19:0a1f0a1f0a1f0a1f0a1f0a1f0a1f0a1f@thread.tacv2"
ELMHURST = "19:e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1@thread.tacv2"
LEADERS = "19:1ead1ead1ead1ead1ead1ead1ead1ead@thread.tacv2"
STAFF_A = [f"a0000000-0000-4000-8000-{n:012d}" for n in range(12)]
STAFF_B = [f"b0000000-0000-4000-8000-{n:012d}" for n in range(12)]
LEADER = "c0000000-0000-4000-8000-000000000001"
COORDINATOR = "d0000000-0000-4000-8000-000000000001"
START = dt.datetime(2026, 9, 7, 8, 0, tzinfo=dt.UTC)  # Monday 09:00 in London


@pytest.fixture
async def teams() -> AsyncIterator[TeamsDouble]:
    double = TeamsDouble(
        teams={
            OAKFIELD: Team("Oakfield Primary", STAFF_A),
            ELMHURST: Team("Elmhurst Academy", STAFF_B),
            LEADERS: Team("Leadership", [LEADER, COORDINATOR]),
        }
    )
    async with double:
        yield double


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
async def app(db_url: str, teams: TeamsDouble, clock: SimClock, banks: BankRegistry) -> AsyncIterator[TeamsHarness]:
    async with TeamsHarness(
        db_url, double=teams, clock=clock, banks=banks, settings={"teams_coordinators": COORDINATOR}
    ) as h:
        yield h


async def installed(h: TeamsHarness) -> tuple[str, str, str]:
    """The app added to both schools' teams and the leaders' team; their conversation keys."""
    return (
        await h.install_team(OAKFIELD, name="Oakfield Primary"),
        await h.install_team(ELMHURST, name="Elmhurst Academy"),
        await h.install_team(LEADERS, name="Leadership"),
    )


async def make_teams_survey(h: TeamsHarness, **overrides: object) -> Survey:
    values: dict[str, object] = {
        "name": "Trust pulse",
        "platform": "teams",
        "workspace_id": TENANT,
        "bank_ids": ["staff-trust-in-leadership"],
        "audience": [conversation_key(OAKFIELD), conversation_key(ELMHURST)],
        "segment_labels": {conversation_key(OAKFIELD): "Oakfield Primary", conversation_key(ELMHURST): "Elmhurst"},
        "digest_channel": conversation_key(LEADERS),
        "items_per_round": 2,
        "k": 5,
    }
    values.update(overrides)
    config = SurveyConfig.model_validate(values)
    async with h.db.session() as session:
        survey = config.to_model()
        session.add(survey)
        await session.flush()
    return survey
