"""Teams as a ChatPlatform: proactive sends into conversations whose references were stored at install.

Destinations and segments are conversation keys (see ids.py); each send looks the stored
reference up, continues that conversation through the Agents SDK, and posts an Adaptive Card.
Calls are paced within Teams' published limits and 429s are retried in place (see throttle.py).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from microsoft_agents.activity import Activity, ChannelAccount, ConversationParameters
from microsoft_agents.hosting.core import ConnectorClientBase, TurnContext

from bot.teams import cards
from bot.teams.app import TeamsBot
from bot.teams.images import fit_png
from bot.teams.messages import card_message
from bot.teams.references import gone, installed
from bot.teams.throttle import Throttle
from storage.models import TeamsConversation
from surveys.digest import Digest
from surveys.platform import PlatformError, Recipient, Reminder, RoundMessage

log = logging.getLogger(__name__)

Chart = Callable[[Digest], bytes | None]
# Teams' largest roster page.
PAGE_SIZE = 500


def default_chart() -> Chart:
    """The digest's trend chart, as the product draws it for every platform."""
    from bot.charts import trend_chart

    return trend_chart


def _alt_text(digest: Digest) -> str:
    from bot.charts import chart_alt_text

    return chart_alt_text(digest)


class TeamsPlatform:
    name = "teams"

    def __init__(self, bot: TeamsBot, *, chart: Chart | None = None, throttle: Throttle | None = None) -> None:
        self.bot = bot
        bot.platform = self
        self.db = bot.ctx.db
        self.chart = chart
        self.throttle = throttle or Throttle()
        # Entra object id -> Teams user id, learnt from rosters, for reaching people by DM.
        self._user_ids: dict[str, str] = {}

    # -- where things go ---------------------------------------------------------------
    async def _conversation(self, key: str) -> TeamsConversation:
        row = await installed(self.db, key)
        if row is None:
            raise PlatformError(f"teams: Pulse Audit is not installed in conversation {key}", transient=False)
        return row

    async def _in(
        self, row: TeamsConversation, work: Callable[[TurnContext], Awaitable[Any]], *, repeatable: bool = False
    ) -> Any:
        """Run `work` inside the stored conversation, paced and retried."""
        out: list[Any] = []

        async def callback(context: TurnContext) -> None:
            out.append(await work(context))

        try:
            await self.throttle.call(
                row.key, lambda: self.bot.continue_in(row.reference, callback), repeatable=repeatable
            )
        except PlatformError as exc:
            if exc.gone:
                # The app was removed without our hearing of it: stop sending there, and say so once.
                await gone(self.db, row.key, self.bot.ctx.clock())
                log.warning("teams: conversation %s refused the app (403); no longer sent to", row.key)
            raise
        return out[0] if out else None

    async def _send(self, key: str, activity: Activity, *, repeatable: bool = False) -> str:
        row = await self._conversation(key)
        content = activity.attachments[0].content if activity.attachments else None
        size = cards.message_bytes(content) if isinstance(content, dict) else 0
        if size > cards.MAX_MESSAGE_BYTES:
            raise PlatformError(f"teams: the card is {size} bytes, over Teams' limit", transient=False)

        async def post(context: TurnContext) -> str:
            response = await context.send_activity(activity)
            return str(getattr(response, "id", "") or "")

        return str(await self._in(row, post, repeatable=repeatable) or "")

    # -- ChatPlatform ------------------------------------------------------------------
    async def audience(self, kind: str, ids: Sequence[str]) -> list[Recipient]:
        if kind != "channels":
            raise PlatformError(
                "teams: audiences by user group are not supported; name the team's channels instead", transient=False
            )
        return [Recipient(key, key) for key in ids]

    async def audience_size(self, kind: str, ids: Sequence[str]) -> int:
        total = 0
        for key in ids:
            try:
                total += len(await self._people(key))
            except PlatformError as exc:
                log.warning("teams: could not count the people in %s: %s", key, exc)
        return total

    async def post_round(self, destination: str, message: RoundMessage, *, delivery_id: int | None = None) -> str:
        return await self._send(destination, card_message(cards.round_card(message), cards.round_summary(message)))

    async def find_delivery(self, destination: str, delivery_id: int) -> str | None:
        """Teams lets a bot post but not read a conversation back, so an earlier attempt cannot be
        looked up: say "not found" and let it be posted again. A second copy of a round's card
        cannot count anyone twice: answers are keyed per person, round and item, so the second
        click on either copy replaces the first."""
        return None

    async def post_digest(self, destination: str, digest: Digest) -> None:
        content = cards.fitting_digest_card(digest)
        # Drawing is CPU work: off the event loop, like the Slack adapter's upload.
        png = await asyncio.to_thread(self.chart, digest) if self.chart is not None else None
        if png:
            # The chart travels inside the card (Teams cannot fetch images from a private server),
            # in whatever room the figures leave under the message limit; they come first.
            room = cards.MAX_MESSAGE_BYTES - cards.message_bytes(content) - 300
            fitted = await asyncio.to_thread(fit_png, png, room * 3 // 4)
            if fitted is not None:
                url = "data:image/png;base64," + base64.b64encode(fitted).decode()
                charted = cards.with_chart(content, url, alt=_alt_text(digest))
                if cards.message_bytes(charted) <= cards.MAX_MESSAGE_BYTES:
                    content = charted
        # Digests do not go through the outbox: retry 5xx here, a second copy beats none.
        await self._send(destination, card_message(content, f"Pulse digest: {digest.survey_name}"), repeatable=True)

    async def channel_members(self, channel: str) -> list[str]:
        return [person for person, _user_id in await self._people(channel)]

    async def remind(self, user: str, channel: str | None, reminder: Reminder) -> str | None:
        """In a 1:1 chat: Teams has no message that only one person sees inside a channel, so it
        stays there until the round closes and `withdraw` deletes it.

        `user` is the id answers are keyed by (the Entra object id); the roster fetched by
        `channel_members` just before says which Teams user id reaches that person.
        """
        if channel is None:
            raise PlatformError("teams: reminders go to channel audiences only", transient=False)
        home = await self._conversation(channel)
        user_id = self._user_ids.get(user, user)
        content = cards.reminder_card(reminder, where=home.name)
        # A second copy of a reminder does no harm, so a 5xx is worth one more go.
        chat, posted = await self._personal(home, user_id, card_message(content, cards.reminder_summary(reminder)))
        return f"{home.key} {chat} {posted}"

    async def _personal(self, home: TeamsConversation, user_id: str, activity: Activity) -> tuple[str, str]:
        """Post in the 1:1 chat with a Teams user of `home`'s tenant; (chat id, message id)."""
        parameters = ConversationParameters(
            is_group=False,
            agent=ChannelAccount(id=f"28:{self.bot.app_id}"),
            members=[ChannelAccount(id=user_id)],
            tenant_id=home.tenant_id,
            channel_data={"tenant": {"id": home.tenant_id}} if home.tenant_id else None,
        )
        chat, posted = await self.throttle.call(
            f"dm:{user_id}",
            lambda: self.bot.create_personal(home.service_url, parameters, activity),
            repeatable=True,
        )
        return str(chat), str(posted)

    async def send_to_person(self, home_key: str, person: str, activity: Activity) -> None:
        """Message one person of a conversation's roster privately, by their stable id."""
        home = await self._conversation(home_key)
        if person not in self._user_ids:
            await self._people(home_key)
        user_id = self._user_ids.get(person)
        if user_id is None:
            raise PlatformError(f"teams: that person is no longer in conversation {home_key}", transient=False)
        await self._personal(home, user_id, activity)

    async def post_card(self, key: str, activity: Activity) -> str:
        """Post a card into a conversation where the app is installed; the message's id."""
        return await self._send(key, activity)

    async def update_card(self, key: str, message_id: str, activity: Activity) -> None:
        """Replace a card the app posted earlier in that conversation."""
        row = await self._conversation(key)
        activity.id = message_id

        async def update(context: TurnContext) -> None:
            await context.update_activity(activity)

        await self._in(row, update, repeatable=True)

    async def withdraw(self, survey_id: int, ref: str) -> None:
        home_key, chat, posted = ref.split(" ", 2)
        home = await installed(self.db, home_key)
        if home is None:
            return  # The app was removed from that team: Teams has taken its chats away with it.
        try:
            await self.throttle.call(
                f"dm:{chat}", lambda: self.bot.delete_in(home.service_url, chat, posted), repeatable=True
            )
        except PlatformError as exc:
            if not exc.transient:
                return  # Not found, or no longer allowed: nothing left that the app can delete.
            raise

    async def send_privately(self, asked_in: Any, message: Activity) -> None:
        """Post `message` in a 1:1 chat with whoever sent the activity `asked_in`."""
        tenant = asked_in.conversation.tenant_id
        parameters = ConversationParameters(
            is_group=False,
            agent=ChannelAccount(id=f"28:{self.bot.app_id}"),
            members=[ChannelAccount(id=asked_in.from_property.id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        await self.throttle.call(
            f"dm:{asked_in.from_property.id}",
            lambda: self.bot.create_personal(str(asked_in.service_url), parameters, message),
            repeatable=True,
        )

    # -- rosters ---------------------------------------------------------------------------
    async def _people(self, key: str) -> list[tuple[str, str]]:
        """(stable person id, Teams user id) for everyone who can answer in a conversation."""
        row = await self._conversation(key)
        if row.kind == "personal":
            user = row.reference.get("user") or {}
            return [(str(user.get("aadObjectId") or user.get("id")), str(user.get("id")))]
        roster_id = row.team_id or row.conversation_id

        async def fetch(context: TurnContext) -> list[tuple[str, str]]:
            client = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
            if client is None:
                raise PlatformError("teams: no connector client for this conversation", transient=True)
            people: list[tuple[str, str]] = []
            token: str | None = None
            while True:
                page = await client.conversations.get_conversation_paged_members(
                    roster_id, page_size=PAGE_SIZE, continuation_token=token
                )
                for member in page.members:
                    extra = member.model_extra or {}
                    aad = member.aad_object_id or extra.get("aadObjectId") or member.id
                    people.append((str(aad), str(member.id)))
                token = page.continuation_token
                if not token:
                    return people

        people: list[tuple[str, str]] = await self._in(row, fetch, repeatable=True)
        self._user_ids.update(people)
        return people
