"""Multi-workspace installs: Bolt's OAuth flow, and sending with each workspace's own bot token.

With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set, each school's IT lead installs the app from
/slack/install; slack_sdk's SQLAlchemy stores keep the installations and the OAuth states in the
product's own database (their tables come from migration 0002, not from create_tables()). Bolt
then picks the right token for every request from Slack.

The scheduler and the CLI send without a request to take a token from, so InstalledWorkspaces
routes each send to the workspace that owns the survey: through the survey id a round message
or digest carries, or, for calls that only name a channel, user group or delivery, through the
survey that names it. Without OAuth, one SlackPlatform on SLACK_BOT_TOKEN does everything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import select

from bot.settings import Settings
from bot.slack.platform import SlackBudget, SlackPlatform, make_client, under
from storage.db import Database
from storage.models import Delivery, Round, Survey
from surveys.digest import Digest
from surveys.pacing import SharedRate
from surveys.platform import ChatPlatform, PlatformError, Recipient, RoundMessage

log = logging.getLogger(__name__)

# Exactly what the code calls for (tests/bot/slack/test_manifest.py derives it from the code and
# checks slack/manifest*.yaml and this list agree).
BOT_SCOPES = (
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:write",
    "mpim:write",
    "usergroups:read",
    "users:read",
)
STATE_SECONDS = 600


def installation_store(settings: Settings, db: Database) -> AsyncSQLAlchemyInstallationStore:
    return AsyncSQLAlchemyInstallationStore(client_id=settings.slack_client_id or "", engine=db.engine)


def oauth_settings(settings: Settings, db: Database) -> AsyncOAuthSettings:
    secret = settings.slack_client_secret.get_secret_value() if settings.slack_client_secret else ""
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=secret,
        scopes=list(BOT_SCOPES),
        redirect_uri=settings.slack_redirect_uri,
        installation_store=installation_store(settings, db),
        state_store=AsyncSQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=db.engine),
    )


def add_oauth_routes(web_app: web.Application, slack_app: AsyncApp) -> None:
    """GET /slack/install (the "Add to Slack" page) and GET /slack/oauth_redirect, when OAuth is on."""
    flow = slack_app.oauth_flow
    if flow is None:
        return

    async def install(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

    async def callback(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    web_app.router.add_get(flow.install_path, install)
    web_app.router.add_get(flow.redirect_uri_path, callback)


class NotInstalled(PlatformError):
    def __init__(self, what: str) -> None:
        super().__init__(f"slack: the app is not installed for {what}", transient=False)


class InstalledWorkspaces:
    """A ChatPlatform over every installed workspace: one SlackPlatform per workspace's bot token."""

    name = "slack"

    def __init__(
        self, db: Database, store: AsyncSQLAlchemyInstallationStore, base_url: str, budget: SlackBudget | None = None
    ) -> None:
        self.db = db
        self.store = store
        self.base_url = base_url
        self.budget = budget
        self._platforms: dict[str, tuple[str, SlackPlatform]] = {}

    async def _enterprise_of(self, workspace_id: str) -> str | None:
        """The Enterprise Grid org a workspace was installed in (None outside Grid).

        The installation store keys a bot on (enterprise, workspace); a survey knows only its
        workspace, and a workspace belongs to one org, so the store's own rows say which.
        """
        bots = self.store.bots
        async with self.store.engine.connect() as conn:
            return await conn.scalar(
                select(bots.c.enterprise_id)
                .where(bots.c.client_id == self.store.client_id, bots.c.team_id == workspace_id)
                .order_by(bots.c.installed_at.desc())
                .limit(1)
            )

    async def for_workspace(self, workspace_id: str | None) -> SlackPlatform:
        if not workspace_id:
            raise NotInstalled("a survey without a workspace (create it with /pulse new)")
        enterprise = await self._enterprise_of(workspace_id)
        bot = await self.store.async_find_bot(enterprise_id=enterprise, team_id=workspace_id)
        if bot is None or not bot.bot_token:
            raise NotInstalled(f"workspace {workspace_id}")
        cached = self._platforms.get(workspace_id)
        if cached is None or cached[0] != bot.bot_token:
            # First use, or the workspace reinstalled the app and got a new token.
            client = make_client(bot.bot_token, self.base_url)
            cached = (bot.bot_token, SlackPlatform(client, budget=self.budget, shared_posts=self._shared(workspace_id)))
            self._platforms[workspace_id] = cached
        return cached[1]

    def _shared(self, workspace_id: str) -> SharedRate | None:
        return shared_posts(self.db, self.budget or SlackBudget(), workspace_id)

    async def _survey_workspace(self, survey_id: int) -> str | None:
        async with self.db.session() as session:
            survey = await session.get(Survey, survey_id)
            return survey.workspace_id if survey is not None else None

    async def _named_by(self, target: str) -> SlackPlatform:
        """The workspace of the survey whose audience or digest channel is `target`."""
        async with self.db.session() as session:
            surveys = (await session.scalars(select(Survey).order_by(Survey.id))).all()
        for s in surveys:
            if s.workspace_id and (target == s.digest_channel or target in (s.audience or [])):
                return await self.for_workspace(s.workspace_id)
        raise NotInstalled(f"{target}, which no survey of an installed workspace names")

    async def audience(self, kind: str, ids: Sequence[str]) -> list[Recipient]:
        return await (await self._named_by(ids[0])).audience(kind, ids) if ids else []

    async def audience_size(self, kind: str, ids: Sequence[str]) -> int:
        return await (await self._named_by(ids[0])).audience_size(kind, ids) if ids else 0

    async def post_round(self, destination: str, message: RoundMessage, **kwargs: Any) -> str:
        platform = await self.for_workspace(await self._survey_workspace(message.survey_id))
        return await platform.post_round(destination, message, **kwargs)

    async def find_delivery(self, destination: str, delivery_id: int) -> str | None:
        async with self.db.session() as session:
            survey_id = await session.scalar(
                select(Round.survey_id).join(Delivery, Delivery.round_id == Round.id).where(Delivery.id == delivery_id)
            )
        workspace = await self._survey_workspace(survey_id) if survey_id is not None else None
        return await (await self.for_workspace(workspace)).find_delivery(destination, delivery_id)

    async def post_digest(self, destination: str, digest: Digest, **kwargs: Any) -> Any:
        platform = await self.for_workspace(await self._survey_workspace(digest.survey))
        return await platform.post_digest(destination, digest, **kwargs)

    async def channel_members(self, channel: str) -> list[str]:
        return await (await self._named_by(channel)).channel_members(channel)

    async def remind(self, user: str, channel: str | None, reminder: Any) -> str | None:
        platform = await self.for_workspace(await self._survey_workspace(reminder.round.survey_id))
        return await platform.remind(user, channel, reminder)

    async def withdraw(self, survey_id: int, ref: str) -> None:
        await (await self.for_workspace(await self._survey_workspace(survey_id))).withdraw(survey_id, ref)


def shared_posts(db: Database, budget: SlackBudget, workspace: str) -> SharedRate | None:
    """The workspace's posting budget in the database, for every sending process to share; on
    SQLite (one machine, usually one sender) each process paces itself."""
    if db.is_sqlite:
        return None
    return SharedRate(db, f"slack:posts:{workspace}", under(budget.post_workspace))


def slack_platform(settings: Settings, db: Database, slack_app: AsyncApp | None = None) -> ChatPlatform:
    """The ChatPlatform for sending: the single workspace's, or every installed workspace's."""
    budget = settings.slack_budget()
    if settings.slack_oauth_enabled:
        store = slack_app.installation_store if slack_app is not None else None
        if not isinstance(store, AsyncSQLAlchemyInstallationStore):
            store = installation_store(settings, db)
        return InstalledWorkspaces(db, store, settings.api_base_url, budget)
    shared = shared_posts(db, budget, "default")
    if slack_app is not None:
        return SlackPlatform(slack_app.client, budget=budget, shared_posts=shared)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    return SlackPlatform(make_client(token, settings.api_base_url), budget=budget, shared_posts=shared)
