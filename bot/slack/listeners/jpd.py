"""A person's side of a JPD exchange in Slack: the invitation's two buttons and the form.

"Take part or change" opens the form with the person's current answer; "Withdraw" takes them out.
The form's own mistakes (no topic chosen) are shown on its fields in the answer to Slack; what
needs the database is done after the modal has turned into "Saving…", and the result replaces it.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Context
from bot.jpd_text import deadline_text, saved_text
from bot.slack.blocks import esc
from bot.slack.jpd_blocks import FORM_CALLBACK, OFFERS, TAKE_PART, WANTS, WITHDRAW, form_modal, form_values
from bot.slack.listeners.commands import caller_of
from bot.slack.views import notice_modal
from surveys.jpd import exchange as ex
from surveys.jpd.notices import invitation_of

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong and nothing was changed. Please try again in a minute."


def _exchange_id(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and 0 < int(text) < 2**31 else None


def register(app: AsyncApp, ctx: Context) -> None:
    @app.action(TAKE_PART)
    async def on_take_part(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        caller = caller_of(body)
        exchange_id = _exchange_id((body.get("actions") or [{}])[0].get("value"))
        try:
            async with ctx.db.session() as session:
                exchange = await ex.find(session, exchange_id) if exchange_id else None
                if exchange is None or exchange.closed_at is not None or ctx.clock() > exchange.deadline:
                    await respond(response_type="ephemeral", replace_original=False, text="That exchange has closed.")
                    return
                entry = await ex.entry_of(session, exchange.id, caller.user_id)
                view = form_modal(
                    invitation_of(exchange),
                    offers=entry.offers if entry else (),
                    wants=entry.wants if entry else (),
                    unit=entry.unit if entry else "",
                    note=entry.note if entry else "",
                )
            await client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)
        except Exception as exc:
            log.error("opening the JPD form failed: %s", type(exc).__name__)
            await respond(response_type="ephemeral", replace_original=False, text=SORRY)

    @app.action(WITHDRAW)
    async def on_withdraw(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        caller = caller_of(body)
        exchange_id = _exchange_id((body.get("actions") or [{}])[0].get("value"))
        try:
            if exchange_id is None:
                raise ex.ExchangeError("That button is out of date.")
            gone = await ex.withdraw(ctx.db, exchange_id, caller.user_id, ctx.clock())
            text = (
                f"You have withdrawn from exchange {exchange_id}; your answer is deleted."
                if gone
                else f"You had not taken part in exchange {exchange_id}, so there was nothing to withdraw."
            )
        except ex.ExchangeError as exc:
            text = str(exc)
        except Exception as exc:
            log.error("withdrawing from a JPD exchange failed: %s", type(exc).__name__)
            text = SORRY
        await respond(response_type="ephemeral", replace_original=False, text=text)

    @app.view(FORM_CALLBACK)
    async def on_form(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        caller = caller_of(body)
        exchange_id = _exchange_id(view.get("private_metadata"))
        values = form_values((view.get("state") or {}).get("values") or {})
        errors = {}
        if not values["offers"]:
            errors[OFFERS] = "Choose at least one topic you could offer."
        if not values["wants"]:
            errors[WANTS] = "Choose at least one topic you would like to gain."
        if errors or exchange_id is None:
            await ack(response_action="errors", errors=errors or {OFFERS: "This form is out of date."})
            return
        await ack(response_action="update", view=notice_modal("Saving…", "Saving your answer."))
        choice = ex.Choice(values["offers"], values["wants"], values["note"], values["unit"])
        try:
            new = await ex.answer(ctx.db, exchange_id, caller.user_id, choice, ctx.clock())
            async with ctx.db.session() as session:
                exchange = await ex.find(session, exchange_id)
                assert exchange is not None
                labels = ex.label_of(exchange)
                when = deadline_text(exchange.deadline, exchange.timezone)
            title, said = saved_text(
                new, [esc(labels[t]) for t in choice.offers], [esc(labels[t]) for t in choice.wants], when
            )
            answer = notice_modal(title, said)
        except ex.ExchangeError as exc:
            answer = notice_modal("Not saved", str(exc))
        except Exception as exc:
            log.error("saving a JPD answer failed: %s", type(exc).__name__)
            answer = notice_modal("Not saved", SORRY)
        try:
            await client.views_update(view_id=str(view.get("id") or ""), view=answer)
        except SlackApiError as exc:
            log.warning("views.update failed: %s", exc.response.get("error") if exc.response is not None else "?")
