"""A JPD exchange from invitation to groups: open, answer, change, withdraw, close.

Not anonymous, and it says so: an entry carries the person's platform id, because the point is to
introduce people to one another. Nothing here touches the trust audits' answers or digests.

Closing happens once: the row is claimed (closed_at set where it was empty), the groups formed
and the notices owed (introductions, a word to each person left out, the coordinator's summary)
written in the same transaction, so a crash leaves either an open exchange or a closed one with
every notice queued, and a second clock closing at the same moment finds nothing to do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import JpdEntry, JpdExchange, JpdNotice
from surveys.jpd.matching import Volunteer, form_groups
from surveys.jpd.topics import Topic

KINDS = ("staff", "schools")
MIN_TOPICS = 2
MAX_DAYS = 60
MAX_NOTE = 300
MAX_UNIT = 100
# The form offers this many minutes' grace: a person who opened it before the deadline can send it.
GRACE = dt.timedelta(minutes=10)


class ExchangeError(ValueError):
    """A request that cannot be done as asked; the message says why. Nothing was changed."""


@dataclass(frozen=True)
class Choice:
    """What one person (or school) chose on the form."""

    offers: tuple[str, ...]
    wants: tuple[str, ...]
    note: str = ""
    unit: str = ""


def topics(exchange: JpdExchange) -> list[Topic]:
    return [Topic(t["slug"], t["label"]) for t in exchange.topics]


def label_of(exchange: JpdExchange) -> dict[str, str]:
    return {t["slug"]: t["label"] for t in exchange.topics}


async def open_exchange_in(session: AsyncSession, scope: str) -> JpdExchange | None:
    return (
        await session.scalars(select(JpdExchange).where(JpdExchange.scope == scope, JpdExchange.closed_at.is_(None)))
    ).first()


async def latest(session: AsyncSession, scope: str) -> JpdExchange | None:
    stmt = select(JpdExchange).where(JpdExchange.scope == scope).order_by(JpdExchange.id.desc()).limit(1)
    return (await session.scalars(stmt)).first()


async def find(session: AsyncSession, exchange_id: int, scope: str | None = None) -> JpdExchange | None:
    exchange = await session.get(JpdExchange, exchange_id)
    if exchange is None or (scope is not None and exchange.scope != scope):
        return None
    return exchange


async def open_exchange(
    session: AsyncSession,
    *,
    scope: str,
    platform: str,
    channel: str,
    opened_by: str,
    deadline: dt.datetime,
    topics: Sequence[Topic],
    now: dt.datetime,
    kind: str = "staff",
    timezone: str = "Europe/London",
) -> JpdExchange:
    if kind not in KINDS:
        raise ExchangeError(f"An exchange is between {' or '.join(KINDS)}, not '{kind}'.")
    if deadline <= now:
        raise ExchangeError("That deadline has already passed; give one in the future.")
    if deadline - now > dt.timedelta(days=MAX_DAYS):
        raise ExchangeError(f"Give a deadline within {MAX_DAYS} days, so that the groups meet while it matters.")
    if len(topics) < MIN_TOPICS:
        raise ExchangeError(f"An exchange needs at least {MIN_TOPICS} topics to choose from; add some first.")
    current = await open_exchange_in(session, scope)
    if current is not None:
        raise ExchangeError(_already_open(current))
    exchange = JpdExchange(
        scope=scope,
        platform=platform,
        kind=kind,
        channel=channel,
        opened_by=opened_by,
        opened_at=now,
        deadline=deadline,
        timezone=timezone,
        topics=[{"slug": t.slug, "label": t.label} for t in topics],
    )
    try:
        async with session.begin_nested():
            session.add(exchange)
            await session.flush()
    except IntegrityError:
        # Another process opened one between the check and the insert: the index decides.
        current = await open_exchange_in(session, scope)
        raise ExchangeError(_already_open(current) if current else "Another exchange was just opened.") from None
    return exchange


def _already_open(current: JpdExchange) -> str:
    return f"Exchange {current.id} is still open until its deadline; close it before opening another."


def _accepting(exchange: JpdExchange | None, now: dt.datetime) -> JpdExchange:
    if exchange is None:
        raise ExchangeError("That exchange no longer exists.")
    if exchange.closed_at is not None or now > exchange.deadline + GRACE:
        raise ExchangeError("That exchange has closed: its groups are being formed. Nothing was changed.")
    return exchange


def check_choice(exchange: JpdExchange, choice: Choice) -> Choice:
    """The choice with its topics checked against the exchange's and its text tidied."""
    known = {t["slug"] for t in exchange.topics}
    unknown = [t for t in (*choice.offers, *choice.wants) if t not in known]
    if unknown:
        raise ExchangeError(f"There is no topic '{unknown[0][:40]}' in this exchange. Nothing was changed.")
    if not choice.offers:
        raise ExchangeError("Choose at least one topic you could offer.")
    if not choice.wants:
        raise ExchangeError("Choose at least one topic you would like to gain.")
    note = choice.note.strip()
    if len(note) > MAX_NOTE:
        raise ExchangeError(f"The note is at most {MAX_NOTE} characters; yours has {len(note)}.")
    unit = " ".join(choice.unit.split())
    if len(unit) > MAX_UNIT:
        raise ExchangeError(f"The department or school is at most {MAX_UNIT} characters.")
    if exchange.kind == "schools" and not unit:
        raise ExchangeError("Say which school you are answering for.")
    return Choice(tuple(sorted(set(choice.offers))), tuple(sorted(set(choice.wants))), note, unit)


