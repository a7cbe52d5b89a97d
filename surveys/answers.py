"""Recording one click as an anonymous answer.

A click is worked out in two steps, so that a busy web process can share the database work of
many clicks (surveys/recording.py) while `record_answer` keeps doing one at a time:

* `plan_answer` checks the click against what it needs of its round (`RoundFacts`) and says what
  would be stored, or why nothing will be (an invalid button, a closed round). No database.
* `settle` turns a plan and this person's earlier answers to the item into the result and the
  row to write (None when the answer did not change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Round, Survey
from surveys.anonymity import respondent_key
from surveys.banks import BankRegistry


class Answer(BaseModel):
    """What a button carries: which round, which item, which option. Never who."""

    model_config = ConfigDict(frozen=True)

    round_id: int = Field(alias="r", ge=1)
    item_id: str = Field(alias="i", min_length=1, max_length=80)
    option: str = Field(alias="o", min_length=1, max_length=40)
    facet: str = Field(default="", alias="f", max_length=16)


class Outcome(Enum):
    RECORDED = "recorded"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    CLOSED = "closed"
    INVALID = "invalid"


@dataclass(frozen=True)
class AnswerResult:
    outcome: Outcome
    item_text: str = ""
    option_label: str = ""
    previous_label: str = ""
    closes_at: dt.datetime | None = None
    timezone: str = "UTC"
    # For an item that asks more than one question (a strand: "now" and "future"): which one this
    # answer was, and which of the others this person has not answered yet in this round.
    facet: str = ""
    open_facets: tuple[str, ...] = ()
    item_name: str = ""


@dataclass(frozen=True)
class RoundFacts:
    """What a click needs of its round and survey: all fixed when the round opens, except
    `closed_at` (set by the clock when `closes_at` passes) and the survey's time zone and
    audience, which a coordinator may edit."""

    round_id: int
    survey_id: int
    # (item id, bank id) of each item put in the round.
    items: tuple[tuple[str, str], ...]
    closes_at: dt.datetime
    closed_at: dt.datetime | None
    timezone: str
    audience_kind: str
    audience: tuple[str, ...]

    def closed(self, now: dt.datetime) -> bool:
        return self.closed_at is not None or now >= self.closes_at

    def bank_of(self, item_id: str) -> str | None:
        return next((bank for item, bank in self.items if item == item_id), None)


async def round_facts(session: AsyncSession, round_id: int) -> RoundFacts | None:
    """One query for the round and its survey; None if the round (or its survey) is gone."""
    row = (
        await session.execute(
            select(
                Round.survey_id,
                Round.items,
                Round.closes_at,
                Round.closed_at,
                Survey.timezone,
                Survey.audience_kind,
                Survey.audience,
            )
            .join(Survey, Survey.id == Round.survey_id)
            .where(Round.id == round_id)
        )
    ).first()
    if row is None:
        return None
    items = tuple((str(ref["item"]), str(ref["bank"])) for ref in row.items or [])
    audience = tuple(str(a) for a in row.audience or [])
    return RoundFacts(
        round_id, row.survey_id, items, row.closes_at, row.closed_at, row.timezone, row.audience_kind, audience
    )


def segment_for(survey: Survey, channel_id: str | None) -> str | None:
    """The segment an answer counts toward: the school's channel, or the DM audience as a whole."""
    return _segment(survey.audience_kind, survey.audience or [], channel_id)


def _segment(kind: str, audience: Sequence[Any], channel_id: str | None) -> str | None:
    if kind == "channels":
        return channel_id if channel_id in audience else None
    return str(audience[0]) if audience else "dm"


@dataclass(frozen=True)
class Plan:
    """A valid click on an open round: the row it would store, and how to word the result."""

    round_id: int
    item_id: str
    facet: str
    key: str
    # Every question of the item, to tell which of the others are still unanswered.
    facets: tuple[str, ...]
    # option value -> label, to name an earlier answer.
    labels: Mapping[str, str]
    row: Mapping[str, Any]
    result: AnswerResult

    @property
    def person(self) -> tuple[int, str, str]:
        """This person's answers to this item, whatever the question: one FIFO lock's worth."""
        return (self.round_id, self.item_id, self.key)


