"""The JPD exchange's messages in Slack: the invitation in a channel, a group DM per group
(conversations.open with every member, which needs the mpim:write scope), a DM to each person
left out, the coordinator's summary by DM, and the partnership's result in its leaders' channel.

Errors come back as PlatformError, as the surveys' sends do, so the notices' outbox retries them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import jpd_blocks as blocks
from bot.slack.platform import _error, _transport_error
from surveys.jpd.notices import Introduction, Invitation, LeftOut, Partnership, reach_each
from surveys.jpd.summary import Summary
from surveys.platform import PlatformError

T = TypeVar("T")


class SlackExchange:
    name = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def _call(self, call: Callable[[], Awaitable[T]], *, posting: bool = True) -> T:
        try:
            return await call()
        except SlackApiError as exc:
            raise _error(exc, posting=posting) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _transport_error(exc, posting=posting) from None

    async def _post(self, channel: str, text: str, message: list[dict[str, Any]]) -> str:
        resp = await self._call(
            lambda: self.client.chat_postMessage(channel=channel, text=text, blocks=message, unfurl_links=False)
        )
        return f"{resp.get('channel') or channel} {resp['ts']}"

    async def post_invitation(self, channel: str, invitation: Invitation) -> str:
        return await self._post(channel, blocks.invitation_text(invitation), blocks.invitation_blocks(invitation))

    async def close_invitation(self, channel: str, ref: str, invitation: Invitation) -> None:
        where, _, ts = ref.partition(" ")
        await self._call(
            lambda: self.client.chat_update(
                channel=where or channel,
                ts=ts,
                text=blocks.invitation_text(invitation),
                blocks=blocks.invitation_blocks(invitation),
            ),
            posting=False,
        )

    async def introduce(self, intro: Introduction) -> None:
        text, message = blocks.introduction_text(intro), blocks.introduction_blocks(intro)
        try:
            opened = await self._call(
                lambda: self.client.conversations_open(users=",".join(intro.members)), posting=False
            )
        except PlatformError as exc:
            if exc.transient:
                raise
            # One member cannot be reached (deactivated, or gone): the others still hear of the
            # group, each in their own DM, rather than nobody at all.
            await reach_each(intro.members, lambda person: self._post(person, text, message), self.name)
            return
        await self._post(str(opened["channel"]["id"]), text, message)

    async def tell_left_out(self, person: str, left: LeftOut) -> None:
        text = blocks.left_out_text(left)
        await self._post(person, text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}])

    async def send_summary(self, to: str, summary: Summary) -> None:
        await self._post(to, f"JPD exchange {summary.exchange_id}: the summary", blocks.summary_blocks(summary))

    async def post_partnership(self, channel: str, partnership: Partnership) -> None:
        await self._post(
            channel,
            f"JPD exchange {partnership.exchange_id} between schools: the groups",
            blocks.partnership_blocks(partnership),
        )