async def answer(
    db: Database, exchange_id: int, person: str, choice: Choice, now: dt.datetime, *, name: str = ""
) -> bool:
    """Store or change a person's entry; True when it was new. Raises ExchangeError."""
    async with db.writing() as session:
        exchange = _accepting(await _locked(session, exchange_id), now)
        choice = check_choice(exchange, choice)
        values = {
            "offers": list(choice.offers),
            "wants": list(choice.wants),
            "note": choice.note,
            "unit": choice.unit,
            "name": name[:200],
            "updated_at": now,
        }
        entry = await entry_of(session, exchange_id, person)
        if entry is not None:
            for key, value in values.items():
                setattr(entry, key, value)
            return False
        session.add(JpdEntry(exchange_id=exchange_id, person=person, **values))
        return True


async def withdraw(db: Database, exchange_id: int, person: str, now: dt.datetime) -> bool:
    """Take a person out; False if they were not in. Raises ExchangeError after the deadline."""
    async with db.writing() as session:
        _accepting(await _locked(session, exchange_id), now)
        gone = await session.execute(
            delete(JpdEntry).where(JpdEntry.exchange_id == exchange_id, JpdEntry.person == person)
        )
        return bool(gone.rowcount)  # type: ignore[attr-defined]


async def _locked(session: AsyncSession, exchange_id: int) -> JpdExchange | None:
    """The exchange, locked until this transaction ends: closing waits for an answer being
    stored, and an answer arriving while it closes waits and then finds it closed. (SQLite: the
    caller's BEGIN IMMEDIATE does the same.) Two clicks of one person queue behind each other."""
    stmt = select(JpdExchange).where(JpdExchange.id == exchange_id).with_for_update()
    return (await session.scalars(stmt)).first()


async def entry_of(session: AsyncSession, exchange_id: int, person: str) -> JpdEntry | None:
    return (
        await session.scalars(select(JpdEntry).where(JpdEntry.exchange_id == exchange_id, JpdEntry.person == person))
    ).first()


async def entries_of(session: AsyncSession, exchange_id: int) -> list[JpdEntry]:
    stmt = select(JpdEntry).where(JpdEntry.exchange_id == exchange_id).order_by(JpdEntry.person)
    return list((await session.scalars(stmt)).all())


# -- closing ------------------------------------------------------------------------------------


@dataclass
class Closed:
    exchange_id: int
    took_part: int
    grouped: int
    groups: int


async def due(session: AsyncSession, now: dt.datetime) -> list[int]:
    stmt = select(JpdExchange.id).where(JpdExchange.closed_at.is_(None), JpdExchange.deadline <= now)
    return list((await session.scalars(stmt.order_by(JpdExchange.id))).all())


