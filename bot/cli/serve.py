"""`pulse serve`, `pulse web`, `pulse clock`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.settings import get_settings


def add_parser(sub: Any) -> None:
    for name, text in (
        ("serve", "run the web server and the scheduler in one process"),
        ("web", "run only the web server (as many as you like)"),
        ("clock", "run only the scheduler (exactly one per deployment)"),
    ):
        sub.add_parser(name, help=text).set_defaults(run=_serve, mode=name)


def _serve(args: argparse.Namespace) -> int:
    from bot.runner import serve

    settings = get_settings()
    settings.require_serve()
    asyncio.run(serve(settings, web=args.mode != "clock", clock=args.mode != "web"))
    return 0
