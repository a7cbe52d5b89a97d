"""The trust-behaviour picks in Teams: the exercise's button opens its form, and the form is saved.

Both are Action.Execute invokes, so whatever card is answered replaces the round card for the
clicking person only: their own picks never show to anyone else in the channel. The picks are
checked and stored by surveys.picks exactly as Slack's form does, against the segment of the
channel the card was clicked in.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from microsoft_agents.activity import AdaptiveCardInvokeResponse
from microsoft_agents.hosting.core import TurnContext, TurnState
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.teams.cards import local_time, notice_card, round_card
from bot.teams.ids import channel_of, conversation_key, person_of
from bot.teams.listeners.answers import activity_seq, my_view
from bot.teams.messages import invoke_card
from bot.teams.picks_cards import (
    FIX_THEM,
    OPEN_VERB,
    SAVE_VERB,
    PicksForm,
    picks_from_data,
    placed_problems,
    status_line,
)
from storage.models import Round
from surveys.answers import Outcome
from surveys.banks import Bank
from surveys.picks import check_picks, picks_of, record_picks

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

log = logging.getLogger(__name__)

GONE = "This exercise is no longer available. Look out for the next pulse."
CLOSED = "This round has closed, so picks can no longer be recorded. Look out for the next one."
TRY_AGAIN = "Sorry, your picks could not be handled just now. Please try again in a moment."


class PicksRef(BaseModel):
    """What the exercise's buttons carry (the form's inputs come alongside): round and bank."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    round_id: int = Field(alias="r", ge=1)
    bank: str = Field(alias="b", min_length=1, max_length=80)


def register(bot: TeamsBot) -> None:
    ctx = bot.ctx

    def exercise(data: Any) -> tuple[PicksRef, Bank] | None:
        try:
            ref = PicksRef.model_validate(data)
        except ValidationError:
            return None
        bank = ctx.banks.get(ref.bank)
        return (ref, bank) if bank is not None and bank.picks is not None else None

    def is_closed(round_: Round | None) -> bool:
        return round_ is not None and (round_.closed_at is not None or ctx.clock() >= round_.closes_at)

    @bot.app.adaptive_card.action_execute(OPEN_VERB)
    async def on_open(context: TurnContext, state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        person = person_of(context.activity)
        found = exercise(data)
        if found is None or not person:
            return invoke_card(notice_card(GONE))
        ref, bank = found
        try:
            async with ctx.db.session() as session:
                round_ = await session.get(Round, ref.round_id)
                message, chosen = await my_view(ctx, session, ref.round_id, person)
                current = await picks_of(session, ctx.banks, ctx.secret, ref.round_id, bank.id, user_id=person)
        except Exception:
            ctx.counters.add("forms", "not opened")
            return invoke_card(notice_card(TRY_AGAIN))
        if message is None or not any(p.bank.id == bank.id for p in message.prompts):
            return invoke_card(notice_card(GONE))
        if is_closed(round_):
            return invoke_card(round_card(message, chosen, status=CLOSED, open_=False))
        return invoke_card(round_card(message, chosen, forms={bank.id: PicksForm(current)}))

    @bot.app.adaptive_card.action_execute(SAVE_VERB)
    async def on_save(context: TurnContext, state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        person = person_of(context.activity)
        channel = conversation_key(channel_of(context.activity))
        found = exercise(data)
        if found is None or not person:
            ctx.counters.add("picks", Outcome.INVALID.value)
            return invoke_card(notice_card(GONE))
        ref, bank = found
        picks = picks_from_data(bank, data)
        problems = placed_problems(bank, check_picks(bank, picks))
        try:
            if problems:
                # Nothing stored: the form comes back as it was sent, each problem under its input.
                async with ctx.db.session() as session:
                    message, chosen = await my_view(ctx, session, ref.round_id, person)
                if message is None:
                    return invoke_card(notice_card(GONE))
                form = PicksForm(picks, problems)
                return invoke_card(round_card(message, chosen, status=FIX_THEM, forms={bank.id: form}))
            # Two quick saves may be stored in either order: the one made later stands.
            now = ctx.clock()
            result = await record_picks(
                ctx.db,
                ctx.banks,
                ctx.secret,
                ref.round_id,
                bank.id,
                picks,
                user_id=person,
                channel_id=channel,
                now=now,
                seq=activity_seq(context, now),
            )
            async with ctx.db.session() as session:
                message, chosen = await my_view(ctx, session, ref.round_id, person)
                saved = await picks_of(session, ctx.banks, ctx.secret, ref.round_id, bank.id, user_id=person)
        except Exception:
            ctx.counters.add("picks", "not saved")
            return invoke_card(notice_card(TRY_AGAIN))
        ctx.counters.add("picks", result.outcome.value)
        until = local_time(result.closes_at, result.timezone) if result.closes_at else ""
        status = status_line(result, until)
        if message is None:
            return invoke_card(notice_card(status))
        if result.outcome in (Outcome.RECORDED, Outcome.CHANGED):
            return invoke_card(round_card(message, chosen, status=status, forms={bank.id: PicksForm(saved)}))
        return invoke_card(round_card(message, chosen, status=status, open_=result.outcome is not Outcome.CLOSED))