async def close(db: Database, exchange_id: int, now: dt.datetime) -> Closed | None:
    """Form the groups and queue the notices, once; None if it was already closed."""
    async with db.writing() as session:
        claimed = await session.execute(
            update(JpdExchange)
            .where(JpdExchange.id == exchange_id, JpdExchange.closed_at.is_(None))
            .values(closed_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        exchange = await session.get(JpdExchange, exchange_id)
        assert exchange is not None
        entries = await entries_of(session, exchange_id)
        volunteers = [Volunteer(e.person, frozenset(e.offers), frozenset(e.wants), e.unit.casefold()) for e in entries]
        formed = form_groups(volunteers)
        exchange.result = {
            "groups": [
                {
                    "members": list(g.members),
                    "givings": [
                        {"giver": x.giver, "receiver": x.receiver, "topics": list(x.topics)} for x in g.givings
                    ],
                }
                for g in formed.groups
            ],
            "unmatched": dict(formed.unmatched),
            # Who answers for which school (or says their department), for the partnership's post.
            "units": {e.person: e.unit for e in entries if e.unit},
            "names": {e.person: e.name for e in entries if e.name},
        }
        by_person = {e.person: e for e in entries}
        notices = [
            JpdNotice(
                exchange_id=exchange_id,
                kind="group",
                to=group["members"],
                body={
                    "givings": group["givings"],
                    "notes": {m: by_person[m].note for m in group["members"] if by_person[m].note},
                    "units": {m: by_person[m].unit for m in group["members"] if by_person[m].unit},
                    "names": {m: by_person[m].name for m in group["members"] if by_person[m].name},
                },
            )
            for group in exchange.result["groups"]
        ]
        notices += [
            JpdNotice(exchange_id=exchange_id, kind="unmatched", to=[person], body={"why": why})
            for person, why in sorted(formed.unmatched.items())
        ]
        if exchange.kind == "schools":
            notices.append(JpdNotice(exchange_id=exchange_id, kind="partnership", to=[exchange.channel], body={}))
        notices.append(JpdNotice(exchange_id=exchange_id, kind="summary", to=[exchange.opened_by], body={}))
        if exchange.invitation_ref:
            notices.append(JpdNotice(exchange_id=exchange_id, kind="invitation", to=[exchange.channel], body={}))
        session.add_all(notices)
    return Closed(exchange_id, len(entries), formed.matched, len(formed.groups))


async def close_due(db: Database, now: dt.datetime) -> list[Closed]:
    async with db.session() as session:
        ids = await due(session, now)
    closed = [await close(db, exchange_id, now) for exchange_id in ids]
    return [c for c in closed if c is not None]


async def delete_exchange(db: Database, scope: str, exchange_id: int) -> None:
    """Delete a closed exchange with every entry, result and notice of it (names included)."""
    async with db.writing() as session:
        exchange = await find(session, exchange_id, scope)
        if exchange is None:
            raise ExchangeError(f"There is no exchange {exchange_id} here.")
        if exchange.closed_at is None:
            raise ExchangeError(f"Exchange {exchange_id} is still open; close it first. Nothing was deleted.")
        await session.execute(delete(JpdNotice).where(JpdNotice.exchange_id == exchange_id))
        await session.execute(delete(JpdEntry).where(JpdEntry.exchange_id == exchange_id))
        await session.execute(delete(JpdExchange).where(JpdExchange.id == exchange_id))


async def close_now(db: Database, scope: str, now: dt.datetime) -> Closed:
    """The coordinator's "close it now": the open exchange's deadline becomes now, then it closes."""
    async with db.session() as session:
        exchange = await open_exchange_in(session, scope)
        if exchange is None:
            raise ExchangeError("No exchange is open; nothing to close.")
        exchange.deadline = min(exchange.deadline, now)
        exchange_id = exchange.id
    closed = await close(db, exchange_id, now)
    if closed is None:
        raise ExchangeError(f"Exchange {exchange_id} was closed a moment ago; nothing more was done.")
    return closed
