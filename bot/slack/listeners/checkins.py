"""Strand level descriptors and the trust-behaviour picks form: buttons that open modals, and the form's submit."""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Context
from bot.slack.checkin_blocks import (
    LEVELS_ACTION,
    PICKS_ACTION,
    PICKS_CALLBACK,
    PICKS_SELECT,
    levels_view,
    notice_view,
    picks_block_id,
    picks_confirmation_text,
    picks_view,
)
from storage.models import Round
from surveys.banks import Bank
from surveys.banks.model import PICK_STRONG, PICK_WEAK
from surveys.picks import PickSet, check_picks, picks_of, record_picks

log = logging.getLogger(__name__)

GONE = "This question is no longer available."
NOT_SAVED = ":warning: Sorry, your picks could not be saved just now. Nothing was recorded; please submit them again."


class LevelsRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    bank: str = Field(alias="b", min_length=1, max_length=80)
    item: str = Field(alias="i", min_length=1, max_length=80)


class PicksRef(BaseModel):
    """What the picks button and the form's private_metadata carry: round, bank, channel. Never who."""

    model_config = ConfigDict(frozen=True)

    round_id: int = Field(alias="r", ge=1)
    bank: str = Field(alias="b", min_length=1, max_length=80)
    channel: str = Field(default="", alias="c", max_length=64)


def form_picks(bank: Bank, values: dict[str, Any]) -> dict[str, PickSet]:
    """Read each perspective's picks back from a submitted form's state values."""

    def chosen(block_id: str) -> tuple[str, ...]:
        selected = ((values.get(block_id) or {}).get(PICKS_SELECT) or {}).get("selected_options") or []
        return tuple(str(o.get("value", "")) for o in selected if isinstance(o, dict))

    perspectives = bank.picks.perspectives if bank.picks else []
    return {
        p: PickSet(strong=chosen(picks_block_id(p, PICK_STRONG)), weak=chosen(picks_block_id(p, PICK_WEAK)))
        for p in perspectives
    }


def form_errors(bank: Bank, picks: dict[str, PickSet]) -> dict[str, str]:
    """check_picks' problems placed on the form's input blocks, as response_action "errors" wants."""
    perspectives = bank.picks.perspectives if bank.picks else []
    errors: dict[str, str] = {}
    for (perspective, side), message in check_picks(bank, picks).items():
        if perspective not in perspectives and perspectives:
            perspective, side = perspectives[0], PICK_STRONG
        errors[picks_block_id(perspective, side)] = message[:150]
    return errors


def register(app: AsyncApp, ctx: Context) -> None:
    async def open_view(client: AsyncWebClient, trigger_id: str, view: dict[str, Any]) -> None:
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError:
            # An expired trigger (the click took too long to reach us) cannot be retried.
            ctx.counters.add("forms", "not opened")

    @app.action(re.compile(rf"^{LEVELS_ACTION}:"))
    async def on_levels(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        try:
            ref = LevelsRef.model_validate_json((body.get("actions") or [{}])[0].get("value") or "")
        except ValidationError:
            ref = None
        bank = ctx.banks.get(ref.bank) if ref else None
        item = bank.item(ref.item) if bank and ref else None
        if bank is None or item is None or item.levels is None:
            view = notice_view("Maturity levels", GONE)
        else:
            view = levels_view(bank, item)
        await open_view(client, str(body.get("trigger_id", "")), view)

    @app.action(re.compile(rf"^{PICKS_ACTION}:"))
    async def on_open_picks(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id", ""))
        channel_id = str((body.get("channel") or {}).get("id", ""))
        try:
            ref = PicksRef.model_validate_json((body.get("actions") or [{}])[0].get("value") or "")
        except ValidationError:
            ref = None
        bank = ctx.banks.get(ref.bank) if ref else None
        view = notice_view("Trust behaviours", GONE)
        if ref is not None and bank is not None and bank.picks is not None:
            async with ctx.db.session() as session:
                round_ = await session.get(Round, ref.round_id)
                current = await picks_of(session, ctx.banks, ctx.secret, ref.round_id, bank.id, user_id=user_id)
            if round_ is not None and (round_.closed_at is not None or ctx.clock() >= round_.closes_at):
                view = notice_view("Trust behaviours", "This round has closed. Look out for the next one.")
            elif round_ is not None:
                view = picks_view(ref.round_id, bank, channel_id, current)
        await open_view(client, str(body.get("trigger_id", "")), view)

    @app.view(PICKS_CALLBACK)
    async def on_submit_picks(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        view = body.get("view") or {}
        try:
            ref: PicksRef | None = PicksRef.model_validate_json(view.get("private_metadata") or "")
        except ValidationError:
            ref = None
        bank = ctx.banks.get(ref.bank) if ref else None
        if ref is None or bank is None or bank.picks is None:
            await ack(response_action="update", view=notice_view("Trust behaviours", GONE))
            return
        picks = form_picks(bank, ((view.get("state") or {}).get("values")) or {})
        errors = form_errors(bank, picks)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        # Two quick submissions may be stored in either order: the one made later stands.
        try:
            result = await record_picks(
                ctx.db,
                ctx.banks,
                ctx.secret,
                ref.round_id,
                bank.id,
                picks,
                user_id=user_id,
                channel_id=ref.channel or None,
                now=ctx.clock(),
            )
        except Exception:  # acked already: tell the person rather than fail silently (or log the time)
            ctx.counters.add("picks", "not saved")
            text = NOT_SAVED
        else:
            # Counted, never logged one by one: a line per submission would give each ballot a time.
            ctx.counters.add("picks", result.outcome.value)
            text = picks_confirmation_text(result)
        if ref.channel and user_id:
            try:
                await client.chat_postEphemeral(channel=ref.channel, user=user_id, text=text)
            except SlackApiError:
                ctx.counters.add("picks", "confirmation not delivered")
