"""Recording one click as an anonymous answer.

A click is worked out in two steps, so that a busy web process can share the database work of
many clicks (surveys/recording.py) while `record_answer` keeps doing one at a time:

* `plan_answer` checks the click against what it needs of its round (`RoundFacts`) and says what
  would be stored, or why nothing will be (an invalid button, a closed round). No database.
* `write_answers` reads the rounds' keys (locked, so no round is sealed meanwhile), works out each
  person's respondent key, and `settle` turns a plan and this person's held answers to the item
  into the result and the row to write (None when the answer did not change, or a later click
  of theirs already stands).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import ballots
from storage.ballots import Held
from storage.db import Database
from storage.models import Round, Survey
from surveys.banks import BankRegistry
from surveys.keys import round_keys, subject


class Answer(BaseModel):
    """What a button carries: which round, which item, which option. Never who."""

    model_config = ConfigDict(frozen=True)

    round_id: int = Field(alias="r", ge=1)
    item_id: str = Field(alias="i", min_length=1, max_length=80)
    option: str = Field(alias="o", min_length=1, max_length=40)
    facet: str = Field(default="", alias="f", max_length=16)
    # Which bank the item is from: two banks of one round may share an item id. Buttons posted
    # before it was added carry none; their item is then looked for in the round's banks in turn.
    bank_id: str = Field(default="", alias="b", max_length=80)

    @staticmethod
    def payload(round_id: int, bank_id: str, item_id: str, option: str, facet: str = "") -> dict[str, Any]:
        """What a button carries, in the aliases above: which round, bank, item and option. Never who."""
        data: dict[str, Any] = {"r": round_id, "b": bank_id, "i": item_id, "o": option}
        if facet:
            data["f"] = facet
        return data


class Outcome(Enum):
    RECORDED = "recorded"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    CLOSED = "closed"
    INVALID = "invalid"
    # A later click by the same person reached us first and stands (`previous_label`).
    SUPERSEDED = "superseded"


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

    def bank_of(self, item_id: str, bank_id: str = "") -> str | None:
        """The bank this round asked `item_id` from: the one named, or the first that has it."""
        return next((bank for item, bank in self.items if item == item_id and bank_id in ("", bank)), None)


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
    """A valid click on a round that was open when it was checked: what it would store, and how
    to word the result. Its respondent key is worked out only when it is written, from the round's
    key read in that transaction (`write_answers`)."""

    round_id: int
    bank_id: str
    item_id: str
    facet: str
    user_id: str
    # When the person clicked (microseconds): of one person's clicks the latest stands.
    seq: int
    # Every question of the item, to tell which of the others are still unanswered.
    facets: tuple[str, ...]
    # option value -> label, to name an earlier answer.
    labels: Mapping[str, str]
    row: Mapping[str, Any]
    result: AnswerResult

    @property
    def person(self) -> tuple[int, str, str, str]:
        """This person's answers to this item, whatever the question (in memory only, never stored)."""
        return (self.round_id, self.bank_id, self.item_id, self.user_id)


