"""The trust-behaviour exercise (a picks bank): one person's picks for a round, stored anonymously.

A member picks up to N strongest and M weakest behaviours, once per perspective ("self": in
themselves, "team": in the leadership team as a whole). Each picked behaviour is one response:
item = the behaviour, facet = the perspective, option "strong" or "weak" with the scale's score
and valence. Unpicked behaviours store nothing.

Because every behaviour's respondent key is a different HMAC, the rows cannot tell how many
people did the exercise. So each perspective a person answers also stores one participation row
on the exercise itself (item = the bank id, option `TOOK_PART`, score 0, valence 0): counting those
rows gives the `n` that percentages and the anonymity threshold need.

Sending the form again replaces that person's picks for the round, perspective by perspective,
in one transaction: their keys for every behaviour are computed (never stored with a user id),
their rows deleted and the new ones written. The participation row is written first so that two
submissions by the same person at once queue on it rather than mixing their picks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Response, Round, Survey
from surveys.anonymity import respondent_key
from surveys.answers import Outcome, segment_for
from surveys.banks import Bank, BankRegistry
from surveys.banks.model import PICK_STRONG, PICK_WEAK

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


def _keys(secret: bytes, round_id: int, bank: Bank, user_id: str) -> dict[str, str]:
    """This person's respondent key for every behaviour of the bank and for the exercise itself."""
    ids = [i.id for i in bank.items] + [bank.exercise_id]
    return {item_id: respondent_key(secret, round_id, item_id, user_id) for item_id in ids}


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


async def picks_of(
    session: AsyncSession, registry: BankRegistry, secret: bytes, round_id: int, bank_id: str, *, user_id: str
) -> dict[str, PickSet]:
    """The picks this person already made in this round, to fill the form in again."""
    found = await _open_round(session, registry, round_id, bank_id)
    if found is None:
        return {}
    round_, _, bank = found
    keys = _keys(secret, round_.id, bank, user_id)
    by_key = {key: item_id for item_id, key in keys.items()}
    rows = await session.execute(
        select(Response.respondent_key, Response.facet, Response.option).where(
            Response.round_id == round_.id, Response.respondent_key.in_(list(keys.values()))
        )
    )
    strong: dict[str, list[str]] = {}
    weak: dict[str, list[str]] = {}
    for key, facet, option in rows:
        item_id = by_key[key]
        if item_id == bank.exercise_id:
            continue
        (strong if option == PICK_STRONG else weak).setdefault(facet, []).append(item_id)
    order = {i.id: n for n, i in enumerate(bank.items)}
    return {
        p: PickSet(
            strong=tuple(sorted(strong.get(p, []), key=order.__getitem__)),
            weak=tuple(sorted(weak.get(p, []), key=order.__getitem__)),
        )
        for p in set(strong) | set(weak)
    }


async def record_picks(
    session: AsyncSession,
    registry: BankRegistry,
    secret: bytes,
    round_id: int,
    bank_id: str,
    picks: Mapping[str, PickSet],
    *,
    user_id: str,
    channel_id: str | None,
    now: dt.datetime,
) -> PicksResult:
    """Replace this person's picks for the round, for each perspective in `picks`.

    Call `check_picks` first; a submission with problems is refused here too and stores nothing.
    A perspective given with no picks withdraws that perspective's earlier picks.
    """
    found = await _open_round(session, registry, round_id, bank_id)
    if found is None:
        return PicksResult(Outcome.INVALID)
    round_, survey, bank = found
    segment = segment_for(survey, channel_id)
    if segment is None or check_picks(bank, picks):
        return PicksResult(Outcome.INVALID)
    if round_.closed_at is not None or now >= round_.closes_at:
        return PicksResult(Outcome.CLOSED, closes_at=round_.closes_at, timezone=survey.timezone)

    keys = _keys(secret, round_.id, bank, user_id)
    exercise_key = keys[bank.exercise_id]
    before = set(
        (
            await session.scalars(
                select(Response.facet).where(
                    Response.round_id == round_.id,
                    Response.item_id == bank.exercise_id,
                    Response.respondent_key == exercise_key,
                )
            )
        ).all()
    )
    day = now.astimezone(ZoneInfo(survey.timezone)).date()
    common = {"round_id": round_.id, "bank_id": bank.id, "bank_version": bank.version, "segment": segment, "day": day}
    counts: dict[str, tuple[int, int]] = {}
    for perspective in sorted(picks):
        chosen = picks[perspective]
        # The participation row first: its row lock makes a second submission wait for this one.
        await repo.upsert_response(
            session,
            {
                **common,
                "item_id": bank.exercise_id,
                "facet": perspective,
                "respondent_key": exercise_key,
                "option": TOOK_PART,
                "score": 0,
                "valence": 0,
            },
        )
        await session.execute(
            delete(Response).where(
                Response.round_id == round_.id,
                Response.facet == perspective,
                Response.respondent_key.in_([k for item_id, k in keys.items() if item_id != bank.exercise_id]),
            )
        )
        for side, ids in ((PICK_STRONG, chosen.strong), (PICK_WEAK, chosen.weak)):
            for item_id in ids:
                item = bank.item(item_id)
                option = bank.scale_of(item).option(side) if item is not None else None
                valence = bank.valence(item, side) if item is not None else None
                if item is None or option is None or valence is None:
                    raise ValueError("picks were not checked")  # check_picks above rules this out
                await repo.upsert_response(
                    session,
                    {
                        **common,
                        "item_id": item.id,
                        "facet": perspective,
                        "respondent_key": keys[item.id],
                        "option": option.value,
                        "score": option.score,
                        "valence": valence,
                    },
                )
        if chosen.empty:
            await session.execute(
                delete(Response).where(
                    Response.round_id == round_.id,
                    Response.item_id == bank.exercise_id,
                    Response.facet == perspective,
                    Response.respondent_key == exercise_key,
                )
            )
        else:
            counts[perspective] = (len(chosen.strong), len(chosen.weak))
    outcome = Outcome.CHANGED if before else Outcome.RECORDED
    return PicksResult(outcome, counts, round_.closes_at, survey.timezone)
