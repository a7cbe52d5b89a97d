"""The trust-behaviour exercise (a picks bank): one person's picks for a round, held as one ballot.

A member picks up to N strongest and M weakest behaviours, once per perspective ("self": in
themselves, "team": in the leadership team as a whole). While the round is open each perspective
a person answered is one held row on the exercise itself (item = the exercise id, option
`TOOK_PART`) whose `picks` carry the behaviours named, so sending the form again replaces the
whole ballot at once. Sealing (storage/ballots.py) turns the ballots into counts only: one
took-part count per perspective, which is the `n` percentages and the threshold need, and one
count per behaviour named. No ballot survives the round.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from storage import ballots
from storage.db import Database
from storage.models import Round, Survey
from surveys.answers import Outcome, click_seq, segment_for
from surveys.banks import Bank, BankRegistry
from surveys.banks.model import PICK_STRONG, PICK_WEAK
from surveys.keys import round_key, subject

TOOK_PART = "took-part"


class PickSet(BaseModel):
    """One perspective's picks: behaviour ids named strongest and weakest."""

    model_config = ConfigDict(frozen=True)

    strong: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.strong and not self.weak


@dataclass(frozen=True)
class PicksResult:
    outcome: Outcome
    # perspective -> (strong, weak) counts as stored
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    closes_at: dt.datetime | None = None
    timezone: str = "UTC"


def check_picks(bank: Bank, picks: Mapping[str, PickSet]) -> dict[tuple[str, str], str]:
    """What is wrong with a submission, keyed by (perspective, "strong" or "weak"); empty if fine."""
    limits = bank.picks
    problems: dict[tuple[str, str], str] = {}
    if bank.kind != "picks" or limits is None:
        return {("", PICK_STRONG): "this bank is not a picks exercise"}
    known = {i.id: i for i in bank.items}
    for perspective, chosen in picks.items():
        if perspective not in limits.perspectives:
            problems[(perspective, PICK_STRONG)] = f"unknown perspective '{perspective}'"
            continue
        for side, ids, most in (
            (PICK_STRONG, chosen.strong, limits.strongest),
            (PICK_WEAK, chosen.weak, limits.weakest),
        ):
            unknown = [i for i in ids if i not in known]
            if unknown:
                problems[(perspective, side)] = "that behaviour is no longer in the list; please pick again"
            elif len(set(ids)) != len(ids):
                problems[(perspective, side)] = "each behaviour can be picked only once"
            elif len(ids) > most:
                problems[(perspective, side)] = f"pick at most {most}"
        both = [i for i in chosen.weak if i in set(chosen.strong) and i in known]
        if both and (perspective, PICK_WEAK) not in problems:
            names = ", ".join(known[i].name for i in both)
            problems[(perspective, PICK_WEAK)] = f"already among the strongest: {names}. Pick each behaviour once."
    if not problems and all(p.empty for p in picks.values()):
        problems[(limits.perspectives[0], PICK_STRONG)] = "pick at least one behaviour"
    return problems


async def _open_round(
    session: AsyncSession, registry: BankRegistry, round_id: int, bank_id: str
) -> tuple[Round, Survey, Bank] | None:
    round_ = await session.get(Round, round_id)
    bank = registry.get(bank_id)
    if round_ is None or bank is None or bank.kind != "picks":
        return None
    if not any(r["bank"] == bank.id and r["item"] == bank.exercise_id for r in round_.items):
        return None
    survey = await session.get(Survey, round_.survey_id)
    return None if survey is None else (round_, survey, bank)


def _ballot(bank: Bank, chosen: PickSet) -> str:
    """One perspective's picks as the held row carries them: [behaviour, option, score, valence]."""
    named = []
    for side, ids in ((PICK_STRONG, chosen.strong), (PICK_WEAK, chosen.weak)):
        for item_id in ids:
            item = bank.item(item_id)
            option = bank.scale_of(item).option(side) if item is not None else None
            valence = bank.valence(item, side) if item is not None else None
            if item is None or option is None or valence is None:
                raise ValueError("picks were not checked")  # check_picks rules this out
            named.append([item.id, option.value, option.score, valence])
    return json.dumps(named, separators=(",", ":"))