def plan_answer(
    facts: RoundFacts | None,
    registry: BankRegistry,
    answer: Answer,
    *,
    user_id: str,
    channel_id: str | None,
    now: dt.datetime,
    seq: int,
) -> Plan | AnswerResult:
    """What this click would store, or the result that stores nothing (invalid, closed)."""
    bank_id = facts.bank_of(answer.item_id, answer.bank_id) if facts is not None else None
    bank = registry.get(bank_id) if bank_id is not None else None
    # A picks exercise is answered through its form (surveys/picks.py), never one button at a time.
    item = bank.item(answer.item_id) if bank is not None and bank.kind != "picks" else None
    if facts is None or bank is None or item is None or answer.facet not in bank.facets() or not user_id:
        return AnswerResult(Outcome.INVALID)
    scale = bank.scale_of(item)
    option = scale.option(answer.option)
    valence = bank.valence(item, answer.option)
    segment = _segment(facts.audience_kind, facts.audience, channel_id)
    if option is None or valence is None or segment is None:
        return AnswerResult(Outcome.INVALID, item.text)
    if facts.closed(now):
        return _closed(item.text, option.label, answer.facet, item.name)
    row = {
        "round_id": facts.round_id,
        "item_id": item.id,
        "facet": answer.facet,
        "bank_id": bank.id,
        # The version whose scale scored this answer: the loaded one, which is the round's own
        # unless the bank was edited while the round was open.
        "bank_version": bank.version,
        "segment": segment,
        "option": option.value,
        "score": option.score,
        "valence": valence,
        "seq": seq,
        "picks": None,
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
    return Plan(facts.round_id, bank.id, item.id, answer.facet, user_id, seq, bank.facets(), labels, row, result)


def _closed(item_text: str, label: str, facet: str, name: str) -> AnswerResult:
    return AnswerResult(Outcome.CLOSED, item_text, label, facet=facet, item_name=name)


def settle(plan: Plan, earlier: Sequence[Held]) -> tuple[AnswerResult, Mapping[str, Any] | None]:
    """The result, given this person's held answers to the item, and the row to write (None when
    the answer is the one already held, or a later click of theirs already stands)."""
    mine = {h.facet: h for h in earlier}
    previous = mine.get(plan.facet)
    open_facets = tuple(f for f in plan.facets if f != plan.facet and f not in mine)
    result = replace(plan.result, open_facets=open_facets)
    if previous is not None:
        result = replace(result, previous_label=plan.labels.get(previous.option, previous.option))
        if previous.seq > plan.seq:
            # Clicks may reach us out of order (Slack retries, two web processes): the later stands.
            same = previous.option == plan.row["option"]
            return replace(result, outcome=Outcome.UNCHANGED if same else Outcome.SUPERSEDED), None
        if previous.option == plan.row["option"]:
            return result, None
    return replace(result, outcome=Outcome.CHANGED if previous is not None else Outcome.RECORDED), plan.row


async def write_answers(session: AsyncSession, secret: bytes, plans: Sequence[Plan]) -> list[AnswerResult]:
    """Hold the planned answers in the caller's `Database.writing()` transaction; one result each.

    The rounds' keys are read and locked first: a round sealed since its click was checked has no
    key any more, and its clicks store nothing.
    """
    keys = await round_keys(session, secret, {p.round_id for p in plans}, lock=True)
    keyed = {
        i: keys[p.round_id].respondent(subject(p.bank_id, p.item_id), p.user_id)
        for i, p in enumerate(plans)
        if p.round_id in keys
    }
    earlier = await ballots.held_answers(session, [(plans[i].round_id, key) for i, key in keyed.items()])
    results: list[AnswerResult] = []
    rows: list[dict[str, Any]] = []
    for i, plan in enumerate(plans):
        key = keyed.get(i)
        if key is None:
            results.append(_closed(plan.result.item_text, plan.result.option_label, plan.facet, plan.result.item_name))
            continue
        result, row = settle(plan, earlier.get((plan.round_id, key), []))
        results.append(result)
        if row is not None:
            rows.append({**row, "respondent_key": key})
    await ballots.hold_answers(session, rows)
    return results


async def record_answer(
    db: Database,
    registry: BankRegistry,
    secret: bytes,
    answer: Answer,
    *,
    user_id: str,
    channel_id: str | None,
    now: dt.datetime,
    seq: int | None = None,
) -> AnswerResult:
    """Check and store one click in a transaction of its own."""
    async with db.session() as session:
        facts = await round_facts(session, answer.round_id)
    plan = plan_answer(
        facts, registry, answer, user_id=user_id, channel_id=channel_id, now=now, seq=seq or click_seq(now)
    )
    if isinstance(plan, AnswerResult):
        return plan
    async with db.writing() as session:
        [result] = await write_answers(session, secret, [plan])
    return result


def click_seq(at: dt.datetime) -> int:
    """A click's place among one person's clicks: its time in microseconds."""
    return int(at.timestamp() * 1_000_000)


def slack_seq(action_ts: Any, fallback: dt.datetime) -> int:
    """Slack's `action_ts` ("1712345678.123456") in microseconds, or the receipt time without one."""
    try:
        seconds, _, fraction = str(action_ts).partition(".")
        return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])
    except ValueError:
        return click_seq(fallback)
