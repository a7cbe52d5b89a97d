"""The Agents SDK application for Teams, mounted on the product's aiohttp app at POST /api/messages."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web
from microsoft_agents.activity import Activity, ActivityTypes, ConversationParameters, ConversationReference
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_decorator, start_agent_process
from microsoft_agents.hosting.core import (
    AgentApplication,
    MemoryStorage,
    TurnContext,
    TurnState,
)
from pydantic import ValidationError

from bot.context import Context
from bot.teams.auth import TeamsAuth, teams_auth

if TYPE_CHECKING:
    from bot.teams.platform import TeamsPlatform

log = logging.getLogger(__name__)
# The SDK keys aiohttp's request and app storage by plain strings, which aiohttp now warns about.
warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module=r"microsoft_agents\.")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ROUTE = "/api/messages"
SORRY = "Sorry, something went wrong and nothing more was done. Please try again in a minute."
# The SDK's decorator reads the auth configuration from this plain-string app key.
AUTH_CONFIG_KEY = "agent_configuration"
# Whom the bot's tokens are for when it opens a chat: the Bot Framework service.
BOT_FRAMEWORK_AUDIENCE = "https://api.botframework.com"


async def _reraise(_context: TurnContext, error: Exception) -> None:
    # The SDK's default posts "Exception caught : <error>" into the chat; a send that failed must
    # reach our caller (the outbox retries it) and nothing internal may reach a person.
    raise error


class TeamsBot:
    """One per process: the SDK application, its adapter, and the way to speak first."""

    def __init__(self, ctx: Context, auth: TeamsAuth | None = None) -> None:
        from bot.teams.listeners import answers, commands, installs, jpd, picks

        self.ctx = ctx
        self.auth = auth or teams_auth(ctx.settings)
        # Set by TeamsPlatform: listeners use it for rosters and private replies.
        self.platform: TeamsPlatform | None = None
        self.adapter = CloudAdapter(connection_manager=self.auth.connections, host_validator=self.auth.host_validator)
        self.adapter.on_turn_error = _reraise
        self.app = AgentApplication[TurnState](
            storage=MemoryStorage(),
            connection_manager=self.auth.connections,
            # The typing indicator would be one more call to Teams per turn, for replies that are instant.
            start_typing_timer=False,
        )

        @self.app.error
        async def on_error(context: TurnContext, error: Exception) -> None:
            # The activity may say who clicked what: the error's type only.
            log.error("teams turn failed: %s", type(error).__name__)
            if context.activity.type == ActivityTypes.message:
                with contextlib.suppress(Exception):
                    await context.send_activity(SORRY)

        installs.register(self)
        answers.register(self)
        picks.register(self)
        jpd.register(self)
        commands.register(self)

    @property
    def app_id(self) -> str:
        return self.auth.app_id

    def mount(self, web_app: web.Application) -> None:
        """POST /api/messages, with the SDK's JWT check on this route only (Slack's has its own)."""

        async def handle(request: web.Request) -> web.StreamResponse:
            try:
                response = await start_agent_process(request, self.app, self.adapter)
            except ValidationError:
                return web.json_response({"error": "not a Bot Framework activity"}, status=400)
            except Exception as exc:
                log.error("teams request failed: %s", type(exc).__name__)
                return web.json_response({"error": "internal error"}, status=500)
            return response if response is not None else web.Response(status=202)

        # The SDK's decorator is untyped; it returns a handler of the same shape.
        authorize = cast(Callable[[Handler], Handler], jwt_authorization_decorator)
        api_messages = authorize(handle)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", web.NotAppKeyWarning)
            web_app[AUTH_CONFIG_KEY] = self.auth.config
        web_app.router.add_post(ROUTE, api_messages)

    async def continue_in(self, reference: dict[str, Any], callback: Callable[[TurnContext], Awaitable[None]]) -> None:
        """Run `callback` in a stored conversation, with a connector client for its serviceUrl."""
        continuation = ConversationReference.model_validate(reference).get_continuation_activity()
        # Otherwise every send becomes a reply to a random id, not a new message.
        continuation.id = None
        await self.adapter.continue_conversation(self.app_id, continuation, callback)

    async def create_personal(
        self, service_url: str, parameters: ConversationParameters, activity: Activity
    ) -> tuple[str, str]:
        """Open (or reopen: Teams returns the existing one) a 1:1 chat and post `activity` in it;
        returns the chat's id and the posted activity's."""
        posted: list[tuple[str, str]] = []

        async def send(context: TurnContext) -> None:
            # The context's activity is the new chat's first event; posting must not reply to it.
            context.activity.id = None
            response = await context.send_activity(activity)
            posted.append((str(context.activity.conversation.id), str(getattr(response, "id", "") or "")))

        await self.adapter.create_conversation(
            self.app_id, "msteams", service_url, BOT_FRAMEWORK_AUDIENCE, parameters, send
        )
        return posted[0] if posted else ("", "")

    async def delete_in(self, service_url: str, conversation_id: str, activity_id: str) -> None:
        """Delete an activity the bot posted in a conversation it has no stored reference for."""
        reference = {
            "channelId": "msteams",
            "serviceUrl": service_url,
            "conversation": {"id": conversation_id},
            "bot": {"id": f"28:{self.app_id}"},
        }

        async def delete(context: TurnContext) -> None:
            await context.delete_activity(activity_id)

        await self.continue_in(reference, delete)
