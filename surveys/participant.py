"""What one person sees of the rounds open to them: the items, and what they answered.

Their answers are found at the moment of asking, by recomputing their respondent keys
(HMAC of round, item and their id) and looking those up; nothing links them to the answers in
storage, and nothing here is stored or logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Response, Round, Survey
from surveys.anonymity import respondent_key
from surveys.banks import BankRegistry


@dataclass(frozen=True)
class MyItem:
    item_id: str
    text: str
    # The labels of this person's answers (one per facet); empty if not answered yet.
    answered: tuple[str, ...]


@dataclass(frozen=True)
class MyRound:
    survey_id: int
    survey_name: str
    round_seq: int
    closes_at: dt.datetime
    timezone: str
    k: int
    items: tuple[MyItem, ...]


async def open_rounds_for(
    session: AsyncSession,
    registry: BankRegistry,
    secret: bytes,
    user_id: str,
    surveys: Sequence[Survey],
    *,
    now: dt.datetime,
) -> list[MyRound]:
    """The open rounds of `surveys` (those this person answers), newest first, with their answers."""
    by_id = {s.id: s for s in surveys}
    if not by_id:
        return []
    stmt = (
        select(Round)
        .where(Round.survey_id.in_(list(by_id)), Round.closed_at.is_(None), Round.closes_at > now)
        .order_by(Round.opened_at.desc(), Round.id.desc())
    )
    found: list[MyRound] = []
    for round_ in (await session.scalars(stmt)).all():
        survey = by_id[round_.survey_id]
        keys = {respondent_key(secret, round_.id, ref["item"], user_id): ref for ref in round_.items}
        mine: dict[str, list[tuple[str, str]]] = {}
        if keys:
            rows = await session.execute(
                select(Response.item_id, Response.facet, Response.option).where(
                    Response.round_id == round_.id, Response.respondent_key.in_(list(keys))
                )
            )
            for item_id, facet, option in rows.all():
                mine.setdefault(item_id, []).append((facet, option))
        items = []
        for ref in round_.items:
            bank = registry.get(ref["bank"])
            item = bank.round_item(ref["item"]) if bank is not None else None
            if bank is None or item is None:
                continue
            scale = bank.scale_of(item)
            labels = []
            for facet, option in sorted(mine.get(item.id, [])):
                chosen = scale.option(option)
                label = chosen.label if chosen is not None else option
                labels.append(f"{facet}: {label}" if facet else label)
            items.append(MyItem(item.id, item.text, tuple(labels)))
        found.append(
            MyRound(survey.id, survey.name, round_.seq, round_.closes_at, survey.timezone, survey.k, tuple(items))
        )
    return found
