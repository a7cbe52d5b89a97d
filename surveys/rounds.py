"""Opening a round: pick the items (rotation), write the round and its outbox rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Round, Survey
from surveys.anonymity import effective_k
from surveys.banks import BankRegistry
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


def choose_items(survey: Survey, registry: BankRegistry, earlier: list[Round]) -> list[ItemRef]:
    refs: list[ItemRef] = []
    for bank_id, count in zip(survey.bank_ids, share_out(survey.items_per_round, len(survey.bank_ids)), strict=True):
        bank = registry.get(bank_id)
        if bank is None:
            raise RoundError(f"survey {survey.id} uses bank '{bank_id}', which is not loaded")
        history = [Asked(i["item"], int(i["cycle"])) for r in earlier for i in r.items if i["bank"] == bank_id]
        for pick in pick_items([i.id for i in bank.items], history, count, seed=survey.seed, bank_id=bank_id):
            refs.append(ItemRef(bank_id, bank.version, pick.item_id, pick.cycle))
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
    )
    if not await repo.insert_round(session, round_):
        return None
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
        item = bank.item(ref["item"]) if bank else None
        if bank is not None and item is not None:
            prompts.append(Prompt(bank, item))
    return RoundMessage(
        survey.id, survey.name, round_.id, round_.closes_at, survey.timezone, prompts, effective_k(survey.k)
    )
