"""Remembering where the app is installed, so rounds and digests can be sent there later."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.teams.ids import channel_of, conversation_key
from storage import conversations
from storage.db import Database
from storage.models import TeamsConversation


def installed_channel(activity: Any) -> str:
    """Where an install put the app: the channel the installer picked (Teams' channel picker puts it
    in `settings.selectedChannel`, and it need not be General), else the activity's own channel."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    picked = ((channel_data.get("settings") or {}).get("selectedChannel") or {}).get("id")
    return str(picked) if picked else channel_of(activity)


def reference_of(activity: Any, conversation_id: str | None = None) -> dict[str, Any]:
    """The conversation reference to store, holding no more about people than sending needs.

    A channel or group chat reference keeps no user at all; a personal chat keeps the ids Teams
    needs to reach that person, but not their name.
    """
    reference = activity.get_conversation_reference()
    reference.conversation.id = conversation_id or channel_of(activity)
    data: dict[str, Any] = reference.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.pop("activityId", None)
    data.pop("requestId", None)
    if (activity.conversation.conversation_type or "personal") == "personal" and "user" in data:
        data["user"] = {k: v for k, v in data["user"].items() if k in ("id", "aadObjectId")}
    else:
        data.pop("user", None)
    return data


async def remember(db: Database, activity: Any, now: dt.datetime) -> str:
    """Store (or refresh) the reference for the activity's conversation; returns its key."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = channel_data.get("team") or {}
    channel = channel_data.get("channel") or {}
    conversation_id = installed_channel(activity)
    key = conversation_key(conversation_id)
    kind = str(activity.conversation.conversation_type or "personal")
    name = channel.get("name") or (team.get("name") if conversation_id == team.get("id") else None)
    async with db.session() as session:
        await conversations.save_teams_conversation(
            session,
            key=key,
            conversation_id=conversation_id,
            kind=kind,
            service_url=str(activity.service_url),
            reference=reference_of(activity, conversation_id),
            now=now,
            tenant_id=(channel_data.get("tenant") or {}).get("id") or activity.conversation.tenant_id,
            team_id=team.get("id"),
            name=name,
        )
    return key


async def forget(db: Database, activity: Any, now: dt.datetime) -> None:
    """The app was removed. From a team, Teams says so in the team's own conversation (its General
    channel), whichever channel it was installed in: every stored channel of that team goes."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = (channel_data.get("team") or {}).get("id")
    async with db.session() as session:
        await conversations.mark_teams_conversation_removed(session, conversation_key(channel_of(activity)), now)
        if team:
            await conversations.mark_team_removed(session, str(team), now)


async def gone(db: Database, key: str, now: dt.datetime) -> None:
    """Teams refused a send there as no longer allowed (removed, blocked): stop sending to it."""
    async with db.session() as session:
        await conversations.mark_teams_conversation_removed(session, key, now)


async def installed(db: Database, key: str) -> TeamsConversation | None:
    """The stored reference behind a key, unless the app has been removed from there."""
    async with db.session() as session:
        row = await conversations.get_teams_conversation(session, key)
    return row if row is not None and row.removed_at is None else None


async def names_of(db: Database, keys: list[str]) -> dict[str, str]:
    """Each key's conversation name (team or channel), for keys where the app is installed;
    a key missing from the result is not installed (or was removed)."""
    async with db.session() as session:
        rows = [await conversations.get_teams_conversation(session, key) for key in keys]
    return {row.key: row.name or row.key for row in rows if row is not None and row.removed_at is None}
