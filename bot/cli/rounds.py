"""`pulse rounds open SURVEY`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.cli.common import CliError, sending_platform
from bot.context import Context
from bot.settings import get_settings
from surveys import operations


def add_parser(sub: Any) -> None:
    rounds = sub.add_parser("rounds", help="rounds").add_subparsers(dest="rounds_command", required=True)
    open_ = rounds.add_parser("open", help="open a round now and send it")
    open_.add_argument("survey", type=int)
    open_.set_defaults(run=lambda a: asyncio.run(_open(a)))


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
