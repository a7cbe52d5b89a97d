"""`pulse surveys create|list`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from bot.cli.common import CliError, config_error
from bot.context import Context
from bot.settings import get_settings
from storage import repo
from surveys import management
from surveys.config import SurveyConfig

# The survey's settings, by the flag of `pulse surveys create` that sets each.
FLAGS = {
    "name": "--name",
    "bank_ids": "--bank",
    "audience": "--channel",
    "digest_channel": "--digest-channel",
    "items_per_round": "--items",
    "k": "--k",
    "timezone": "--tz",
    "schedule": "--every",
    "digest_schedule": "--digest-every",
    "round_hours": "--open-hours",
    "platform": "--platform",
    "workspace_id": "--workspace",
}


def add_parser(sub: Any) -> None:
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
    create.add_argument(
        "--platform",
        choices=["slack", "teams"],
        default="slack",
        help="where it runs (default slack); Teams channels are the keys `pulse help` shows there",
    )
    create.add_argument(
        "--workspace",
        default=None,
        help="the Slack workspace (team id, T0123...) it belongs to; needed with multi-workspace installs",
    )
    create.set_defaults(run=lambda a: asyncio.run(_with_ctx(_create, a)))
    surveys.add_parser("list", help="list surveys and their state").set_defaults(
        run=lambda a: asyncio.run(_with_ctx(_list, a))
    )


async def _with_ctx(fn: Any, args: argparse.Namespace) -> int:
    ctx = Context.from_settings(get_settings(), secret=b"")
    try:
        return int(await fn(ctx, args))
    finally:
        await ctx.db.dispose()


async def _create(ctx: Context, args: argparse.Namespace) -> int:
    unknown = [b for b in args.banks if b not in ctx.banks]
    if unknown:
        raise CliError(f"unknown bank '{unknown[0]}' (see `pulse banks list`)")
    labels: dict[str, str] = {}
    if args.platform == "teams":
        from bot.teams.references import names_of

        # Teams channels are named by conversation key; the school is called what its team is.
        labels = await names_of(ctx.db, [*args.channels, args.digest_channel])
        missing = [k for k in [*args.channels, args.digest_channel] if k not in labels]
        if missing:
            raise CliError(f"Pulse Audit is not installed in Teams conversation '{missing[0]}' (`pulse help` there)")
    try:
        config = SurveyConfig(
            name=args.name,
            bank_ids=args.banks,
            audience=args.channels,
            segment_labels={k: v for k, v in labels.items() if k in args.channels},
            digest_channel=args.digest_channel,
            items_per_round=args.items,
            k=args.k,
            timezone=args.tz,
            schedule=args.every,
            digest_schedule=args.digest_every,
            round_hours=args.open_hours,
            platform=args.platform,
            # Teams commands see the surveys of their own tenant.
            workspace_id=ctx.settings.teams_tenant_id if args.platform == "teams" else args.workspace,
        )
    except ValidationError as exc:
        raise config_error(exc, FLAGS) from None
    async with ctx.db.session() as session:
        survey_id = (await management.create_survey(session, config, now=ctx.clock())).id
    print(f"created survey {survey_id}: {config.name}, banks {', '.join(config.bank_ids)}")
    print(survey_id)
    return 0


async def _list(ctx: Context, args: argparse.Namespace) -> int:
    """Each survey's state, active or paused, as /pulse surveys shows it, with its next round."""
    now = ctx.clock()
    async with ctx.db.session() as session:
        surveys = await repo.list_surveys(session)
        statuses = [await management.status_of(session, s, now=now, loaded=ctx.banks) for s in surveys]
    if not surveys:
        print("no surveys yet: create one with `pulse surveys create` or /pulse new")
        return 0
    print(f"{'id':>4}  {'state':<7}  {'next round (local)':<18}  {'schedule':<14}  {'tz':<16}  name / banks")
    for s, st in zip(surveys, statuses, strict=True):
        upcoming = st.next_run.astimezone(ZoneInfo(s.timezone)).strftime("%Y-%m-%d %H:%M") if st.next_run else "-"
        print(
            f"{s.id:>4}  {st.state:<7}  {upcoming:<18}  {s.schedule:<14}  {s.timezone:<16}  "
            f"{s.name} / {', '.join(s.bank_ids)}"
        )
    for s, st in zip(surveys, statuses, strict=True):
        if st.missing_banks_text:
            print(f"pulse: warning: survey {s.id}: {st.missing_banks_text}.", file=sys.stderr)
    return 0
