"""Gathering role facts in Teams: configured coordinators, and leaders from the digest channel's roster.

Team owners are not coordinators automatically: the Bot Connector's roster says who is in a team
but not who owns it (its `userRole` is "user" or "guest", not a team role). Knowing owners needs
Microsoft Graph (`GET /teams/{id}/members`, an owner has "owner" among its roles) and a
permission the school's IT would have to grant, so coordinators are the people named in
TEAMS_COORDINATORS (README, "Install in Microsoft Teams").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.commands.execute import Caller
from bot.settings import Settings
from storage.models import Survey
from surveys.platform import PlatformError
from surveys.roles import Facts

if TYPE_CHECKING:
    from bot.teams.platform import TeamsPlatform

log = logging.getLogger(__name__)


class TeamsDirectory:
    """One per request: the asker's ids as this activity gives them."""

    # Teams cannot tell team owners apart (see above), so only configuration makes coordinators.
    coordinators = "the people named in Pulse Audit's configuration (your IT team can say who)"

    def __init__(self, settings: Settings, platform: TeamsPlatform | None, activity: Any) -> None:
        self.settings = settings
        self.platform = platform
        sender = activity.from_property
        self._ids = {str(getattr(sender, "aad_object_id", None) or ""), str(getattr(sender, "id", None) or "")} - {""}
        self._timezone = next(
            (
                str((entity.model_extra or {}).get("timezone") or "") or None
                for entity in activity.entities or []
                if getattr(entity, "type", None) == "clientInfo"
            ),
            None,
        )

    async def facts(self, caller: Caller, surveys: Sequence[Survey]) -> Facts:
        configured = bool(self._ids & self.settings.teams_coordinator_ids)
        leads: set[int] = set()
        if not configured and self.platform is not None:
            for survey in surveys:
                if survey.platform != "teams":
                    continue
                try:
                    members = await self.platform.channel_members(survey.digest_channel)
                except PlatformError as exc:
                    log.warning("teams: could not read the leaders of survey %s: %s", survey.id, exc)
                    continue
                if self._ids & set(members):
                    leads.add(survey.id)
        return Facts(configured=configured, leads=frozenset(leads))

    async def timezone(self, caller: Caller) -> str | None:
        return self._timezone
