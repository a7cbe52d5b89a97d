"""Shared pieces of the reliability tests: a DM audience on the Slack double, rounds, counts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.slack.platform import SlackBudget, SlackPlatform
from storage.db import Database
from storage.models import Delivery, Round, Survey
from surveys.banks import BankRegistry
from surveys.config import SurveyConfig
from surveys.pacing import Rate, RetryPolicy
from surveys.rounds import open_round
from surveys.sending import SendOptions
from tests.slack_double import SlackDouble

GROUP = "S0STAFF"
LEADERS = "C0LEADERS"
FAST = Rate(5000.0, 500)


def staff(n: int) -> list[str]:
    return [f"U{i:06d}" for i in range(n)]


def fast_budget(**overrides: Any) -> SlackBudget:
    """Budgets well above the double's (off by default) limits."""
    values: dict[str, Any] = {"post_per_channel": FAST, "post_workspace": FAST, "tier3": FAST, "timeout": 5.0}
    values.update(overrides)
    return SlackBudget(**values)


def options(**overrides: Any) -> SendOptions:
    values: dict[str, Any] = {
        "concurrency": 32,
        "lease": dt.timedelta(seconds=30),
        "lease_margin": dt.timedelta(seconds=5),
        "retry": RetryPolicy(base=0.05, cap=0.5, give_up_after=dt.timedelta(minutes=10)),
        "inline_wait": 5.0,
    }
    values.update(overrides)
    return SendOptions(**values)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture
async def dm_double() -> AsyncIterator[SlackDouble]:
    d = SlackDouble(usergroups={GROUP: staff(60)}, channels={LEADERS: {"members": ["UL0001"]}})
    async with d:
        yield d


def platform_for(double: SlackDouble, **budget: Any) -> SlackPlatform:
    return SlackPlatform(double.client(), budget=fast_budget(**budget))


async def add_survey(db: Database, **overrides: Any) -> int:
    values: dict[str, Any] = {
        "name": "Trust pulse",
        "bank_ids": ["staff-trust-in-leadership"],
        "audience_kind": "usergroup",
        "audience": [GROUP],
        "digest_channel": LEADERS,
        "items_per_round": 1,
        "quiet_start": None,
        "quiet_end": None,
        "quiet_weekends": False,
    }
    values.update(overrides)
    async with db.session() as session:
        survey = SurveyConfig.model_validate(values).to_model()
        session.add(survey)
        await session.flush()
        return survey.id


async def open_only(
    db: Database, banks: BankRegistry, platform: SlackPlatform, survey_id: int, at: dt.datetime | None = None
) -> Round:
    """Open a round and queue its deliveries, sending nothing (as a crash right after opening)."""
    at = at or now()
    async with db.session() as session:
        survey = await session.get(Survey, survey_id)
        assert survey is not None
        round_ = await open_round(session, survey, banks, platform, slot=at.replace(microsecond=0), now=at)
    assert round_ is not None
    return round_


async def statuses(db: Database) -> dict[str, int]:
    async with db.session() as session:
        rows = (await session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))).all()
    return {status: int(n) for status, n in rows}


async def deliveries(db: Database) -> list[Delivery]:
    async with db.session() as session:
        return list((await session.scalars(select(Delivery).order_by(Delivery.id))).all())


def round_messages(double: SlackDouble) -> list[dict[str, Any]]:
    return [m for m in double.messages if (m.get("metadata") or {}).get("event_type") == "pulse_delivery"]


def per_recipient(double: SlackDouble, users: list[str]) -> Counter[str]:
    """How many round messages each person got, by the DM they arrived in."""
    by_dm = {SlackDouble.dm_id([u]): u for u in users}
    counts: Counter[str] = Counter({u: 0 for u in users})
    for m in round_messages(double):
        user = by_dm.get(m["channel"])
        if user is not None:
            counts[user] += 1
    return counts


def assert_exactly_once(double: SlackDouble, users: list[str]) -> None:
    counts = per_recipient(double, users)
    lost = [u for u, n in counts.items() if n == 0]
    doubled = [u for u, n in counts.items() if n > 1]
    assert (len(lost), len(doubled)) == (0, 0), f"lost {lost[:5]}…, doubled {doubled[:5]}…"


async def assert_rows_match_messages(db: Database, double: SlackDouble) -> None:
    """Every delivery is sent, and its message_ref is the ts of the one message tagged with it."""
    by_delivery = {m["metadata"]["event_payload"]["delivery"]: m["ts"] for m in round_messages(double)}
    rows = await deliveries(db)
    assert {d.status for d in rows} == {"sent"}
    assert {d.id: d.message_ref for d in rows} == {d.id: by_delivery.get(d.id) for d in rows}
