"""Draining the outbox: claim pending deliveries, post them, mark them sent."""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass, field

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Delivery, Round, Survey
from surveys.banks import BankRegistry
from surveys.platform import ChatPlatform, PlatformError, RoundMessage
from surveys.rounds import round_message

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 8


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempt: int, retry_after: float | None = None) -> dt.timedelta:
    """Exponential backoff with full jitter, or exactly what the platform asked for."""
    if retry_after is not None:
        return dt.timedelta(seconds=retry_after)
    return dt.timedelta(seconds=random.uniform(0, min(300.0, 2.0**attempt)))


async def claim(session: AsyncSession, *, now: dt.datetime, limit: int) -> list[Delivery]:
    """Take up to `limit` due deliveries for this sender; expired claims are taken back."""
    due = or_(
        (Delivery.status == "pending") & (Delivery.next_attempt_at <= now),
        (Delivery.status == "sending") & (Delivery.claimed_until < now),
    )
    stmt = select(Delivery).where(due).order_by(Delivery.id).limit(limit)
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list((await session.scalars(stmt)).all())
    if rows:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_([r.id for r in rows]))
            .values(status="sending", claimed_until=now + LEASE, attempts=Delivery.attempts + 1)
        )
    return rows


async def drain(
    db: Database,
    platform: ChatPlatform,
    registry: BankRegistry,
    *,
    now: dt.datetime | None = None,
    batch: int = 50,
) -> SendReport:
    """Send everything due now; returns when nothing due is left."""
    report = SendReport()
    messages: dict[int, RoundMessage] = {}
    while True:
        at = now or dt.datetime.now(dt.UTC)
        async with db.session() as session:
            claimed = await claim(session, now=at, limit=batch)
            claimed_ids = {d.id for d in claimed}
            for d in claimed:
                if d.round_id not in messages:
                    round_ = await session.get(Round, d.round_id)
                    survey = await session.get(Survey, round_.survey_id) if round_ else None
                    if round_ is not None and survey is not None:
                        messages[d.round_id] = round_message(survey, round_, registry)
        if not claimed_ids:
            return report
        for d in claimed:
            await _send_one(db, platform, messages.get(d.round_id), d, at, report)


async def _send_one(
    db: Database,
    platform: ChatPlatform,
    message: RoundMessage | None,
    d: Delivery,
    at: dt.datetime,
    report: SendReport,
) -> None:
    values: dict[str, object]
    if message is None:
        values = {"status": "failed", "error": "round or survey no longer exists"}
        report.failed += 1
    else:
        try:
            ref = await platform.post_round(d.destination, message)
            values = {"status": "sent", "message_ref": ref, "claimed_until": None, "error": None}
            report.sent += 1
        except PlatformError as exc:
            attempts = d.attempts + 1
            if exc.transient and attempts < MAX_ATTEMPTS:
                values = {
                    "status": "pending",
                    "next_attempt_at": at + backoff(attempts, exc.retry_after),
                    "claimed_until": None,
                    "error": str(exc),
                }
                report.retried += 1
            else:
                values = {"status": "failed", "claimed_until": None, "error": str(exc)}
                report.failed += 1
                report.errors.append(str(exc))
                log.warning("delivery %s failed for good: %s", d.id, exc)
    async with db.session() as session:
        await session.execute(update(Delivery).where(Delivery.id == d.id).values(**values))
