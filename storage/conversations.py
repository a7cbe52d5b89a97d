"""Stored Teams conversation references: written when the app is installed, read to send proactively."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import TeamsConversation

_REFRESHED = ("conversation_id", "kind", "tenant_id", "team_id", "name", "service_url", "reference", "updated_at")


async def save_teams_conversation(
    session: AsyncSession,
    *,
    key: str,
    conversation_id: str,
    kind: str,
    service_url: str,
    reference: dict[str, Any],
    now: dt.datetime,
    tenant_id: str | None = None,
    team_id: str | None = None,
    name: str | None = None,
) -> None:
    """Insert or refresh one reference; a reinstall brings a removed one back.

    A later event without a name or team (a plain message) keeps the ones an install gave.
    """
    values: dict[str, Any] = {
        "key": key,
        "conversation_id": conversation_id,
        "kind": kind,
        "tenant_id": tenant_id,
        "team_id": team_id,
        "name": name,
        "service_url": service_url,
        "reference": reference,
        "installed_at": now,
        "updated_at": now,
        "removed_at": None,
    }
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(TeamsConversation)
    stmt = insert.values(**values)
    refreshed: dict[str, Any] = {c: stmt.excluded[c] for c in _REFRESHED}
    for keep in ("team_id", "name", "tenant_id"):
        if values[keep] is None:
            del refreshed[keep]
    refreshed["removed_at"] = None
    await session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_=refreshed))


async def get_teams_conversation(session: AsyncSession, key: str) -> TeamsConversation | None:
    return await session.get(TeamsConversation, key)


async def teams_conversations(session: AsyncSession, *, include_removed: bool = False) -> list[TeamsConversation]:
    stmt = select(TeamsConversation).order_by(TeamsConversation.installed_at, TeamsConversation.key)
    if not include_removed:
        stmt = stmt.where(TeamsConversation.removed_at.is_(None))
    return list((await session.scalars(stmt)).all())


async def mark_teams_conversation_removed(session: AsyncSession, key: str, now: dt.datetime) -> bool:
    """The app was uninstalled there: keep the row (surveys may name it) but stop sending to it."""
    result = await session.execute(
        update(TeamsConversation)
        .where(TeamsConversation.key == key, TeamsConversation.removed_at.is_(None))
        .values(removed_at=now, updated_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def mark_team_removed(session: AsyncSession, team_id: str, now: dt.datetime) -> int:
    """The app was removed from a team: every channel of it stops being sent to."""
    result = await session.execute(
        update(TeamsConversation)
        .where(TeamsConversation.team_id == team_id, TeamsConversation.removed_at.is_(None))
        .values(removed_at=now, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
