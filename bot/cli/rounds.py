"""`pulse rounds open|list|close`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any
from zoneinfo import ZoneInfo

from bot.cli.common import CliError, sending_platform
from bot.context import Context
from bot.settings import get_settings
from storage.models import Survey
from surveys import operations, round_control
from surveys.round_control import Closed, RoundLine


def add_parser(sub: Any) -> None:
    rounds = sub.add_parser("rounds", help="rounds: open one now, list them, close one early").add_subparsers(
        dest="rounds_command", required=True
    )
    open_ = rounds.add_parser("open", help="open a round now and send it")
    open_.add_argument("survey", type=int)
    open_.set_defaults(run=lambda a: asyncio.run(_open(a)))
    list_ = rounds.add_parser("list", help="a survey's latest rounds: items, dates, state, how many answered")
    list_.add_argument("survey", type=int)
    list_.set_defaults(run=lambda a: asyncio.run(_list(a)))
    close = rounds.add_parser(
        "close", help="close a round now: it is sealed, takes no more answers, and counts in the digest at once"
    )
    which = close.add_mutually_exclusive_group(required=True)
    which.add_argument("round", type=int, nargs="?", help="the round's id (`pulse rounds list` shows it)")
    which.add_argument("--survey", type=int, help="close this survey's open round")
    close.set_defaults(run=lambda a: asyncio.run(_close(a)))


async def _open(args: argparse.Namespace) -> int:
    ctx = Context.from_settings(get_settings())
    try:
        round_, report = await operations.open_and_send(
            ctx.db,
            ctx.banks,
            sending_platform(ctx),
            args.survey,
            now=ctx.clock(),
            scheduled=False,
            options=ctx.settings.send_options(),
        )
    finally:
        await ctx.db.dispose()
    if round_ is None:
        raise CliError("a round was opened for this survey this very second; try again")
    print(
        f"opened round {round_.seq} of survey {args.survey}: {report.sent} sent, "
        f"{report.retried} to retry, {report.failed} failed"
    )
    return 0 if report.failed == 0 else 1


def _answered(line: RoundLine) -> str:
    if line.answered is not None:
        return f"{'about ' if line.state != 'closed' else ''}{line.answered} per item"
    return f"fewer than {line.k}" if line.state == "closed" else f"not shown below {line.k}"


async def _list(args: argparse.Namespace) -> int:
    ctx = Context.from_settings(get_settings())
    try:
        async with ctx.db.session() as session:
            survey = await session.get(Survey, args.survey)
        if survey is None:
            raise CliError(f"there is no survey {args.survey}; `pulse surveys list` shows them")
        lines = await round_control.list_rounds(ctx.db, args.survey, now=ctx.clock())
    finally:
        await ctx.db.dispose()
    if not lines:
        print(f"survey {args.survey} has no rounds yet: `pulse rounds open {args.survey}` sends one now")
        return 0
    zone = ZoneInfo(survey.timezone)

    def at(when: Any) -> str:
        return when.astimezone(zone).strftime("%Y-%m-%d %H:%M") if when is not None else "—"

    print(f"{'id':>6}  {'round':>5}  {'state':<8} {'opened':<16}  {'closes':<16}  answered        items")
    for line in lines:
        closes = at(line.closed_at if line.state == "closed" else line.closes_at)
        print(
            f"{line.id:>6}  {line.seq:>5}  {line.state:<8} {at(line.opened_at):<16}  {closes:<16}  "
            f"{_answered(line):<15} {', '.join(line.items)}"
        )
    return 0


async def _close(args: argparse.Namespace) -> int:
    ctx = Context.from_settings(get_settings())
    try:
        if args.survey is not None:
            async with ctx.db.session() as session:
                if await session.get(Survey, args.survey) is None:
                    raise CliError(f"there is no survey {args.survey}; `pulse surveys list` shows them")
            result = await round_control.close_survey_round(ctx.db, args.survey, now=ctx.clock())
        else:
            result = await round_control.close_now(ctx.db, args.round, now=ctx.clock())
    finally:
        await ctx.db.dispose()
    match result.outcome:
        case Closed.NO_SUCH_ROUND:
            raise CliError(f"there is no round {args.round}; `pulse rounds list SURVEY` shows them")
        case Closed.NO_OPEN_ROUND:
            raise CliError(f"survey {args.survey} has no open round; nothing was closed")
        case Closed.ALREADY:
            print(f"round {result.seq} of survey {result.survey_id} was already closed; nothing changed")
        case Closed.NOW:
            print(
                f"closed round {result.seq} of survey {result.survey_id}: sealed, no more answers; "
                f"`pulse digest {result.survey_id}` reports it now"
            )
    return 0
