"""The /pulse slash command."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.context import Context

HELP = """*Pulse Audit* — anonymous trust audits
`/pulse help` — this list
`/pulse surveys` — the surveys in this workspace and their state"""


def register(app: AsyncApp, ctx: Context) -> None:
    @app.command("/pulse")
    async def on_pulse(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await respond(response_type="ephemeral", text=HELP)
