"""`pulse jpd topics|open|status|close|summary`: a JPD exchange from the command line.

The same commands as `/pulse jpd`, run by the same code (bot/commands/jpd.py); opening one posts
its invitation to Slack, so it needs the bot's token and the channel's id.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import sys
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.cli.common import CHANNEL_ID_HINT, CliError
from bot.commands import parser as p
from bot.commands.jpd import ExchangeCommands, scope_of
from bot.context import Context
from bot.jpd_wiring import platform_for
from bot.settings import get_settings
from surveys.jpd.notices import ExchangePlatform

CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def _deadline(text: str) -> tuple[dt.date, dt.time | None]:
    day, _, at = text.strip().partition(" ")
    try:
        return dt.date.fromisoformat(day), (dt.time.fromisoformat(at) if at else None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a deadline (use YYYY-MM-DD or 'YYYY-MM-DD HH:MM')") from None


def add_parser(sub: Any) -> None:
    jpd = sub.add_parser(
        "jpd", help="a joint practice development exchange (named, not anonymous): topics, invitation, groups"
    ).add_subparsers(dest="jpd_command", required=True)
    topics = jpd.add_parser("topics", help="the practice topics exchanges offer (a starter list until changed)")
    topics.add_argument("change", nargs="?", choices=["list", "add", "remove"], default="list")
    topics.add_argument("name", nargs="*", help="the topic's name (add) or its name or short id (remove)")
    open_ = jpd.add_parser("open", help="open an exchange and post its invitation to a Slack channel")
    open_.add_argument("--channel", required=True, help="where the invitation goes (its id, C0123…)")
    open_.add_argument("--deadline", required=True, type=_deadline, help="YYYY-MM-DD [HH:MM] (default 17:00)")
    open_.add_argument("--coordinator", required=True, help="who gets the summary by DM (a user id, U0123…)")
    open_.add_argument("--schools", action="store_true", help="each school's coordinator answers for the school")
    open_.add_argument("--timezone", default="Europe/London", help="the deadline's time zone (default Europe/London)")
    jpd.add_parser("status", help="the open exchange, and how many have taken part")
    jpd.add_parser("close", help="close the open exchange now: groups are formed and introduced")
    summary = jpd.add_parser("summary", help="the coordinator's summary of the latest exchange, or of exchange N")
    summary.add_argument("exchange", nargs="?", type=int)
    remove = jpd.add_parser("delete", help="delete a closed exchange with everyone's answers, groups and summary")
    remove.add_argument("exchange", type=int)
    for command in jpd.choices.values():
        command.add_argument("--workspace", default=None, help="the Slack workspace (team id), with OAuth installs")
        command.set_defaults(run=lambda a: asyncio.run(_run(a)))


def _command(args: argparse.Namespace) -> p.JpdCommand:
    match args.jpd_command:
        case "topics":
            name = " ".join(args.name)
            if args.change == "list":
                return p.JpdTopics()
            if not name:
                raise CliError(f"say which topic to {args.change}")
            return p.JpdTopicAdd(label=name) if args.change == "add" else p.JpdTopicRemove(name=name)
        case "open":
            if not CHANNEL.match(args.channel):
                raise CliError(f"--channel: '{args.channel}' is not a channel id: {CHANNEL_ID_HINT}")
            if not USER.match(args.coordinator):
                raise CliError(f"--coordinator: '{args.coordinator}' is not a user id (U0123…)")
            try:
                ZoneInfo(args.timezone)
            except (ValueError, ZoneInfoNotFoundError):
                raise CliError(f"--timezone: '{args.timezone}' is not a time zone (e.g. Europe/London)") from None
            day, at = args.deadline
            return p.JpdOpen(kind="schools" if args.schools else "staff", day=day, at=at)
        case "status":
            return p.JpdStatus()
        case "close":
            return p.JpdClose()
        case "delete":
            return p.JpdDelete(exchange_id=args.exchange)
    return p.JpdSummary(exchange_id=args.exchange)


async def _run(args: argparse.Namespace) -> int:
    command = _command(args)
    ctx = Context.from_settings(get_settings(), secret=b"")
    try:
        scope = scope_of(ctx, args.workspace)
        platform: ExchangePlatform | None = None
        if isinstance(command, p.JpdOpen):
            from bot.cli.common import slack_platform

            ctx.platform = slack_platform(ctx)
            platform = await platform_for(ctx, "slack", scope)
        said = await ExchangeCommands(ctx, platform, prefix="pulse").run(
            command,
            scope=scope,
            user=getattr(args, "coordinator", "") or "",
            channel=getattr(args, "channel", None),
            timezone=getattr(args, "timezone", None),
        )
    finally:
        await ctx.db.dispose()
    if not said.ok:
        raise CliError(said.text)
    print(said.text.replace("*", ""), file=sys.stdout)
    return 0
