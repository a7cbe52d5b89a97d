"""`/pulse jpd ...`: the coordinator's side of a JPD exchange, platform-neutral.

Called by Commands after the role check. Every refusal is a sentence and changes nothing; an
invitation that cannot be posted takes its exchange back with it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import delete

from bot.commands import parser as p
from bot.context import Context
from bot.jpd_text import deadline_text, summary_text
from storage.models import JpdExchange
from surveys.jpd import exchange as ex
from surveys.jpd import topics as tp
from surveys.jpd.notices import ExchangePlatform, invitation_of
from surveys.jpd.summary import summary_of
from surveys.platform import PlatformError

log = logging.getLogger(__name__)

# A deadline given as a day alone: the end of that school day.
DEFAULT_TIME = dt.time(17, 0)


def scope_of(ctx: Context, workspace_id: str | None) -> str:
    """Which exchanges and topics a request sees: its workspace when several share this database
    (OAuth installs), else the one install's."""
    return (workspace_id or "") if ctx.settings.slack_oauth_enabled else ""


class Refused(Exception):
    """Nothing was done, for a reason the text gives (not a mistake in the domain's terms)."""


@dataclass(frozen=True)
class Said:
    text: str
    ok: bool = True


class ExchangeCommands:
    def __init__(
        self,
        ctx: Context,
        platform: ExchangePlatform | None,
        *,
        prefix: str = "/pulse",
        escape: Callable[[str], str] = str,
    ) -> None:
        self.ctx = ctx
        self.platform = platform
        self.prefix = prefix
        self.escape = escape

    async def run(
        self, command: p.JpdCommand, *, scope: str, user: str, channel: str | None, timezone: str | None
    ) -> Said:
        """What to tell the coordinator; `ok` is False when nothing was done (the text says why)."""
        try:
            return Said(await self._run(command, scope, user, channel, timezone))
        except (ex.ExchangeError, tp.TopicError, Refused) as exc:
            return Said(str(exc), ok=False)

    async def _run(
        self, command: p.JpdCommand, scope: str, user: str, channel: str | None, timezone: str | None
    ) -> str:
        match command:
            case p.JpdTopics():
                return await self._topics(scope)
            case p.JpdTopicAdd(label=label):
                async with self.ctx.db.session() as session:
                    topic = await tp.add_topic(session, scope, label)
                return f"Added the topic *{self.escape(topic.label)}*. It is offered in the next exchange opened."
            case p.JpdTopicRemove(name=name):
                async with self.ctx.db.session() as session:
                    topic = await tp.remove_topic(session, scope, name)
                return f"Removed the topic *{self.escape(topic.label)}*. An exchange already open keeps it."
            case p.JpdOpen():
                return await self._open(command, scope, user, channel, timezone)
            case p.JpdClose():
                closed = await ex.close_now(self.ctx.db, scope, self.ctx.clock())
                return (
                    f"Closed exchange {closed.exchange_id}: {closed.took_part} took part, {closed.grouped} are in "
                    f"{closed.groups} group(s). Introductions go out within a minute; "
                    f"`{self.prefix} jpd summary` shows the rest."
                )
            case p.JpdStatus():
                return await self._status(scope)
            case p.JpdSummary(exchange_id=eid):
                return await self._summary(scope, eid)
            case p.JpdDelete(exchange_id=eid):
                await ex.delete_exchange(self.ctx.db, scope, eid)
                return f"Deleted exchange {eid} with everyone's answers, its groups and its summary."
        return p.usage_of("jpd", self.prefix)

    async def _topics(self, scope: str) -> str:
        async with self.ctx.db.session() as session:
            topics = await tp.topics_of(session, scope)
        if not topics:
            return f"No topics yet. `{self.prefix} jpd topics add NAME` adds one."
        lines = [f"• {self.escape(t.label)} (`{t.slug}`)" for t in topics]
        return (
            f"*JPD topics* ({len(topics)})\n" + "\n".join(lines) + f"\n`{self.prefix} jpd topics add NAME` or "
            f"`{self.prefix} jpd topics remove NAME` changes the list."
        )

    async def _open(self, command: p.JpdOpen, scope: str, user: str, channel: str | None, tz: str | None) -> str:
        if self.platform is None or not channel:
            raise Refused(
                "Open an exchange from the channel its invitation should go to (not a direct message); "
                "nothing was opened."
            )
        timezone = tz or "Europe/London"
        deadline = dt.datetime.combine(command.day, command.at or DEFAULT_TIME, ZoneInfo(timezone)).astimezone(dt.UTC)
        now = self.ctx.clock()
        async with self.ctx.db.session() as session:
            topics = await tp.topics_of(session, scope)
            exchange = await ex.open_exchange(
                session,
                scope=scope,
                platform=self.platform.name,
                kind=command.kind,
                channel=channel,
                opened_by=user,
                deadline=deadline,
                topics=topics,
                now=now,
                timezone=timezone,
            )
            invitation = invitation_of(exchange)
        try:
            ref = await self.platform.post_invitation(channel, invitation)
        except PlatformError as exc:
            async with self.ctx.db.session() as session:
                await session.execute(delete(JpdExchange).where(JpdExchange.id == invitation.exchange_id))
            raise Refused(
                f"The invitation could not be posted in that channel ({exc}), so no exchange was opened. "
                "Add the app to the channel, or open it from a channel the app is in."
            ) from None
        async with self.ctx.db.session() as session:
            row = await session.get(JpdExchange, invitation.exchange_id)
            if row is not None:
                row.invitation_ref = ref
        log.info("exchange %s opened", invitation.exchange_id)
        return (
            f"Opened exchange {invitation.exchange_id}: the invitation is posted here and closes "
            f"{deadline_text(deadline, timezone)}. Groups are introduced then; `{self.prefix} jpd close` forms "
            "them sooner."
        )

    async def _status(self, scope: str) -> str:
        async with self.ctx.db.session() as session:
            current = await ex.open_exchange_in(session, scope)
            if current is None:
                return f"No exchange is open. `{self.prefix} jpd open YYYY-MM-DD` opens one from this channel."
            entries = await ex.entries_of(session, current.id)
        return (
            f"Exchange {current.id} is open until {deadline_text(current.deadline, current.timezone)}: "
            f"{len(entries)} taken part so far."
        )

    async def _summary(self, scope: str, exchange_id: int | None) -> str:
        async with self.ctx.db.session() as session:
            if exchange_id is not None:
                exchange = await ex.find(session, exchange_id, scope)
                if exchange is None:
                    raise Refused(f"There is no exchange {exchange_id} here.")
            else:
                exchange = await ex.latest(session, scope)
                if exchange is None:
                    return f"No exchange yet. `{self.prefix} jpd open YYYY-MM-DD` opens one from this channel."
            return summary_text(await summary_of(session, exchange), self.escape)
