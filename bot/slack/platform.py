"""Slack as a ChatPlatform: the domain's sends, done with slack_sdk's AsyncWebClient."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import round_blocks, round_fallback_text, split_messages
from bot.slack.digest_blocks import digest_blocks
from surveys.digest import Digest
from surveys.platform import PlatformError, Recipient, RoundMessage

# Errors that will not go away by trying again.
PERMANENT = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_blocks",
    "msg_too_long",
    "user_not_found",
    "cannot_dm_bot",
    "invalid_auth",
    "not_authed",
    "account_inactive",
}


def make_client(token: str, base_url: str) -> AsyncWebClient:
    """A client pointed at `base_url`, retrying rate limits, 5xx and dropped connections."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def _error(exc: SlackApiError) -> PlatformError:
    code = str(exc.response.get("error", "")) if exc.response is not None else ""
    status = exc.response.status_code if exc.response is not None else 0
    retry_after = None
    if status == 429 and exc.response is not None:
        retry_after = float(exc.response.headers.get("retry-after", exc.response.headers.get("Retry-After", 1)))
    transient = code not in PERMANENT
    return PlatformError(f"slack: {code or status}", transient=transient, retry_after=retry_after)


class SlackPlatform:
    name = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def audience(self, kind: str, ids: Sequence[str]) -> list[Recipient]:
        if kind == "channels":
            return [Recipient(c, c) for c in ids]
        recipients: list[Recipient] = []
        for group in ids:
            users = await self._group_members(group)
            recipients.extend(Recipient(u, group) for u in users)
        return recipients

    async def audience_size(self, kind: str, ids: Sequence[str]) -> int:
        if kind != "channels":
            return len({r.destination for r in await self.audience(kind, ids)})
        total = 0
        for channel in ids:
            cursor = None
            while True:
                try:
                    resp = await self.client.conversations_members(channel=channel, cursor=cursor, limit=1000)
                except SlackApiError:
                    break
                total += len(resp.get("members", []))
                cursor = (resp.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        return total

    async def _group_members(self, group: str) -> list[str]:
        try:
            resp = await self.client.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            raise _error(exc) from None
        return list(resp.get("users", []))

    async def _conversation_for(self, destination: str) -> str:
        if destination[:1] in ("U", "W"):
            resp = await self.client.conversations_open(users=destination)
            return str(resp["channel"]["id"])
        return destination

    async def post_round(self, destination: str, message: RoundMessage) -> str:
        try:
            channel = await self._conversation_for(destination)
            resp = await self.client.chat_postMessage(
                channel=channel,
                text=round_fallback_text(message),
                blocks=round_blocks(message),
                unfurl_links=False,
            )
        except SlackApiError as exc:
            raise _error(exc) from None
        return str(resp["ts"])

    async def post_digest(self, destination: str, digest: Digest) -> None:
        try:
            for blocks in split_messages(digest_blocks(digest)):
                await self.client.chat_postMessage(
                    channel=destination, text=f"Pulse digest: {digest.survey_name}", blocks=blocks
                )
        except SlackApiError as exc:
            raise _error(exc) from None