def _unpack(bank: Bank, ballot: str | None) -> PickSet:
    order = {i.id: n for n, i in enumerate(bank.items)}
    strong: list[str] = []
    weak: list[str] = []
    for item_id, option, _score, _valence in json.loads(ballot or "[]"):
        if item_id in order:
            (strong if option == PICK_STRONG else weak).append(str(item_id))
    return PickSet(strong=tuple(sorted(strong, key=order.__getitem__)), weak=tuple(sorted(weak, key=order.__getitem__)))


async def picks_of(
    session: AsyncSession, registry: BankRegistry, secret: bytes, round_id: int, bank_id: str, *, user_id: str
) -> dict[str, PickSet]:
    """The picks this person already made in this round, to fill the form in again (none once sealed)."""
    found = await _open_round(session, registry, round_id, bank_id)
    key = await round_key(session, secret, round_id) if found is not None else None
    if found is None or key is None:
        return {}
    _, _, bank = found
    mine = key.respondent(subject(bank.id, bank.exercise_id), user_id)
    held = (await ballots.held_answers(session, [(round_id, mine)])).get((round_id, mine), [])
    return {h.facet: _unpack(bank, h.picks) for h in held if h.item_id == bank.exercise_id}


async def record_picks(
    db: Database,
    registry: BankRegistry,
    secret: bytes,
    round_id: int,
    bank_id: str,
    picks: Mapping[str, PickSet],
    *,
    user_id: str,
    channel_id: str | None,
    now: dt.datetime,
    seq: int | None = None,
) -> PicksResult:
    """Replace this person's ballot for the round, for each perspective in `picks`.

    Call `check_picks` first; a submission with problems is refused here too and stores nothing.
    A perspective given with no picks withdraws that perspective's earlier picks. Of two
    submissions by one person, the later made (`seq`) stands, whichever is stored first.
    """
    seq = seq or click_seq(now)
    async with db.session() as session:
        found = await _open_round(session, registry, round_id, bank_id)
    if found is None:
        return PicksResult(Outcome.INVALID)
    round_, survey, bank = found
    segment = segment_for(survey, channel_id)
    if segment is None or check_picks(bank, picks):
        return PicksResult(Outcome.INVALID)
    closed = PicksResult(Outcome.CLOSED, closes_at=round_.closes_at, timezone=survey.timezone)
    if round_.closed_at is not None or now >= round_.closes_at:
        return closed
    async with db.writing() as session:
        key = await round_key(session, secret, round_id, lock=True)
        if key is None:
            return closed
        mine = key.respondent(subject(bank.id, bank.exercise_id), user_id)
        held = await ballots.held_answers(session, [(round_id, mine)])
        before = {h.facet: h for h in held.get((round_id, mine), [])}
        if any(h.seq > seq for h in before.values()):
            return PicksResult(Outcome.SUPERSEDED, closes_at=round_.closes_at, timezone=survey.timezone)
        rows = []
        counts: dict[str, tuple[int, int]] = {}
        for perspective in sorted(picks):
            chosen = picks[perspective]
            if chosen.empty:
                await ballots.withdraw(session, round_id, mine, perspective, seq)
                continue
            counts[perspective] = (len(chosen.strong), len(chosen.weak))
            rows.append(
                {
                    "round_id": round_id,
                    "respondent_key": mine,
                    "facet": perspective,
                    "bank_id": bank.id,
                    "item_id": bank.exercise_id,
                    "bank_version": bank.version,
                    "segment": segment,
                    "option": TOOK_PART,
                    "score": 0,
                    "valence": 0,
                    "seq": seq,
                    "picks": _ballot(bank, chosen),
                }
            )
        await ballots.hold_answers(session, rows)
    outcome = Outcome.CHANGED if before else Outcome.RECORDED
    return PicksResult(outcome, counts, round_.closes_at, survey.timezone)
