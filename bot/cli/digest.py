"""`pulse digest SURVEY [--post] [--format text|json]`."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bot.cli.common import slack_platform
from bot.context import Context
from bot.digest_text import digest_text
from bot.settings import get_settings
from surveys import operations


def add_parser(sub: Any) -> None:
    digest = sub.add_parser("digest", help="print (or post) a survey's digest")
    digest.add_argument("survey", type=int)
    digest.add_argument("--post", action="store_true", help="also post it to the digest channel")
    digest.add_argument("--format", choices=["text", "json"], default="text")
    digest.set_defaults(run=lambda a: asyncio.run(_digest(a)))


async def _digest(args: argparse.Namespace) -> int:
    ctx = Context.from_settings(get_settings(), secret=b"")
    try:
        if args.post:
            digest = await operations.post_digest(ctx.db, ctx.banks, slack_platform(ctx), args.survey, now=ctx.clock())
        else:
            digest = await operations.digest_for(ctx.db, ctx.banks, args.survey, now=ctx.clock())
    finally:
        await ctx.db.dispose()
    assert digest is not None
    print(json.dumps(digest.model_dump(mode="json"), indent=2) if args.format == "json" else digest_text(digest))
    return 0
