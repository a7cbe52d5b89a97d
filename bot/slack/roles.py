"""Gathering role facts in Slack: who is an admin, a configured coordinator, a group member, a leader.

One SlackDirectory serves one request, so each Web API answer is asked for at most once per
request. The coordinators' user group is also remembered for a minute across requests
(usergroups.users.list is a Tier 2 method, about 20 calls a minute).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.execute import Caller
from bot.settings import Settings
from storage.models import Survey
from surveys.roles import Facts

log = logging.getLogger(__name__)

GROUP_TTL = 60.0


class GroupCache:
    """User group members by (workspace, group), kept for GROUP_TTL seconds."""

    def __init__(self, ttl: float = GROUP_TTL) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}

    def get(self, key: tuple[str, str]) -> frozenset[str] | None:
        hit = self._entries.get(key)
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return None
        return hit[1]

    def put(self, key: tuple[str, str], members: frozenset[str]) -> None:
        self._entries[key] = (time.monotonic(), members)


class SlackDirectory:
    coordinators = "workspace admins and owners and the people your school has named"

    def __init__(self, client: AsyncWebClient, settings: Settings, groups: GroupCache) -> None:
        self.client = client
        self.settings = settings
        self.groups = groups
        self._users: dict[str, dict[str, Any]] = {}
        self._members: dict[str, frozenset[str]] = {}

    async def user(self, user_id: str) -> dict[str, Any]:
        if user_id not in self._users:
            try:
                resp = await self.client.users_info(user=user_id)
                self._users[user_id] = dict(resp.get("user") or {})
            except SlackApiError as exc:
                # Fail closed: someone we cannot look up is treated as staff.
                log.warning("users.info failed: %s", _code(exc))
                self._users[user_id] = {}
        return self._users[user_id]

    async def channel_members(self, channel: str) -> frozenset[str]:
        if channel not in self._members:
            members: set[str] = set()
            cursor = None
            try:
                while True:
                    resp = await self.client.conversations_members(channel=channel, cursor=cursor, limit=1000)
                    members.update(resp.get("members") or [])
                    cursor = (resp.get("response_metadata") or {}).get("next_cursor")
                    if not cursor:
                        break
            except SlackApiError as exc:
                log.warning("conversations.members failed: %s", _code(exc))
            self._members[channel] = frozenset(members)
        return self._members[channel]

    async def group_members(self, workspace_id: str | None, group: str) -> frozenset[str]:
        key = (workspace_id or "", group)
        cached = self.groups.get(key)
        if cached is not None:
            return cached
        try:
            resp = await self.client.usergroups_users_list(usergroup=group)
            members = frozenset(resp.get("users") or [])
        except SlackApiError as exc:
            log.warning("usergroups.users.list failed: %s", _code(exc))
            return frozenset()
        self.groups.put(key, members)
        return members

    async def facts(self, caller: Caller, surveys: Sequence[Survey]) -> Facts:
        user = await self.user(caller.user_id)
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        configured = caller.user_id in self.settings.coordinator_ids
        in_group = False
        group = self.settings.pulse_coordinator_group.strip()
        if group and not (admin or configured):
            in_group = caller.user_id in await self.group_members(caller.workspace_id, group)
        if admin or configured or in_group:
            return Facts(workspace_admin=admin, configured=configured, in_coordinator_group=in_group)
        leads = frozenset([s.id for s in surveys if caller.user_id in await self.channel_members(s.digest_channel)])
        return Facts(leads=leads)

    async def timezone(self, caller: Caller) -> str | None:
        tz = (await self.user(caller.user_id)).get("tz")
        return str(tz) if tz else None

    async def audience_of(self, user_id: str, surveys: Sequence[Survey]) -> list[Survey]:
        """The surveys this person answers: in one of its channels, or in its user group."""
        found = []
        for survey in surveys:
            for target in survey.audience:
                if survey.audience_kind == "usergroup":
                    members = await self._group_uncached(target)
                else:
                    members = await self.channel_members(target)
                if user_id in members:
                    found.append(survey)
                    break
        return found

    async def _group_uncached(self, group: str) -> frozenset[str]:
        if group not in self._members:
            try:
                resp = await self.client.usergroups_users_list(usergroup=group)
                self._members[group] = frozenset(resp.get("users") or [])
            except SlackApiError as exc:
                log.warning("usergroups.users.list failed: %s", _code(exc))
                self._members[group] = frozenset()
        return self._members[group]


def _code(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "")) if exc.response is not None else type(exc).__name__
