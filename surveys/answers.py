"""Recording one click as an anonymous answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import Enum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
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


def segment_for(survey: Survey, channel_id: str | None) -> str | None:
    """The segment an answer counts toward: the school's channel, or the DM audience as a whole."""
    if survey.audience_kind == "channels":
        return channel_id if channel_id in survey.audience else None
    return str(survey.audience[0]) if survey.audience else "dm"


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
    round_ = await session.get(Round, answer.round_id)
    if round_ is None:
        return AnswerResult(Outcome.INVALID)
    survey = await session.get(Survey, round_.survey_id)
    ref = next((i for i in round_.items if i["item"] == answer.item_id), None)
    bank = registry.get(ref["bank"]) if ref else None
    # A picks exercise is answered through its form (surveys/picks.py), never one button at a time.
    item = bank.item(answer.item_id) if bank is not None and bank.kind != "picks" else None
    if survey is None or ref is None or bank is None or item is None or answer.facet not in bank.facets():
        return AnswerResult(Outcome.INVALID)
    option = bank.scale_of(item).option(answer.option)
    valence = bank.valence(item, answer.option)
    segment = segment_for(survey, channel_id)
    if option is None or valence is None or segment is None:
        return AnswerResult(Outcome.INVALID, item.text)
    if round_.closed_at is not None or now >= round_.closes_at:
        return AnswerResult(Outcome.CLOSED, item.text, option.label, facet=answer.facet, item_name=item.name)

    key = respondent_key(secret, round_.id, item.id, user_id)
    previous = await repo.response_option(session, round_.id, item.id, answer.facet, key)
    previous_label = ""
    if previous is not None:
        prev_option = bank.scale_of(item).option(previous)
        previous_label = prev_option.label if prev_option else previous
    open_facets = tuple(
        [
            f
            for f in bank.facets()
            if f != answer.facet and await repo.response_option(session, round_.id, item.id, f, key) is None
        ]
    )
    result = AnswerResult(
        Outcome.UNCHANGED,
        item.text,
        option.label,
        previous_label,
        round_.closes_at,
        survey.timezone,
        facet=answer.facet,
        open_facets=open_facets,
        item_name=item.name,
    )
    if previous == option.value:
        return result
    await repo.upsert_response(
        session,
        {
            "round_id": round_.id,
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
            "day": now.astimezone(ZoneInfo(survey.timezone)).date(),
        },
    )
    return replace(result, outcome=Outcome.CHANGED if previous is not None else Outcome.RECORDED)
