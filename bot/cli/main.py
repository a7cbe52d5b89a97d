"""`pulse`: the command line for operators and scripts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot.cli import banks, digest, holidays, rounds, serve, surveys
from bot.cli.common import CliError
from bot.settings import Settings, get_settings, setting_problems
from storage.migrate import upgrade
from surveys.operations import NotFound

GROUPS = (serve, surveys, rounds, digest, banks, holidays)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pulse", description="Pulse Audit: anonymous trust audits in Slack and Teams.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db = sub.add_parser("db", help="database tasks").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply the migrations").set_defaults(run=_db_upgrade)
    demo = sub.add_parser("demo", help="run the whole product against a local Slack (or Teams) double")
    demo.add_argument("--staff", type=int, default=40)
    demo.add_argument("--weeks", type=int, default=6)
    demo.add_argument("--platform", choices=["slack", "teams"], default="slack")
    demo.set_defaults(run=_demo)
    for group in GROUPS:
        group.add_parser(sub)
    return p


def _db_upgrade(args: argparse.Namespace) -> int:
    upgrade(get_settings().database_url)
    print("database is up to date")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(staff=args.staff, weeks=args.weeks, platform=args.platform))


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = int(args.run(args))
    except (CliError, NotFound) as exc:
        print(f"pulse: {exc}", file=sys.stderr)
        code = 1
    except ValidationError as exc:
        if exc.title != Settings.__name__:
            raise
        # A bad setting: every one named on a line of its own, before anything was touched.
        print("\n".join(setting_problems(exc)), file=sys.stderr)
        code = 2
    sys.exit(code)


if __name__ == "__main__":
    main()
