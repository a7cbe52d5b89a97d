"""What a JPD exchange sends, and the outbox that sends what closing queued.

The platform draws each message its own way (Block Kit, Adaptive Cards); here are the facts it
draws from and the small protocol it implements. Notices are written when the exchange closes
(surveys/jpd/exchange.py) and sent by the clock alone (one process leads it), each marked sent
once the platform took it; a failure is retried on the next pass, up to MAX_ATTEMPTS.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import JpdExchange, JpdNotice
from surveys.jpd.exchange import entry_of, label_of, topics
from surveys.jpd.summary import Summary, summary_of
from surveys.jpd.topics import Topic
from surveys.platform import PlatformError

log = logging.getLogger(__name__)

# Retried after 1, 2, 4 … minutes, at most an hour apart: about two days before giving up.
MAX_ATTEMPTS = 50
FIRST_WAIT = dt.timedelta(minutes=1)
LONGEST_WAIT = dt.timedelta(hours=1)
BATCH = 50


@dataclass(frozen=True)
class Invitation:
    exchange_id: int
    kind: str  # "staff" or "schools"
    deadline: dt.datetime
    timezone: str
    topics: tuple[Topic, ...]
    closed: bool = False


@dataclass(frozen=True)
class Offer:
    giver: str
    receiver: str
    topics: tuple[str, ...]  # labels


@dataclass(frozen=True)
class Introduction:
    exchange_id: int
    kind: str
    members: tuple[str, ...]
    offers: tuple[Offer, ...]
    notes: dict[str, str]
    units: dict[str, str]
    # Display names, where the platform gave them (Teams); Slack mentions people by id instead.
    names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LeftOut:
    exchange_id: int
    kind: str
    why: str
    wants: tuple[str, ...]  # labels


@dataclass(frozen=True)
class Partnership:
    """The schools' exchange as a whole, for the partnership's leaders' channel."""

    exchange_id: int
    groups: tuple[Introduction, ...]
    left_out: dict[str, str]  # the person who answered for a school -> why
    units: dict[str, str]  # that person -> their school
    names: dict[str, str] = field(default_factory=dict)


def invitation_of(exchange: JpdExchange) -> Invitation:
    return Invitation(
        exchange.id,
        exchange.kind,
        exchange.deadline,
        exchange.timezone,
        tuple(topics(exchange)),
        closed=exchange.closed_at is not None,
    )


class ExchangePlatform(Protocol):
    name: str

    async def post_invitation(self, channel: str, invitation: Invitation) -> str:
        """Post the invitation; return the reference `close_invitation` is given."""
        ...

    async def close_invitation(self, channel: str, ref: str, invitation: Invitation) -> None:
        """Change the posted invitation to say it has closed."""
        ...

    async def introduce(self, intro: Introduction) -> None:
        """Introduce a group to one another (Slack: a group DM; Teams: a message to each)."""
        ...

    async def tell_left_out(self, person: str, left: LeftOut) -> None: ...

    async def send_summary(self, to: str, summary: Summary) -> None:
        """The coordinator's summary, to them privately."""
        ...

    async def post_partnership(self, channel: str, partnership: Partnership) -> None: ...


async def reach_each(people: Sequence[str], send: Callable[[str], Awaitable[object]], platform: str) -> None:
    """Send to each person; someone who cannot be reached for good (gone, deactivated) is passed
    over so the rest still hear, and only if nobody could be reached is it a failure."""
    reached = 0
    for person in people:
        try:
            await send(person)
            reached += 1
        except PlatformError as exc:
            if exc.transient:
                raise
    if not reached:
        raise PlatformError(f"{platform}: nobody in the group could be reached", transient=False)


# Which platform serves an exchange: by its platform's name and its scope (workspace or tenant).
Resolver = Callable[[JpdExchange], Awaitable[ExchangePlatform]]


def introduction(exchange: JpdExchange, members: Sequence[str], body: dict[str, object]) -> Introduction:
    labels = label_of(exchange)
    givings = body.get("givings") or []
    assert isinstance(givings, list)
    return Introduction(
        exchange.id,
        exchange.kind,
        tuple(members),
        tuple(Offer(g["giver"], g["receiver"], tuple(labels.get(t, t) for t in g["topics"])) for g in givings),
        dict(body.get("notes") or {}),  # type: ignore[call-overload]
        dict(body.get("units") or {}),  # type: ignore[call-overload]
        dict(body.get("names") or {}),  # type: ignore[call-overload]
    )


async def send_due_notices(db: Database, resolve: Resolver, now: dt.datetime) -> int:
    """Send what closing queued; the number sent. Failures wait for the next pass."""
    async with db.session() as session:
        stmt = (
            select(JpdNotice)
            .where(
                JpdNotice.sent_at.is_(None),
                JpdNotice.attempts < MAX_ATTEMPTS,
                or_(JpdNotice.next_attempt_at.is_(None), JpdNotice.next_attempt_at <= now),
            )
            .order_by(JpdNotice.id)
            .limit(BATCH)
        )
        pending = [(n.id, n.exchange_id) for n in (await session.scalars(stmt)).all()]
    sent = 0
    for notice_id, exchange_id in pending:
        async with db.session() as session:
            notice = await session.get(JpdNotice, notice_id)
            exchange = await session.get(JpdExchange, exchange_id)
            if notice is None or exchange is None or notice.sent_at is not None:
                continue
            try:
                platform = await resolve(exchange)
                await _send(platform, session, exchange, notice)
            except PlatformError as exc:
                notice.attempts += 1
                notice.error = str(exc)[:500]
                notice.next_attempt_at = now + _wait(notice.attempts, exc)
                log.warning("exchange %s: a %s notice was not sent (%s)", exchange_id, notice.kind, exc)
                continue
            notice.sent_at = now
            notice.attempts += 1
            sent += 1
    return sent


def _wait(attempts: int, exc: PlatformError) -> dt.timedelta:
    backoff: dt.timedelta = min(FIRST_WAIT * (2 ** min(attempts - 1, 10)), LONGEST_WAIT)
    asked = dt.timedelta(seconds=exc.retry_after or 0)
    return max(backoff, asked)


async def _send(platform: ExchangePlatform, session: AsyncSession, exchange: JpdExchange, notice: JpdNotice) -> None:
    match notice.kind:
        case "group":
            await platform.introduce(introduction(exchange, notice.to, notice.body))
        case "unmatched":
            [person] = notice.to
            await platform.tell_left_out(person, await _left_out(session, exchange, person, str(notice.body["why"])))
        case "summary":
            await platform.send_summary(notice.to[0], await summary_of(session, exchange))
        case "invitation":
            if exchange.invitation_ref:
                await platform.close_invitation(exchange.channel, exchange.invitation_ref, invitation_of(exchange))
        case "partnership":
            result = exchange.result or {"groups": [], "unmatched": {}}
            units, names = dict(result.get("units") or {}), dict(result.get("names") or {})
            groups = tuple(
                introduction(exchange, g["members"], {**g, "units": units, "names": names}) for g in result["groups"]
            )
            await platform.post_partnership(
                exchange.channel, Partnership(exchange.id, groups, dict(result["unmatched"]), units, names)
            )


async def _left_out(session: AsyncSession, exchange: JpdExchange, person: str, why: str) -> LeftOut:
    entry = await entry_of(session, exchange.id, person)
    labels = label_of(exchange)
    wants = tuple(labels.get(t, t) for t in (entry.wants if entry else []))
    return LeftOut(exchange.id, exchange.kind, why, wants)
