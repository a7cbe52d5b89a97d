"""Opening a round: pick the items (rotation), write the round and its outbox rows.

A survey may mix banks; each round's items are dealt out over its banks in turn, and each bank
keeps its own rotation, derived from the items earlier rounds asked from it (`Round.items` holds
bank, version, item and cycle for each).

Picks banks (the leadership team's trust behaviours) are not rotated item by item: choosing the
five strongest and three weakest only means something across the whole list. Such a bank deals
exactly one round item, the whole exercise, whose id is the bank's id (`Bank.exercise_id`), so
every round that draws on the bank asks the exercise again, each time as a new cycle; editing or
rewording its behaviours does not disturb that. A picks bank therefore takes one slot of the
round, and the other banks share the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storage import ballots, repo
from storage.models import Round, Survey
from surveys.anonymity import effective_k
from surveys.banks import BankRegistry
from surveys.keys import new_nonce
from surveys.platform import ChatPlatform, Prompt, RoundMessage
from surveys.rotation import Asked, pick_items


class RoundError(Exception):
    pass


@dataclass(frozen=True)
class ItemRef:
    bank: str
    version: int
    item: str
    cycle: int

    def as_json(self) -> dict[str, object]:
        return {"bank": self.bank, "version": self.version, "item": self.item, "cycle": self.cycle}


def share_out(n: int, banks: int) -> list[int]:
    """Split n items over the survey's banks in turn: 3 over 2 banks is [2, 1]."""
    return [n // banks + (1 if i < n % banks else 0) for i in range(banks)]


def allot(n: int, capacities: list[int], *, start: int = 0) -> list[int]:
    """Deal n items over banks in turn from bank `start`, skipping a bank once it has given all it can.

    From 0 and without limits this is `share_out`. A picks bank (capacity 1) passes its later turns
    on: a picks bank and a strand bank with 3 items get [1, 2]. Starting each round one bank further
    on means a survey of two banks with one item a round alternates between them.
    """
    counts = [0] * len(capacities)
    if not capacities:
        return counts
    order = [(start + i) % len(capacities) for i in range(len(capacities))]
    while n > 0 and any(c < cap for c, cap in zip(counts, capacities, strict=True)):
        for i in order:
            if n > 0 and counts[i] < capacities[i]:
                counts[i] += 1
                n -= 1
    return counts


def choose_items(survey: Survey, registry: BankRegistry, earlier: list[Round]) -> list[ItemRef]:
    banks = []
    for bank_id in survey.bank_ids:
        bank = registry.get(bank_id)
        if bank is None:
            raise RoundError(f"survey {survey.id} uses bank '{bank_id}', which is not loaded")
        banks.append(bank)
    counts = allot(survey.items_per_round, [len(b.round_item_ids()) for b in banks], start=len(earlier))
    refs: list[ItemRef] = []
    for bank, count in zip(banks, counts, strict=True):
        history = [Asked(i["item"], int(i["cycle"])) for r in earlier for i in r.items if i["bank"] == bank.id]
        for pick in pick_items(bank.round_item_ids(), history, count, seed=survey.seed, bank_id=bank.id):
            refs.append(ItemRef(bank.id, bank.version, pick.item_id, pick.cycle))
    return refs


async def open_round(
    session: AsyncSession,
    survey: Survey,
    registry: BankRegistry,
    platform: ChatPlatform,
    *,
    slot: dt.datetime,
    now: dt.datetime,
) -> Round | None:
    """Open the survey's round for `slot` and queue its deliveries; None if it is already open."""
    earlier = await repo.rounds_of(session, survey.id)
    if any(r.slot == slot for r in earlier):
        return None
    recipients = await platform.audience(survey.audience_kind, survey.audience)
    round_ = Round(
        survey_id=survey.id,
        seq=(earlier[-1].seq + 1) if earlier else 1,
        slot=slot,
        opened_at=now,
        closes_at=now + dt.timedelta(hours=survey.round_hours),
        items=[ref.as_json() for ref in choose_items(survey, registry, earlier)],
        audience_size=await platform.audience_size(survey.audience_kind, survey.audience),
        # Fixed for the round's lifetime: a later edit of the survey never lowers it.
        k=effective_k(survey.k),
    )
    if not await repo.insert_round(session, round_):
        return None
    await ballots.add_round_key(session, round_.id, new_nonce())
    await repo.add_deliveries(
        session,
        [
            {
                "round_id": round_.id,
                "kind": "item",
                "destination": r.destination,
                "segment": r.segment,
                "next_attempt_at": now,
            }
            for r in recipients
        ],
    )
    return round_


def round_message(survey: Survey, round_: Round, registry: BankRegistry) -> RoundMessage:
    prompts = []
    for ref in round_.items:
        bank = registry.get(ref["bank"])
        item = bank.round_item(ref["item"]) if bank else None
        if bank is not None and item is not None:
            prompts.append(Prompt(bank, item))
    k = max(round_.k, effective_k(survey.k))
    return RoundMessage(survey.id, survey.name, round_.id, round_.closes_at, survey.timezone, prompts, k)
