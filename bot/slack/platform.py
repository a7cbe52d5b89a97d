"""Slack as a ChatPlatform: the domain's sends, done with slack_sdk's AsyncWebClient.

Round messages (chat.postMessage) are retried in one place only, the outbox (surveys/sending.py):
the client that posts them has no retry handlers, because a handler that re-posts after a 5xx or
a dropped connection would double a message Slack had in fact accepted. This adapter paces its
calls to Slack's published limits (surveys/pacing.py), turns every failure into a PlatformError
that says whether to retry, when, and whether the message may have arrived, and tags each round
message with its delivery id (message metadata) so a lost acknowledgement can be looked up.
Interactive calls (ephemeral confirmations, views, look-ups) keep the Bolt client's handlers.

Direct messages go out with the person's user id as the channel: chat.postMessage then posts in
the app's DM with them and answers with that DM's id, so a DM fan-out is paced by chat.postMessage
alone. conversations.open (Tier 3, about 50 a minute) is called only where a conversation id is
needed and none is known yet: reading a DM's history to recover a delivery after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.slack.blocks import round_blocks, round_fallback_text
from bot.slack.digest_blocks import digest_messages, fallback_text
from bot.slack.reminder_blocks import reminder_blocks, reminder_text
from surveys.digest import Digest
from surveys.pacing import Pacer, Rate, SharedRate
from surveys.platform import PlatformError, Recipient, Reminder, RoundMessage

# Errors that will not go away by trying again. Anything else is retried, within a bounded time.
PERMANENT = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "channel_is_archived",
    "invalid_blocks",
    "invalid_blocks_format",
    "invalid_metadata_format",
    "invalid_metadata_schema",
    "metadata_too_large",
    "msg_too_long",
    "no_text",
    "too_many_attachments",
    "invalid_arguments",
    "user_not_found",
    "user_not_visible",
    "user_disabled",
    "cannot_dm_bot",
    "too_many_users",
    "method_not_supported_for_channel_type",
    "restricted_action",
    "restricted_action_read_only_channel",
}
# The app's own problem (its token, its scopes), not the destination's: everything waits a
# while, so a rotated token can be fixed before any delivery is given up.
APP_WIDE = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
    "missing_scope",
    "not_allowed_token_type",
    "team_access_not_granted",
    "ekm_access_denied",
}
# A message to delete that is not there any more (deleted already, or its DM is gone): done.
GONE = {"message_not_found", "channel_not_found"}
# Slack's words for "something went wrong on our side; some of it may have happened".
MAYBE_DONE = {"internal_error", "fatal_error", "request_timeout", "service_unavailable"}
DELIVERY_EVENT = "pulse_delivery"
log = logging.getLogger(__name__)
ONE_PER_SECOND_PER_CHANNEL = Rate(1.0, 3)
WORKSPACE_DEFAULT = Rate(10.0, 10)
TIER_3 = Rate(50 / 60, 5)
TIER_4 = Rate(100 / 60, 10)


@dataclass(frozen=True)
class SlackBudget:
    """How fast this process calls Slack: its documented limits, configurable (bot/settings.py).

    chat.postMessage: about one message per second per channel with short bursts, plus a
    workspace-wide limit Slack does not publish (set `post_workspace` to what your workspace
    allows; with several sending processes, share it out between them). conversations.open and
    conversations.history are Tier 3: 50+ per minute, sporadic bursts welcome; both are only used
    to look for a delivery that may have arrived, never to send.
    """

    post_per_channel: Rate = ONE_PER_SECOND_PER_CHANNEL
    post_workspace: Rate = WORKSPACE_DEFAULT
    tier3: Rate = TIER_3
    # Seconds before a request counts as timed out (and so "may have arrived").
    timeout: float = 10.0
    # How many recent messages of a conversation are searched for an earlier post of a delivery.
    history_scan: int = 1000
    # Connections kept open to Slack during a fan-out.
    connections: int = 64
    # Seconds every call waits after the token or its scopes were refused (someone fixes them).
    app_wide_pause: float = 60.0


def make_client(token: str | None, base_url: str) -> AsyncWebClient:
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


def under(rate: Rate) -> Rate:
    """Just under a limit: at the limit exactly, network jitter alone would push calls over it."""
    return Rate(rate.per_second * 0.99, rate.burst)


def _retry_after(headers: Any) -> float:
    try:
        return max(0.0, float(headers.get("Retry-After") or headers.get("retry-after") or 1))
    except (TypeError, ValueError, AttributeError):
        return 1.0


def _code(exc: SlackApiError) -> str:
    response = exc.response
    if isinstance(response, AsyncSlackResponse) and isinstance(response.data, dict):
        return str(response.data.get("error", ""))
    return ""


def _error(exc: SlackApiError, *, posting: bool = False, app_wide_pause: float = 60.0) -> PlatformError:
    """What a failed call means for the outbox. `posting`: the call would have posted a message."""
    response = exc.response
    # A non-JSON answer (a proxy's error page) comes with aiohttp's response, not Slack's.
    status = int(getattr(response, "status_code", None) or getattr(response, "status", 0) or 0)
    code = _code(exc)
    headers = getattr(response, "headers", None) or {}
    if status == 429 or code in ("ratelimited", "rate_limited"):
        return PlatformError(f"slack: {code or status}", transient=True, retry_after=_retry_after(headers))
    if code in APP_WIDE:
        return PlatformError(f"slack: {code}", transient=True, retry_after=app_wide_pause)
    maybe = posting and (status >= 500 or code in MAYBE_DONE)
    transient = status >= 500 or code not in PERMANENT
    return PlatformError(f"slack: {code or status}", transient=transient, maybe_delivered=maybe)


def _transport_error(exc: BaseException, *, posting: bool) -> PlatformError:
    # Failing to connect means nothing was sent; a timeout or a dropped connection may not.
    never_sent = isinstance(exc, aiohttp.ClientConnectorError)
    name = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
    return PlatformError(f"slack: {name}", transient=True, maybe_delivered=posting and not never_sent)


def _is_user(destination: str) -> bool:
    return destination[:1] in ("U", "W")


def _send_client(client: AsyncWebClient, timeout: float) -> AsyncWebClient:
    """The Bolt client's identity and address, without retry handlers: the outbox retries."""
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=timeout,  # type: ignore[arg-type]
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        retry_handlers=[],
    )


