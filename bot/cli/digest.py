"""`pulse digest SURVEY [--post] [--format text|json|csv|png] [--out FILE]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import CliError, sending_platform
from bot.context import Context
from bot.digest_csv import digest_csv
from bot.digest_text import digest_text
from bot.settings import get_settings
from surveys import operations
from surveys.digest import Digest


def add_parser(sub: Any) -> None:
    digest = sub.add_parser("digest", help="print (or post) a survey's digest")
    digest.add_argument("survey", type=int)
    digest.add_argument("--post", action="store_true", help="also post it to the digest channel")
    digest.add_argument(
        "--format",
        choices=["text", "json", "csv", "png"],
        default="text",
        help="csv: one row per figure, aggregates only; png: the trend chart (needs --out)",
    )
    digest.add_argument("--out", type=Path, help="write to FILE instead of standard output")
    digest.set_defaults(run=lambda a: asyncio.run(_digest(a)))


def render(digest: Digest, form: str) -> str | bytes:
    if form == "json":
        return json.dumps(digest.model_dump(mode="json"), indent=2) + "\n"
    if form == "csv":
        return digest_csv(digest)
    if form == "png":
        from bot.charts import trend_chart

        png = trend_chart(digest)
        if png is None:
            raise CliError("nothing to chart yet: no round of this survey has opened")
        return png
    return digest_text(digest) + "\n"


async def _digest(args: argparse.Namespace) -> int:
    if args.format == "png" and args.out is None and sys.stdout.isatty():
        raise CliError("a PNG does not belong in a terminal: add --out FILE")
    ctx = Context.from_settings(get_settings(), secret=b"")
    try:
        if args.post:
            platform = sending_platform(ctx)
            digest = await operations.post_digest(ctx.db, ctx.banks, platform, args.survey, now=ctx.clock())
        else:
            digest = await operations.digest_for(ctx.db, ctx.banks, args.survey, now=ctx.clock())
    finally:
        await ctx.db.dispose()
    assert digest is not None
    output = render(digest, args.format)
    data = output.encode() if isinstance(output, str) else output
    if args.out is not None:
        try:
            args.out.write_bytes(data)
        except OSError as exc:
            raise CliError(f"cannot write {args.out}: {exc.strerror}") from None
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0
