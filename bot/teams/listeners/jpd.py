"""A person's side of a JPD exchange in Teams: the invitation card's buttons and the form.

Each is an Action.Execute invoke, so the card answered replaces the invitation for the clicking
person alone: their choices never show to anyone else in the channel. Stored and checked by
surveys.jpd.exchange exactly as Slack's form is.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from microsoft_agents.activity import AdaptiveCardInvokeResponse
from microsoft_agents.hosting.core import TurnContext, TurnState

from bot.jpd_text import deadline_text, saved_text
from bot.teams.cards import notice_card
from bot.teams.ids import person_of
from bot.teams.jpd_cards import OPEN_VERB, SAVE_VERB, WITHDRAW_VERB, form_card, form_values
from bot.teams.messages import invoke_card
from surveys.jpd import exchange as ex
from surveys.jpd.notices import invitation_of

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

log = logging.getLogger(__name__)

CLOSED = "That exchange has closed."
SORRY = "Sorry, something went wrong and nothing was changed. Please try again in a minute."


def _exchange_id(data: Any) -> int | None:
    value = (data or {}).get("x") if isinstance(data, dict) else None
    return value if isinstance(value, int) and 0 < value < 2**31 else None


def register(bot: TeamsBot) -> None:
    ctx = bot.ctx

    @bot.app.adaptive_card.action_execute(OPEN_VERB)
    async def on_open(context: TurnContext, state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        exchange_id, person = _exchange_id(data), person_of(context.activity)
        try:
            async with ctx.db.session() as session:
                exchange = await ex.find(session, exchange_id) if exchange_id else None
                if exchange is None or exchange.closed_at is not None or ctx.clock() > exchange.deadline:
                    return invoke_card(notice_card(CLOSED))
                entry = await ex.entry_of(session, exchange.id, person)
                return invoke_card(
                    form_card(
                        invitation_of(exchange),
                        offers=entry.offers if entry else (),
                        wants=entry.wants if entry else (),
                        unit=entry.unit if entry else "",
                        note=entry.note if entry else "",
                    )
                )
        except Exception as exc:
            log.error("opening the JPD form failed: %s", type(exc).__name__)
            return invoke_card(notice_card(SORRY))

    @bot.app.adaptive_card.action_execute(SAVE_VERB)
    async def on_save(context: TurnContext, state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        exchange_id, person = _exchange_id(data), person_of(context.activity)
        values = form_values(data if isinstance(data, dict) else {})
        if exchange_id is None or not person:
            return invoke_card(notice_card(CLOSED))
        choice = ex.Choice(values["offers"], values["wants"], values["note"], values["unit"])
        name = str(getattr(context.activity.from_property, "name", "") or "")
        try:
            new = await ex.answer(ctx.db, exchange_id, person, choice, ctx.clock(), name=name)
            async with ctx.db.session() as session:
                exchange = await ex.find(session, exchange_id)
                assert exchange is not None
                labels = ex.label_of(exchange)
                when = deadline_text(exchange.deadline, exchange.timezone)
        except ex.ExchangeError as exc:
            async with ctx.db.session() as session:
                exchange = await ex.find(session, exchange_id)
            if exchange is None or exchange.closed_at is not None or "has closed" in str(exc):
                return invoke_card(notice_card(str(exc)))
            return invoke_card(form_card(invitation_of(exchange), **values, problem=str(exc)))
        except Exception as exc:
            log.error("saving a JPD answer failed: %s", type(exc).__name__)
            return invoke_card(notice_card(SORRY))
        title, said = saved_text(new, [labels[t] for t in choice.offers], [labels[t] for t in choice.wants], when)
        return invoke_card(notice_card(f"{title}. {said}"))

    @bot.app.adaptive_card.action_execute(WITHDRAW_VERB)
    async def on_withdraw(context: TurnContext, state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        exchange_id, person = _exchange_id(data), person_of(context.activity)
        if exchange_id is None or not person:
            return invoke_card(notice_card(CLOSED))
        try:
            gone = await ex.withdraw(ctx.db, exchange_id, person, ctx.clock())
        except ex.ExchangeError as exc:
            return invoke_card(notice_card(str(exc)))
        except Exception as exc:
            log.error("withdrawing from a JPD exchange failed: %s", type(exc).__name__)
            return invoke_card(notice_card(SORRY))
        if gone:
            return invoke_card(notice_card(f"You have withdrawn from exchange {exchange_id}; your answer is deleted."))
        return invoke_card(notice_card(f"You had not taken part in exchange {exchange_id}; nothing to withdraw."))