class SlackPlatform:
    name = "slack"

    def __init__(
        self, client: AsyncWebClient, *, budget: SlackBudget | None = None, shared_posts: SharedRate | None = None
    ) -> None:
        self.client = client
        self.budget = budget or SlackBudget()
        # The workspace's posting budget, shared with every other sending process (PostgreSQL).
        self.shared_posts = shared_posts
        self._sender = _send_client(client, self.budget.timeout)
        # One pacer per rate-limited method, shared by every sender in this process.
        self._posts = Pacer(per_key=self.budget.post_per_channel, shared=under(self.budget.post_workspace))
        self._opens = Pacer(shared=self.budget.tier3)
        self._history = Pacer(shared=self.budget.tier3)
        self._ephemerals = Pacer(shared=TIER_4)
        self._deletes = Pacer(shared=self.budget.tier3)
        # A person's DM with the bot never changes its id: learnt from each post to a user id, so a
        # look-up in its history rarely needs conversations.open.
        self._dms: dict[str, str] = {}
        self._session: aiohttp.ClientSession | None = None
        self._in_flight = 0
        self._bot_user: str | None = None

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
                except (TimeoutError, aiohttp.ClientError) as exc:
                    raise _transport_error(exc, posting=False) from None
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
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _transport_error(exc, posting=False) from None
        return list(resp.get("users", []))

    @contextlib.asynccontextmanager
    async def _connected(self) -> AsyncIterator[None]:
        """Share one connection pool among the calls under way (waiting their turn included).

        A fan-out keeps dozens of calls going, so its thousands of messages reuse a few dozen
        connections instead of opening one each; the session is closed as soon as nothing is under
        way, so no process leaves it behind. In `pulse serve` the connections are the server's own
        pool, which the Bolt client carries (bot/server.py), with this adapter's timeout; elsewhere
        (the CLI) the pool is this adapter's and goes with the session.
        """
        if self._session is None:
            shared = self.client.session
            connector = shared.connector if shared is not None and not shared.closed else None
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.budget.timeout),
                connector=connector or aiohttp.TCPConnector(limit=self.budget.connections),
                connector_owner=connector is None,
            )
            self._sender.session = self._session
        session = self._session
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0 and self._session is session:
                self._session = self._sender.session = None
                await session.close()

    async def _call(
        self, pacer: Pacer, key: str | None, call: Callable[[], Awaitable[AsyncSlackResponse]], *, posting: bool
    ) -> AsyncSlackResponse:
        """One paced call: a 429 closes its key for exactly Retry-After; errors become PlatformErrors."""
        async with self._connected():
            try:
                await pacer.acquire(key)
                if pacer is self._posts and self.shared_posts is not None:
                    await self.shared_posts.acquire()
                return await call()
            except SlackApiError as exc:
                error = _error(exc, posting=posting, app_wide_pause=self.budget.app_wide_pause)
                if error.retry_after is not None:
                    app_wide = _code(exc) in APP_WIDE
                    # A token or scope problem stops every call, not just this key's. A call turned
                    # away was not counted by Slack either, so its workspace slot is not spent.
                    pacer.hold(None if app_wide else key, error.retry_after)
                    if not app_wide:
                        pacer.refund()
                raise error from None
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise _transport_error(exc, posting=posting) from None

    def _learn_dm(self, destination: str, channel: str) -> None:
        """Remember the DM a user id stands for (a post to the user id answers with it)."""
        if _is_user(destination) and channel.startswith("D") and self._dms.get(destination) != channel:
            if len(self._dms) >= 200_000:
                self._dms.clear()
            self._dms[destination] = channel

    async def _conversation_for(self, destination: str) -> str:
        """The conversation whose history holds a destination's messages: a channel as it is, and
        for a user id the DM learnt from an earlier post, or else opened (Tier 3) once per process.

        Only recovery needs this: after a restart nothing is remembered, so the look-ups for the
        few dozen deliveries a crash can leave in flight open their DMs, paced at Tier 3.
        """
        if not _is_user(destination):
            return destination
        channel = self._dms.get(destination)
        if channel is None:
            resp = await self._call(
                self._opens, None, lambda: self._sender.conversations_open(users=destination), posting=False
            )
            channel = str(resp["channel"]["id"])
            self._learn_dm(destination, channel)
        return channel

    async def post_round(self, destination: str, message: RoundMessage, *, delivery_id: int | None = None) -> str:
        """Post to a channel, or to a person's DM by their user id (no conversations.open needed)."""
        metadata = (
            {"event_type": DELIVERY_EVENT, "event_payload": {"delivery": delivery_id}}
            if delivery_id is not None
            else None
        )
        # Paced per destination: a person's DM is one conversation whichever id names it.
        resp = await self._call(
            self._posts,
            destination,
            lambda: self._sender.chat_postMessage(
                channel=destination,
                text=round_fallback_text(message),
                blocks=round_blocks(message),
                metadata=metadata,
                unfurl_links=False,
            ),
            posting=True,
        )
        self._learn_dm(destination, str(resp.get("channel") or ""))
        return str(resp["ts"])

    async def find_delivery(self, destination: str, delivery_id: int) -> str | None:
        """Look through the conversation's recent history for a message tagged with this delivery."""
        channel = await self._conversation_for(destination)
        cursor: str | None = None
        seen = 0
        while seen < self.budget.history_scan:
            page = min(200, self.budget.history_scan - seen)
            resp = await self._call(
                self._history,
                None,
                lambda page=page, cursor=cursor: self._sender.conversations_history(  # type: ignore[misc]
                    channel=channel, include_all_metadata=True, limit=page, cursor=cursor
                ),
                posting=False,
            )
            messages: list[dict[str, Any]] = resp.get("messages") or []
            for m in messages:
                meta = m.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == DELIVERY_EVENT and str(payload.get("delivery")) == str(delivery_id):
                    return str(m["ts"])
            seen += len(messages)
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not messages or not cursor:
                break
        return None

    async def post_digest(self, destination: str, digest: Digest) -> None:
        """The digest as one or more messages, then its trend chart uploaded to the same channel."""
        try:
            for blocks in digest_messages(digest):
                await self.client.chat_postMessage(channel=destination, text=fallback_text(digest), blocks=blocks)
        except SlackApiError as exc:
            raise _error(exc) from None
        await self._post_chart(destination, digest)

    async def _post_chart(self, destination: str, digest: Digest) -> None:
        """The chart goes with the digest; the figures stand without it, so a failed upload is logged, not raised
        (raising would leave a posted digest looking unposted)."""
        # Imported here: matplotlib is heavy and only the digest needs it.
        from bot.charts import chart_alt_text, trend_chart

        try:
            png = await asyncio.to_thread(trend_chart, digest)
            if png is None:
                return
            await self.client.files_upload_v2(
                channel=destination,
                file=png,
                filename=f"pulse-digest-{digest.survey}-{digest.generated_at:%Y-%m-%d}.png",
                title=f"Trends: {digest.survey_name}"[:250],
                alt_txt=chart_alt_text(digest),
            )
        except SlackApiError as exc:
            log.warning("survey %s: the digest chart was not uploaded: %s", digest.survey, _error(exc))
        except Exception:
            log.exception("survey %s: the digest chart could not be drawn or uploaded", digest.survey)

    async def _own_user_id(self) -> str:
        if self._bot_user is None:
            resp = await self.client.auth_test()
            self._bot_user = str(resp.get("user_id") or "")
        return self._bot_user

    async def channel_members(self, channel: str) -> list[str]:
        try:
            own = await self._own_user_id()
            members: list[str] = []
            cursor = None
            while True:
                resp = await self.client.conversations_members(channel=channel, cursor=cursor, limit=1000)
                page: list[object] = list(resp.get("members") or [])
                members.extend(str(m) for m in page)
                cursor = (resp.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError as exc:
            raise _error(exc) from None
        return [m for m in members if m != own]

    async def remind(self, user: str, channel: str | None, reminder: Reminder) -> str | None:
        """Paced like round messages; a 429 or a failure comes back as a PlatformError to retry."""
        text, blocks = reminder_text(reminder), reminder_blocks(reminder)
        if channel is None:
            # By DM, addressed by user id like a round message (and paced with them). It stays in
            # the DM, so where it is goes back to be deleted when the round closes.
            resp = await self._call(
                self._posts,
                user,
                lambda: self._sender.chat_postMessage(channel=user, text=text, blocks=blocks, unfurl_links=False),
                posting=False,
            )
            dm = str(resp.get("channel") or "")
            self._learn_dm(user, dm)
            return f"{dm} {resp.get('ts')}"
        # Ephemeral: only this person sees it, and Slack keeps no copy in the channel.
        await self._call(
            self._ephemerals,
            None,
            lambda: self._sender.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks),
            posting=False,
        )
        return None

    async def withdraw(self, survey_id: int, ref: str) -> None:
        channel, ts = ref.split(" ", 1)
        try:
            await self._call(
                self._deletes, None, lambda: self._sender.chat_delete(channel=channel, ts=ts), posting=False
            )
        except PlatformError as exc:
            if str(exc).removeprefix("slack: ") not in GONE:
                raise
