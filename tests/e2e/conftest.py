from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from storage.models import Survey
from surveys.config import SurveyConfig
from tests.harness import Harness, SimClock
from tests.slack_double import SlackDouble

SCHOOL_A, SCHOOL_B, LEADERS = "C0SCHOOLA", "C0SCHOOLB", "C0LEADERS"
STAFF_A = [f"UA{n:03d}" for n in range(12)]
STAFF_B = [f"UB{n:03d}" for n in range(12)]
START = dt.datetime(2026, 9, 7, 8, 0, tzinfo=dt.UTC)  # Monday 09:00 in London


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    d = SlackDouble(
        channels={
            SCHOOL_A: {"name": "school-a", "members": STAFF_A},
            SCHOOL_B: {"name": "school-b", "members": STAFF_B},
            LEADERS: {"name": "leaders", "members": ["UL001"]},
        },
        users={"UADMIN": {"is_admin": True}},
    )
    async with d:
        yield d


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
async def app(db_url: str, double: SlackDouble, clock: SimClock, banks) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    async with Harness(db_url, double=double, clock=clock, banks=banks) as h:
        yield h


async def make_survey(h: Harness, **overrides: object) -> Survey:
    values: dict[str, object] = {
        "name": "Trust pulse",
        "bank_ids": ["staff-trust-in-leadership"],
        "audience": [SCHOOL_A, SCHOOL_B],
        "digest_channel": LEADERS,
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
