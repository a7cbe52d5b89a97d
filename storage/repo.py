"""Queries that read and write single rows: surveys, rounds, deliveries, responses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, DigestPost, Round, Survey, utcnow


async def get_survey(session: AsyncSession, survey_id: int) -> Survey | None:
    return await session.get(Survey, survey_id)


async def list_surveys(session: AsyncSession, *, include_paused: bool = True) -> list[Survey]:
    stmt = select(Survey).order_by(Survey.id)
    if not include_paused:
        stmt = stmt.where(Survey.paused.is_(False))
    return list((await session.scalars(stmt)).all())


async def rounds_of(session: AsyncSession, survey_id: int) -> list[Round]:
    stmt = select(Round).where(Round.survey_id == survey_id).order_by(Round.seq)
    return list((await session.scalars(stmt)).all())


async def latest_round(session: AsyncSession, survey_id: int) -> Round | None:
    stmt = select(Round).where(Round.survey_id == survey_id).order_by(Round.seq.desc()).limit(1)
    return (await session.scalars(stmt)).first()


async def insert_round(session: AsyncSession, round_: Round) -> bool:
    """Insert a round; False if its slot is already taken (the constraint decides, not luck)."""
    try:
        async with session.begin_nested():
            session.add(round_)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def next_round_seq(session: AsyncSession, survey_id: int) -> int:
    current = await session.scalar(select(func.max(Round.seq)).where(Round.survey_id == survey_id))
    return (current or 0) + 1


async def add_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(_insert(session, Delivery).on_conflict_do_nothing(), list(rows))


# -- the outbox ----------------------------------------------------------------------------
# A delivery is 'pending' (certainly not posted yet), 'sending' (claimed by a sender until
# `claimed_until`; it may have been posted), 'sent' or 'failed'. `attempts` goes up by one on
# every claim and is the claim's token: a sender may only settle a row it still holds.


@dataclass(frozen=True)
class Claim:
    id: int
    round_id: int
    destination: str
    attempts: int
    first_attempt_at: dt.datetime
    # True when an earlier claim lapsed (crash, lost response): look before posting again.
    recovered: bool


def _due_pending(now: dt.datetime) -> ColumnElement[bool]:
    return and_(Delivery.status == "pending", Delivery.next_attempt_at <= now)


def _lapsed(now: dt.datetime) -> ColumnElement[bool]:
    return and_(Delivery.status == "sending", Delivery.claimed_until < now)


async def claim_deliveries(session: AsyncSession, *, now: dt.datetime, lease: dt.timedelta, limit: int) -> list[Claim]:
    """Take up to `limit` due deliveries for one sender until `now + lease`.

    One UPDATE ... RETURNING per kind of row, whose picking SELECT skips rows another sender
    has locked on PostgreSQL (FOR UPDATE SKIP LOCKED), so senders run side by side and never
    share a row. SQLite has one writer at a time, and repeating the condition in the UPDATE makes a
    row that someone else took in between simply not match.
    """
    claims: list[Claim] = []
    for recovered, due in ((True, _lapsed(now)), (False, _due_pending(now))):
        room = limit - len(claims)
        if room <= 0:
            break
        pick = select(Delivery.id).where(due).order_by(Delivery.id).limit(room)
        postgres = session.get_bind().dialect.name == "postgresql"
        if postgres:
            pick = pick.with_for_update(skip_locked=True)
        picked = pick.cte("picked")
        if postgres:
            # Materialised: as a plain IN (subquery) PostgreSQL may run the locking SELECT once per
            # row it scans, and LIMIT would no longer bound the claim.
            picked = picked.prefix_with("MATERIALIZED")
        stmt = (
            update(Delivery)
            .where(Delivery.id.in_(select(picked.c.id)), due)
            .values(
                status="sending",
                claimed_until=now + lease,
                attempts=Delivery.attempts + 1,
                first_attempt_at=func.coalesce(Delivery.first_attempt_at, now),
                updated_at=now,
            )
            .returning(
                Delivery.id, Delivery.round_id, Delivery.destination, Delivery.attempts, Delivery.first_attempt_at
            )
            .execution_options(synchronize_session=False)
        )
        rows = (await session.execute(stmt)).all()
        claims.extend(
            Claim(r.id, r.round_id, r.destination, r.attempts, r.first_attempt_at or now, recovered)
            for r in sorted(rows, key=lambda r: int(r.id))
        )
    return claims


async def renew_claims(session: AsyncSession, claims: Sequence[Claim], *, until: dt.datetime) -> set[int]:
    """Extend the claims this sender still holds to `until`; returns the ids renewed.

    A row whose claim another sender took meanwhile (its `attempts` moved on) or that was settled
    is left alone. On either database the renewal and a competing claim are one UPDATE each, so
    whichever runs second sees the other's result: a renewed row is no longer lapsed to claim.
    """
    if not claims:
        return set()
    held = or_(*(and_(Delivery.id == c.id, Delivery.attempts == c.attempts) for c in claims))
    stmt = (
        update(Delivery)
        .where(held, Delivery.status == "sending")
        .values(claimed_until=until)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return {int(r) for r in (await session.scalars(stmt)).all()}


async def settle_deliveries(session: AsyncSession, outcomes: Sequence[tuple[Claim, dict[str, Any]]]) -> None:
    """Write many claimed deliveries' outcomes at once (one executemany per kind of outcome).

    A sender may only settle a row it still holds: rows whose claim lapsed and was taken by
    another sender (their `attempts` moved on) are left alone.
    """
    table = Delivery.__table__
    assert isinstance(table, Table)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for claim, values in outcomes:
        params = {f"v_{k}": v for k, v in values.items()}
        params.update(k_id=claim.id, k_attempts=claim.attempts, v_updated_at=values.get("updated_at", utcnow()))
        groups.setdefault(tuple(sorted(values)), []).append(params)
    for keys, rows in groups.items():
        columns: dict[str, Any] = {k: bindparam(f"v_{k}") for k in (*keys, "updated_at")}
        stmt = (
            update(table)
            .where(
                table.c.id == bindparam("k_id"),
                table.c.status == "sending",
                table.c.attempts == bindparam("k_attempts"),
            )
            .values(columns)
        )
        await session.execute(stmt, rows)


async def next_delivery_due(session: AsyncSession) -> dt.datetime | None:
    """When the earliest unfinished delivery becomes due (a retry or a lapsing claim)."""
    pending = await session.scalar(select(func.min(Delivery.next_attempt_at)).where(Delivery.status == "pending"))
    lapsing = await session.scalar(select(func.min(Delivery.claimed_until)).where(Delivery.status == "sending"))
    times = [t for t in (pending, lapsing) if t is not None]
    return min(times) if times else None


async def unfinished_deliveries(session: AsyncSession, round_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(Delivery).where(Delivery.status.in_(("pending", "sending")))
    if round_id is not None:
        stmt = stmt.where(Delivery.round_id == round_id)
    return int(await session.scalar(stmt) or 0)


@dataclass(frozen=True)
class FailedDelivery:
    round_id: int
    round_seq: int
    destination: str
    segment: str
    attempts: int
    error: str


async def failed_deliveries(session: AsyncSession, survey_id: int, *, limit: int = 50) -> list[FailedDelivery]:
    """Deliveries of a survey's rounds that were given up, newest round first, for /pulse status."""
    stmt = (
        select(Delivery, Round.seq)
        .join(Round, Round.id == Delivery.round_id)
        .where(Round.survey_id == survey_id, Delivery.status == "failed")
        .order_by(Round.seq.desc(), Delivery.id)
        .limit(limit)
    )
    return [
        FailedDelivery(d.round_id, seq, d.destination, d.segment, d.attempts, d.error or "unknown error")
        for d, seq in (await session.execute(stmt)).all()
    ]


async def count_failed_deliveries(session: AsyncSession, survey_id: int) -> int:
    """How many deliveries of a survey's rounds were given up, all of them (the list above stops)."""
    stmt = (
        select(func.count())
        .select_from(Delivery)
        .join(Round, Round.id == Delivery.round_id)
        .where(Round.survey_id == survey_id, Delivery.status == "failed")
    )
    return int(await session.scalar(stmt) or 0)


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def claim_digest_slot(session: AsyncSession, survey_id: int, slot: dt.datetime) -> bool:
    try:
        async with session.begin_nested():
            session.add(DigestPost(survey_id=survey_id, slot=slot))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def mark_digest_posted(session: AsyncSession, survey_id: int, slot: dt.datetime, now: dt.datetime) -> None:
    await session.execute(
        update(DigestPost)
        .where(DigestPost.survey_id == survey_id, DigestPost.slot == slot)
        .values(status="posted", posted_at=now)
    )
