"""Slack and Teams in one process: one ChatPlatform that hands each call to the right adapter.

The scheduler and the outbox hold a single platform; a Teams survey's destinations, segments and
digest target are conversation keys ("T" + 16 hex digits, see ids.py), which no Slack id looks
like, so the id alone says where a call belongs.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.teams.ids import is_conversation_key
from surveys.digest import Digest
from surveys.platform import ChatPlatform, Recipient, Reminder, RoundMessage


class PlatformRouter:
    def __init__(self, primary: ChatPlatform, teams: ChatPlatform) -> None:
        self.primary = primary
        self.teams = teams
        # What surveys created through this process are marked with (Slack's forms; Teams'
        # own commands run with the Teams platform directly).
        self.name = primary.name

    def _for(self, ids: Sequence[str] | str) -> ChatPlatform:
        ids = [ids] if isinstance(ids, str) else list(ids)
        return self.teams if ids and all(is_conversation_key(i) for i in ids) else self.primary

    async def audience(self, kind: str, ids: Sequence[str]) -> list[Recipient]:
        return await self._for(ids).audience(kind, ids)

    async def audience_size(self, kind: str, ids: Sequence[str]) -> int:
        return await self._for(ids).audience_size(kind, ids)

    async def post_round(self, destination: str, message: RoundMessage, *, delivery_id: int | None = None) -> str:
        return await self._for(destination).post_round(destination, message, delivery_id=delivery_id)

    async def find_delivery(self, destination: str, delivery_id: int) -> str | None:
        return await self._for(destination).find_delivery(destination, delivery_id)

    async def post_digest(self, destination: str, digest: Digest) -> None:
        await self._for(destination).post_digest(destination, digest)

    async def channel_members(self, channel: str) -> list[str]:
        return await self._for(channel).channel_members(channel)

    async def remind(self, user: str, channel: str | None, reminder: Reminder) -> str | None:
        return await self._for(channel or "").remind(user, channel, reminder)

    async def withdraw(self, survey_id: int, ref: str) -> None:
        # Both platforms' references begin with the conversation they were sent from.
        await self._for(ref.split(" ", 1)[0]).withdraw(survey_id, ref)
