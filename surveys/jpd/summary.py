"""The coordinator's summary of JPD exchanges: who took part, what formed, what is missing.

Counts of people and topics only; names are in the introductions, not here. Nothing in the trust
audits' digests reads or changes for this.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JpdExchange
from surveys.jpd.exchange import entries_of, label_of

TOP = 5
EARLIER = 6


@dataclass(frozen=True)
class Past:
    exchange_id: int
    closed_on: dt.date
    took_part: int
    grouped: int


@dataclass(frozen=True)
class Summary:
    exchange_id: int
    kind: str
    deadline: dt.datetime
    timezone: str
    closed: bool
    took_part: int
    grouped: int
    pairs: int
    threes: int
    most_offered: tuple[tuple[str, int], ...]
    most_wanted: tuple[tuple[str, int], ...]
    # What the people left without a group wanted, and how many of them; the gaps to fill.
    gaps: tuple[tuple[str, int], ...]
    offered_by_nobody: tuple[str, ...]
    earlier: tuple[Past, ...]


def _top(counts: Counter[str], labels: dict[str, str], n: int = TOP) -> tuple[tuple[str, int], ...]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], labels.get(kv[0], kv[0])))
    return tuple((labels.get(slug, slug), count) for slug, count in ranked[:n])


async def summary_of(session: AsyncSession, exchange: JpdExchange) -> Summary:
    entries = await entries_of(session, exchange.id)
    labels = label_of(exchange)
    offered = Counter(t for e in entries for t in e.offers)
    wanted = Counter(t for e in entries for t in e.wants)
    result = exchange.result or {"groups": [], "unmatched": {}}
    sizes = [len(g["members"]) for g in result["groups"]]
    left = set(result["unmatched"])
    gaps = Counter(t for e in entries if e.person in left for t in e.wants)
    return Summary(
        exchange_id=exchange.id,
        kind=exchange.kind,
        deadline=exchange.deadline,
        timezone=exchange.timezone,
        closed=exchange.closed_at is not None,
        took_part=len(entries),
        grouped=sum(sizes),
        pairs=sizes.count(2),
        threes=sizes.count(3),
        most_offered=_top(offered, labels),
        most_wanted=_top(wanted, labels),
        gaps=_top(gaps, labels, n=len(gaps)),
        offered_by_nobody=tuple(sorted(labels[t] for t in wanted if t not in offered and t in labels)),
        earlier=tuple(await _earlier(session, exchange)),
    )


async def _earlier(session: AsyncSession, exchange: JpdExchange) -> list[Past]:
    stmt = (
        select(JpdExchange)
        .where(
            JpdExchange.scope == exchange.scope,
            JpdExchange.kind == exchange.kind,
            JpdExchange.closed_at.is_not(None),
            JpdExchange.id < exchange.id,
        )
        .order_by(JpdExchange.id.desc())
        .limit(EARLIER)
    )
    past = []
    for old in (await session.scalars(stmt)).all():
        assert old.closed_at is not None
        result = old.result or {"groups": []}
        past.append(
            Past(
                old.id,
                old.closed_at.date(),
                len(await entries_of(session, old.id)),
                sum(len(g["members"]) for g in result["groups"]),
            )
        )
    return list(reversed(past))
