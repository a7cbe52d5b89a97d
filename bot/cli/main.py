"""`pulse`: the command line for operators and scripts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pydantic import ValidationError

from bot.cli import banks, digest, holidays, jpd, rounds, serve, surveys
from bot.cli.common import CliError
from bot.settings import Settings, get_settings, setting_problems
from storage.db import shown_url, unreachable
from storage.migrate import is_current, upgrade
from surveys.operations import NotFound
from surveys.platform import PlatformError

GROUPS = (serve, surveys, rounds, digest, banks, holidays, jpd)
# Commands that never open the configured database (the demo makes its own).
NO_DATABASE = {"banks", "demo"}
# Commands that bring the schema up to date themselves.
MIGRATING = {"db", "serve", "clock"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pulse", description="Pulse Audit: anonymous trust audits in Slack and Teams.")
    p.add_argument("--version", action="version", version=f"pulse {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db = sub.add_parser("db", help="database tasks").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply the migrations").set_defaults(run=_db_upgrade)
    demo = sub.add_parser("demo", help="run the whole product against a local Slack (or Teams) double")
    demo.add_argument("--staff", type=int, default=40)
    demo.add_argument("--weeks", type=int, default=6)
    demo.add_argument("--platform", choices=["slack", "teams"], default="slack")
    demo.add_argument("--seed", type=int, default=2012, help="the same seed gives the same figures (default 2012)")
    demo.add_argument(
        "--out", type=Path, default=Path("demo-output"), help="where the chart (and Teams card) are written"
    )
    demo.set_defaults(run=_demo)
    for group in GROUPS:
        group.add_parser(sub)
    return p


def _version() -> str:
    try:
        return version("pulse-audit")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def _db_upgrade(args: argparse.Namespace) -> int:
    upgrade(get_settings().database_url)
    print("database is up to date")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(
        run_demo(staff=args.staff, weeks=args.weeks, seed=args.seed, platform=args.platform, out=args.out)
    )


def _preflight(command: str) -> int:
    """Settings read, warnings said, the database reachable: else one line per problem and exit 2."""
    settings = get_settings()
    for warning in settings.warnings():
        print(warning, file=sys.stderr)
    if command in NO_DATABASE:
        return 0
    why = asyncio.run(unreachable(settings.database_url))
    if why:
        print(
            f"pulse: cannot reach the database at DATABASE_URL={shown_url(settings.database_url)} ({why}). "
            "Check that the server is running and the URL, user and password are right.",
            file=sys.stderr,
        )
        return 2
    if command not in MIGRATING and not asyncio.run(is_current(settings.database_url)):
        print(
            f"pulse: the database at DATABASE_URL={shown_url(settings.database_url)} is not set up or not up to "
            "date. Run `pulse db upgrade` first (`pulse serve` and `pulse clock` do it themselves).",
            file=sys.stderr,
        )
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = _preflight(args.command) or int(args.run(args))
    except (CliError, NotFound) as exc:
        print(f"pulse: {exc}", file=sys.stderr)
        code = 1
    except PlatformError as exc:
        # Raised before anything was stored (opening a round asks the platform for its audience first).
        print(
            f"pulse: the chat platform could not be reached ({exc}); nothing was changed. "
            "Check the network (and SLACK_API_URL if set), then try again.",
            file=sys.stderr,
        )
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
