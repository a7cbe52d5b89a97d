"""The digest model: what leaders read, built from SQL rollups, with small groups hidden."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo, rollups
from storage.models import Round, Survey
from surveys.anonymity import Cell, effective_k, suppressed_keys
from surveys.banks import BankRegistry


class ItemStat(BaseModel):
    item_id: str
    bank_id: str
    text: str
    aspect: str
    reverse: bool
    round_seq: int
    n: int
    favourable_pct: float | None
    suppressed: bool


class Participation(BaseModel):
    round_seq: int | None
    audience_size: int
    answers_per_item: float | None
    rate_pct: float | None


class Digest(BaseModel):
    survey: int
    survey_name: str
    generated_at: dt.datetime
    k: int
    participation: Participation
    items: list[ItemStat]
    hidden_note: str


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


async def build_digest(session: AsyncSession, survey: Survey, registry: BankRegistry, *, now: dt.datetime) -> Digest:
    """Each item's figures from the latest round that asked it."""
    k = effective_k(survey.k)
    rounds = [r for r in await repo.rounds_of(session, survey.id) if r.opened_at <= now]
    latest_for_item: dict[str, Round] = {}
    for r in rounds:
        for ref in r.items:
            latest_for_item[ref["item"]] = r
    counts = await rollups.item_counts(session, sorted({r.id for r in latest_for_item.values()}))
    n_by: dict[tuple[int, str], int] = defaultdict(int)
    fav_by: dict[tuple[int, str], int] = defaultdict(int)
    for c in counts:
        n_by[(c.round_id, c.item_id)] += c.n
        fav_by[(c.round_id, c.item_id)] += c.favourable

    items: list[ItemStat] = []
    for bank_id in survey.bank_ids:
        bank = registry.get(bank_id)
        if bank is None:
            continue
        for item in bank.items:
            r = latest_for_item.get(item.id)
            if r is None:
                continue
            n = n_by[(r.id, item.id)]
            hidden = n < k
            items.append(
                ItemStat(
                    item_id=item.id,
                    bank_id=bank.id,
                    text=item.text,
                    aspect=item.aspect,
                    reverse=item.reverse,
                    round_seq=r.seq,
                    n=n,
                    favourable_pct=None if hidden else pct(fav_by[(r.id, item.id)], n),
                    suppressed=hidden,
                )
            )

    latest = rounds[-1] if rounds else None
    per_item = None
    if latest is not None:
        latest_ns = [n_by.get((latest.id, ref["item"]), 0) for ref in latest.items]
        per_item = sum(latest_ns) / len(latest_ns) if latest_ns else None
    participation = Participation(
        round_seq=latest.seq if latest else None,
        audience_size=latest.audience_size if latest else 0,
        answers_per_item=per_item,
        rate_pct=(
            round(100.0 * per_item / latest.audience_size, 1)
            if latest is not None and per_item is not None and latest.audience_size
            else None
        ),
    )
    hidden_count = sum(1 for i in items if i.suppressed)
    note = (
        f"{hidden_count} figure(s) hidden because fewer than {k} people answered."
        if hidden_count
        else f"Nothing hidden: every figure has at least {k} people behind it."
    )
    return Digest(
        survey=survey.id,
        survey_name=survey.name,
        generated_at=now,
        k=k,
        participation=participation,
        items=items,
        hidden_note=note,
    )


__all__ = ["Cell", "Digest", "ItemStat", "Participation", "build_digest", "suppressed_keys"]
