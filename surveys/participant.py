"""What one person sees of the rounds open to them: the items, and what they answered.

Their answers are found at the moment of asking, by working out their respondent keys from the
round's key (surveys/keys.py) and looking those up; nothing links them to the answers in
storage, and nothing here is stored or logged. Once a round is sealed nobody's answers can be
found, theirs included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import ballots
from storage.models import Round, Survey
from surveys.anonymity import effective_k
from surveys.banks import BankRegistry
from surveys.keys import round_keys, subject


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
    rounds = (await session.scalars(stmt)).all()
    answers = await my_answers(session, secret, {r.id: r.items for r in rounds}, user_id)
    found: list[MyRound] = []
    for round_ in rounds:
        survey = by_id[round_.survey_id]
        mine = answers.get(round_.id, {})
        items = []
        for ref in round_.items:
            bank = registry.get(ref["bank"])
            item = bank.round_item(ref["item"]) if bank is not None else None
            if bank is None or item is None:
                continue
            scale = bank.scale_of(item)
            labels = []
            for (item_id, facet), option in sorted(mine.items()):
                if item_id != item.id:
                    continue
                chosen = scale.option(option)
                label = chosen.label if chosen is not None else option
                labels.append(f"{facet}: {label}" if facet else label)
            items.append(MyItem(item.id, item.text, tuple(labels)))
        k = max(round_.k, effective_k(survey.k))
        found.append(MyRound(survey.id, survey.name, round_.seq, round_.closes_at, survey.timezone, k, tuple(items)))
    return found


async def my_answers(
    session: AsyncSession, secret: bytes, rounds: Mapping[int, Sequence[Mapping[str, Any]]], user_id: str
) -> dict[int, dict[tuple[str, str], str]]:
    """This person's held answers in each open round, as round -> (item, facet) -> option.

    `rounds` maps each round to its item refs ({"bank", "item"}); one query for them all. A
    picks exercise shows as the option `took-part` for each perspective answered.
    """
    keys = await round_keys(session, secret, rounds)
    wanted: dict[tuple[int, str], str] = {}
    for round_id, key in keys.items():
        for ref in rounds[round_id]:
            wanted[(round_id, key.respondent(subject(str(ref["bank"]), str(ref["item"])), user_id))] = str(ref["item"])
    found: dict[int, dict[tuple[str, str], str]] = {}
    for (round_id, _), held in (await ballots.held_answers(session, wanted)).items():
        for h in held:
            found.setdefault(round_id, {})[(h.item_id, h.facet)] = h.option
    return found