def plan_answer(
    facts: RoundFacts | None,
    registry: BankRegistry,
    secret: bytes,
    answer: Answer,
    *,
    user_id: str,
    channel_id: str | None,
    now: dt.datetime,
) -> Plan | AnswerResult:
    """What this click would store, or the result that stores nothing (invalid, closed)."""
    bank_id = facts.bank_of(answer.item_id) if facts is not None else None
    bank = registry.get(bank_id) if bank_id is not None else None
    # A picks exercise is answered through its form (surveys/picks.py), never one button at a time.
    item = bank.item(answer.item_id) if bank is not None and bank.kind != "picks" else None
    if facts is None or bank is None or item is None or answer.facet not in bank.facets():
        return AnswerResult(Outcome.INVALID)
    scale = bank.scale_of(item)
    option = scale.option(answer.option)
    valence = bank.valence(item, answer.option)
    segment = _segment(facts.audience_kind, facts.audience, channel_id)
    if option is None or valence is None or segment is None:
        return AnswerResult(Outcome.INVALID, item.text)
    if facts.closed(now):
        return AnswerResult(Outcome.CLOSED, item.text, option.label, facet=answer.facet, item_name=item.name)
    key = respondent_key(secret, facts.round_id, item.id, user_id)
    row = {
        "round_id": facts.round_id,
        "item_id": item.id,
        "facet": answer.facet,
        "respondent_key": key,
        "bank_id": bank.id,
        # The version whose scale scored this answer: the loaded one, which is the round's own
        # unless the bank was edited while the round was open.
        "bank_version": bank.version,
        "segment": segment,
        "option": option.value,
        "score": option.score,
        "valence": valence,
        # The day in the survey's zone is the finest time a response keeps.
        "day": now.astimezone(ZoneInfo(facts.timezone)).date(),
    }
    result = AnswerResult(
        Outcome.UNCHANGED,
        item.text,
        option.label,
        closes_at=facts.closes_at,
        timezone=facts.timezone,
        facet=answer.facet,
        item_name=item.name,
    )
    labels = {o.value: o.label for o in scale.options}
    return Plan(facts.round_id, item.id, answer.facet, key, bank.facets(), labels, row, result)


def settle(plan: Plan, earlier: Mapping[str, str]) -> tuple[AnswerResult, Mapping[str, Any] | None]:
    """The result, given this person's earlier answers to the item (facet -> option), and the row
    to write, or None when the answer is the one already stored."""
    previous = earlier.get(plan.facet)
    open_facets = tuple(f for f in plan.facets if f != plan.facet and f not in earlier)
    result = replace(
        plan.result,
        previous_label=plan.labels.get(previous, previous) if previous is not None else "",
        open_facets=open_facets,
    )
    if previous == plan.row["option"]:
        return result, None
    return replace(result, outcome=Outcome.CHANGED if previous is not None else Outcome.RECORDED), plan.row


async def record_answer(
    session: AsyncSession,
    registry: BankRegistry,
    secret: bytes,
    answer: Answer,
    *,
    user_id: str,
    channel_id: str | None,
    now: dt.datetime,
) -> AnswerResult:
    """Check and store one click in the caller's transaction."""
    facts = await round_facts(session, answer.round_id)
    plan = plan_answer(facts, registry, secret, answer, user_id=user_id, channel_id=channel_id, now=now)
    if isinstance(plan, AnswerResult):
        return plan
    earlier = await repo.earlier_answers(session, [(plan.round_id, plan.item_id, plan.facets, plan.key)])
    result, row = settle(plan, earlier.get(plan.person, {}))
    if row is not None:
        await repo.upsert_responses(session, [row])
    return result
