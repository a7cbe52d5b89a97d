"""Who may talk to the bot, and how the bot proves itself: the Agents SDK's connection manager.

On (the default): every activity must carry a Bot Framework JWT for our app id, checked by the
SDK's validator, and every call to Teams carries an Entra token for the app (client secret or
certificate, through MSAL). Off: only for tests and the demo, never silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.core import (
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    ConnectionManager,
    OutboundHostValidator,
)
from microsoft_agents.hosting.core.authorization import AuthTypes, Connections

from bot.settings import Settings

log = logging.getLogger(__name__)

SERVICE_CONNECTION = "SERVICE_CONNECTION"
# The app id used for the bot's own identity when authentication is off (demo, tests).
UNAUTHENTICATED_APP_ID = "00000000-0000-0000-0000-000000000000"
WARNING = (
    "\n" + "!" * 78 + "\n"
    "!! TEAMS_AUTH_DISABLED is set: /api/messages accepts activities from ANYONE, unsigned.\n"
    "!! This is for local tests and the demo only. Never run it where the internet can reach it.\n" + "!" * 78
)


class UnauthenticatedTokens(AnonymousTokenProvider):
    """With authentication off, the bot still speaks first (rounds, digests) as an app: the SDK
    treats app claims as non-anonymous and wants some token, so it gets a placeholder that no
    real Teams service would accept."""

    async def get_access_token(self, resource_url: str, scopes: list[str], force_refresh: bool = False) -> str:
        return "unauthenticated-local-token"


@dataclass(frozen=True)
class TeamsAuth:
    enabled: bool
    app_id: str
    connections: Connections
    config: AgentAuthConfiguration
    host_validator: OutboundHostValidator | None


def teams_auth(settings: Settings) -> TeamsAuth:
    if settings.teams_auth_disabled:
        log.warning(WARNING)
        config = AgentAuthConfiguration(anonymous_allowed=True, client_id=settings.teams_app_id)
        connections = ConnectionManager(
            provider_factory=lambda _config: UnauthenticatedTokens(),
            connections_configurations={SERVICE_CONNECTION: config},
        )
        return TeamsAuth(False, settings.teams_app_id or UNAUTHENTICATED_APP_ID, connections, config, None)
    settings.require_teams()
    assert settings.teams_app_id is not None
    if settings.teams_certificate_file is not None:
        config = AgentAuthConfiguration(
            auth_type=AuthTypes.certificate,
            client_id=settings.teams_app_id,
            tenant_id=settings.teams_tenant_id,
            cert_pfx_file=str(settings.teams_certificate_file),
        )
    else:
        assert settings.teams_app_password is not None
        config = AgentAuthConfiguration(
            auth_type=AuthTypes.client_secret,
            client_id=settings.teams_app_id,
            tenant_id=settings.teams_tenant_id,
            client_secret=settings.teams_app_password.get_secret_value(),
        )
    connections = MsalConnectionManager(connections_configurations={SERVICE_CONNECTION: config})
    # Only Microsoft's hosts, over https, and only the one the token names: an activity cannot
    # steer the bot's token to a server of its choosing.
    validator = OutboundHostValidator(enabled=True) if settings.teams_check_service_url else None
    return TeamsAuth(
        True, settings.teams_app_id, connections, connections.get_default_connection_configuration(), validator
    )
