"""The outbox's claims, on SQLite and PostgreSQL: never one row to two senders."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from storage import repo
from storage.db import Database
from storage.models import Delivery, Round
from tests.reliability.conftest import add_survey

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=5)


async def _round_with_deliveries(db: Database, n: int) -> int:
    survey_id = await add_survey(db)
    async with db.session() as session:
        round_ = Round(survey_id=survey_id, seq=1, slot=T0, opened_at=T0, closes_at=T0 + dt.timedelta(days=3), items=[])
        assert await repo.insert_round(session, round_)
        rows = [
            {"round_id": round_.id, "kind": "item", "destination": f"U{i:05d}", "segment": "S", "next_attempt_at": T0}
            for i in range(n)
        ]
        await repo.add_deliveries(session, rows)
        # Queuing the same round again adds nothing: one row per (round, kind, destination).
        await repo.add_deliveries(session, rows)
        return round_.id


async def _claim(db: Database, at: dt.datetime, limit: int) -> list[repo.Claim]:
    async with db.session() as session:
        return await repo.claim_deliveries(session, now=at, lease=LEASE, limit=limit)


async def test_concurrent_senders_never_share_a_row(db_url: str, db: Database) -> None:
    await _round_with_deliveries(db, 300)
    senders = [Database(db_url) for _ in range(6)]
    try:

        async def sender(me: Database) -> list[int]:
            got: list[int] = []
            while True:
                claims = await _claim(me, T0, 7)
                if not claims:
                    return got
                got.extend(c.id for c in claims)

        taken = await asyncio.gather(*(sender(s) for s in senders))
    finally:
        for s in senders:
            await s.dispose()
    everything = [i for ids in taken for i in ids]
    assert len(everything) == len(set(everything)) == 300
    assert sum(1 for ids in taken if ids) >= 2  # they really did run side by side


async def test_a_lapsed_claim_is_recovered_and_its_old_holder_can_no_longer_settle_it(db: Database) -> None:
    await _round_with_deliveries(db, 3)
    first = await _claim(db, T0, 10)
    assert [c.recovered for c in first] == [False] * 3
    assert await _claim(db, T0 + LEASE - dt.timedelta(seconds=1), 10) == []
    again = await _claim(db, T0 + LEASE + dt.timedelta(seconds=1), 10)
    assert [c.recovered for c in again] == [True] * 3
    assert [c.attempts for c in again] == [2] * 3
    assert again[0].first_attempt_at == T0  # the give-up clock keeps running from the first attempt
    async with db.session() as session:
        await repo.settle_deliveries(session, [(first[0], {"status": "sent", "message_ref": "1.1"})])
        assert (await session.get(Delivery, first[0].id)).status == "sending"  # type: ignore[union-attr]
        await repo.settle_deliveries(session, [(again[0], {"status": "sent", "message_ref": "2.2"})])
    async with db.session() as session:
        row = await session.get(Delivery, again[0].id)
    assert row is not None and (row.status, row.message_ref) == ("sent", "2.2")


async def test_pending_rows_wait_for_their_time_and_the_next_due_time_is_known(db: Database) -> None:
    round_id = await _round_with_deliveries(db, 2)
    claims = await _claim(db, T0, 1)
    retry_at = T0 + dt.timedelta(seconds=40)
    async with db.session() as session:
        await repo.settle_deliveries(
            session, [(claims[0], {"status": "pending", "next_attempt_at": retry_at, "claimed_until": None})]
        )
        assert await repo.unfinished_deliveries(session, round_id) == 2
    assert [c.id for c in await _claim(db, T0, 10)] != [claims[0].id]
    async with db.session() as session:
        assert await repo.next_delivery_due(session) == retry_at
    assert [c.id for c in await _claim(db, retry_at, 10)] == [claims[0].id]
    async with db.session() as session:
        statuses = (await session.scalars(select(Delivery.status))).all()
    assert sorted(statuses) == ["sending", "sending"]


async def test_a_claim_takes_no_more_than_its_limit(db: Database) -> None:
    await _round_with_deliveries(db, 50)
    assert len(await _claim(db, T0, 5)) == 5
    async with db.session() as session:
        claimed = (await session.scalars(select(Delivery.id).where(Delivery.status == "sending"))).all()
    assert len(claimed) == 5
