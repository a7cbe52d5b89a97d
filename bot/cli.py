"""`pulse`: the command line for operators and scripts."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from bot.context import Context
from bot.digest_text import digest_text
from bot.settings import Settings, get_settings
from storage import repo
from storage.migrate import upgrade
from surveys import operations
from surveys.config import SurveyConfig

log = logging.getLogger("pulse")


class CliError(Exception):
    """A mistake the user can fix: printed as one line, exit status 1."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pulse", description="Pulse Audit: anonymous trust audits in Slack.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("serve", help="run the web server and the scheduler")
    sub.add_parser("clock", help="run only the scheduler (one per deployment)")
    web = sub.add_parser("web", help="run only the web server (as many as you like)")
    web.set_defaults(clock=False)

    db = sub.add_parser("db", help="database tasks").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply the migrations")

    surveys = sub.add_parser("surveys", help="create and list surveys").add_subparsers(
        dest="surveys_command", required=True
    )
    create = surveys.add_parser("create", help="create a survey; prints its id on the last line")
    create.add_argument("--bank", action="append", required=True, dest="banks", help="bank id (repeatable)")
    create.add_argument("--channel", action="append", required=True, dest="channels", help="channel id (repeatable)")
    create.add_argument("--digest-channel", required=True)
    create.add_argument("--name", default="Trust pulse")
    create.add_argument("--items", type=int, default=1, help="items per round (default 1)")
    create.add_argument("--k", type=int, default=5, help="anonymity threshold (default 5, at least 3)")
    create.add_argument("--tz", default="Europe/London", help="time zone (default Europe/London)")
    create.add_argument("--every", default="0 9 * * 1", help='round schedule, cron (default "0 9 * * 1")')
    create.add_argument("--digest-every", default="0 8 * * 5", help='digest schedule, cron (default "0 8 * * 5")')
    create.add_argument("--open-hours", type=int, default=72, help="how long a round stays open (default 72)")
    surveys.add_parser("list", help="list surveys and their state")

    rounds = sub.add_parser("rounds", help="rounds").add_subparsers(dest="rounds_command", required=True)
    open_ = rounds.add_parser("open", help="open a round now and send it")
    open_.add_argument("survey", type=int)

    digest = sub.add_parser("digest", help="print (or post) a survey's digest")
    digest.add_argument("survey", type=int)
    digest.add_argument("--post", action="store_true", help="also post it to the digest channel")
    digest.add_argument("--format", choices=["text", "json"], default="text")

    demo = sub.add_parser("demo", help="run the whole product against a local Slack double")
    demo.add_argument("--staff", type=int, default=40)
    demo.add_argument("--weeks", type=int, default=6)
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = _dispatch(args)
    except CliError as exc:
        print(f"pulse: {exc}", file=sys.stderr)
        code = 1
    except operations.NotFound as exc:
        print(f"pulse: {exc}", file=sys.stderr)
        code = 1
    sys.exit(code)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from bot.demo import run_demo

        return asyncio.run(run_demo(staff=args.staff, weeks=args.weeks))
    settings = get_settings()
    if args.command in ("serve", "web", "clock"):
        from bot.runner import serve

        settings.require_serve()
        asyncio.run(serve(settings, web=args.command != "clock", clock=args.command != "web"))
        return 0
    if args.command == "db":
        upgrade(settings.database_url)
        print("database is up to date")
        return 0
    return asyncio.run(_run_async(args, settings))


async def _run_async(args: argparse.Namespace, settings: Settings) -> int:
    needs_secret = args.command == "rounds"
    ctx = Context.from_settings(settings, secret=None if needs_secret else b"")
    try:
        if args.command == "surveys":
            return await (_surveys_create(ctx, args) if args.surveys_command == "create" else _surveys_list(ctx))
        if args.command == "rounds":
            return await _rounds_open(ctx, args.survey)
        if args.command == "digest":
            return await _digest(ctx, args)
    finally:
        await ctx.db.dispose()
    return 2


def _config_error(exc: ValidationError) -> CliError:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "survey"
    return CliError(f"{field}: {first['msg']}")


async def _surveys_create(ctx: Context, args: argparse.Namespace) -> int:
    unknown = [b for b in args.banks if b not in ctx.banks]
    if unknown:
        raise CliError(f"unknown bank '{unknown[0]}' (see `pulse banks list`)")
    try:
        config = SurveyConfig(
            name=args.name,
            bank_ids=args.banks,
            audience=args.channels,
            digest_channel=args.digest_channel,
            items_per_round=args.items,
            k=args.k,
            timezone=args.tz,
            schedule=args.every,
            digest_schedule=args.digest_every,
            round_hours=args.open_hours,
        )
    except ValidationError as exc:
        raise _config_error(exc) from None
    async with ctx.db.session() as session:
        survey = config.to_model()
        session.add(survey)
        await session.flush()
        survey_id = survey.id
    print(f"created survey {survey_id}: {config.name}, banks {', '.join(config.bank_ids)}")
    print(survey_id)
    return 0


async def _surveys_list(ctx: Context) -> int:
    async with ctx.db.session() as session:
        surveys = await repo.list_surveys(session)
    if not surveys:
        print("no surveys yet: create one with `pulse surveys create` or /pulse new")
        return 0
    print(f"{'id':>4}  {'state':<7}  {'schedule':<14}  {'tz':<16}  name / banks")
    for s in surveys:
        state = "paused" if s.paused else "active"
        print(f"{s.id:>4}  {state:<7}  {s.schedule:<14}  {s.timezone:<16}  {s.name} / {', '.join(s.bank_ids)}")
    return 0


def _slack_platform(ctx: Context) -> Any:
    from bot.slack.platform import SlackPlatform, make_client

    s = ctx.settings
    if s.slack_bot_token is None:
        raise CliError("SLACK_BOT_TOKEN is not set (needed to send to Slack)")
    return SlackPlatform(make_client(s.slack_bot_token.get_secret_value(), s.api_base_url))


async def _rounds_open(ctx: Context, survey_id: int) -> int:
    platform = _slack_platform(ctx)
    round_, report = await operations.open_and_send(
        ctx.db, ctx.banks, platform, survey_id, now=ctx.clock(), scheduled=False
    )
    if round_ is None:
        raise CliError("a round was opened for this survey this very second; try again")
    print(
        f"opened round {round_.seq} of survey {survey_id}: {report.sent} sent, "
        f"{report.retried} to retry, {report.failed} failed"
    )
    return 0 if report.failed == 0 else 1


async def _digest(ctx: Context, args: argparse.Namespace) -> int:
    if args.post:
        digest = await operations.post_digest(ctx.db, ctx.banks, _slack_platform(ctx), args.survey, now=ctx.clock())
    else:
        digest = await operations.digest_for(ctx.db, ctx.banks, args.survey, now=ctx.clock())
    assert digest is not None
    print(json.dumps(digest.model_dump(mode="json"), indent=2) if args.format == "json" else digest_text(digest))
    return 0


if __name__ == "__main__":
    main()
