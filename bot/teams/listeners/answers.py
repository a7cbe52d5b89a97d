"""A click on an answer button (Action.Execute): record anonymously, show the clicker alone their choice."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from microsoft_agents.activity import AdaptiveCardInvokeResponse
from microsoft_agents.hosting.core import RouteRank, TurnContext, TurnState
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.teams.cards import (
    ANSWER_VERB,
    answered_card,
    facets_of,
    notice_card,
    status_line,
)
from bot.teams.ids import channel_of, conversation_key, person_of
from bot.teams.messages import invoke_card
from storage.models import Round, Survey
from surveys.answers import Answer, AnswerResult, Outcome, click_seq, record_answer
from surveys.participant import my_answers
from surveys.platform import RoundMessage
from surveys.rounds import round_message

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

log = logging.getLogger(__name__)

OUT_OF_DATE = "This card is out of date. Look out for the next pulse."
TRY_AGAIN = "Sorry, that answer could not be recorded just now. Please try again in a moment."


async def my_view(
    ctx: Context, session: AsyncSession, round_id: int, person: str
) -> tuple[RoundMessage | None, dict[Any, str]]:
    """The round as this person should now see it: the items and their own current choices
    (for a picks exercise, whether they took part, per perspective)."""
    round_ = await session.get(Round, round_id)
    survey = await session.get(Survey, round_.survey_id) if round_ is not None else None
    if round_ is None or survey is None:
        return None, {}
    message = round_message(survey, round_, ctx.banks)
    mine = (await my_answers(session, ctx.secret, {round_.id: round_.items}, person)).get(round_.id, {})
    shown = {(p.item.id, facet) for p in message.prompts for facet in facets_of(p.bank)}
    chosen: dict[Any, str] = {at: option for at, option in mine.items() if at in shown}
    return message, chosen


def activity_seq(context: TurnContext, now: Any) -> int:
    """Where a click stands among one person's clicks: when Teams says it was sent, else now."""
    return click_seq(context.activity.timestamp or now)


def register(bot: TeamsBot) -> None:
    ctx = bot.ctx
    # Counts only: a log line per click would say when somebody answered.

    @bot.app.adaptive_card.action_execute(ANSWER_VERB)
    async def on_answer(context: TurnContext, state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        person = person_of(context.activity)
        channel = conversation_key(channel_of(context.activity))
        try:
            answer: Answer | None = Answer.model_validate(data)
        except ValidationError:
            answer = None
        if answer is None or not person:
            ctx.counters.add("answers", Outcome.INVALID.value)
            return invoke_card(notice_card(status_line(AnswerResult(Outcome.INVALID))))
        try:
            # Two quick clicks may be stored by different processes in either order: the later stands.
            now = ctx.clock()
            result = await record_answer(
                ctx.db,
                ctx.banks,
                ctx.secret,
                answer,
                user_id=person,
                channel_id=channel,
                now=now,
                seq=activity_seq(context, now),
            )
            async with ctx.db.session() as session:
                message, chosen = await my_view(ctx, session, answer.round_id, person)
        except Exception:
            ctx.counters.add("answers", "not saved")
            return invoke_card(notice_card(TRY_AGAIN))
        ctx.counters.add("answers", result.outcome.value)
        if message is None:
            return invoke_card(notice_card(status_line(result)))
        return invoke_card(answered_card(message, result, chosen))

    @bot.app.adaptive_card.action_execute(re.compile(".*"), rank=RouteRank.LAST)
    async def on_unknown_action(context: TurnContext, state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        # Ranked last, so only cards from another version of the app land here.
        return invoke_card(notice_card(OUT_OF_DATE))
