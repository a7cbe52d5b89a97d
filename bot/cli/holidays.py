"""`pulse holidays add|list|remove|import`: term breaks and holidays, when no round goes out."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.cli.common import CliError
from bot.settings import get_settings
from storage.db import Database
from storage.models import Holiday
from surveys import calendar


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (use YYYY-MM-DD)") from None


def add_parser(sub: Any) -> None:
    holidays = sub.add_parser("holidays", help="holidays and term breaks: no rounds go out on them").add_subparsers(
        dest="holidays_command", required=True
    )
    add = holidays.add_parser("add", help="add a holiday, first and last day included")
    add.add_argument("starts", metavar="START", type=_date, help="first day, YYYY-MM-DD")
    add.add_argument("ends", metavar="END", type=_date, help="last day, YYYY-MM-DD")
    add.add_argument("--survey", type=int, default=None, help="only for this survey (default: every survey)")
    add.add_argument("--label", default="", help='a name, e.g. "October half term"')
    add.set_defaults(run=lambda a: _run(_add, a))
    list_ = holidays.add_parser("list", help="list holidays (with --survey: those that apply to it)")
    list_.add_argument("--survey", type=int, default=None)
    list_.set_defaults(run=lambda a: _run(_list, a))
    remove = holidays.add_parser("remove", help="remove a holiday by its id")
    remove.add_argument("holiday", metavar="ID", type=int)
    remove.set_defaults(run=lambda a: _run(_remove, a))
    import_ = holidays.add_parser(
        "import", help='add every holiday in a file: CSV lines "start,end,label", or an iCalendar .ics file'
    )
    import_.add_argument("file", metavar="FILE", type=Path)
    import_.add_argument("--survey", type=int, default=None, help="only for this survey (default: every survey)")
    import_.set_defaults(run=lambda a: _run(_import, a))


def _run(fn: Callable[[Database, argparse.Namespace], Awaitable[int]], args: argparse.Namespace) -> int:
    async def go() -> int:
        db = Database(get_settings().database_url)
        try:
            return await fn(db, args)
        except calendar.HolidayError as exc:
            raise CliError(str(exc)) from None
        finally:
            await db.dispose()

    return asyncio.run(go())


def _line(h: Holiday) -> str:
    scope = f"survey {h.survey_id}" if h.survey_id is not None else "all surveys"
    days = (h.ends - h.starts).days + 1
    return f"{h.id:>4}  {h.starts}  {h.ends}  {days:>4}  {scope:<12}  {h.label}"


HEADER = f"{'id':>4}  {'starts':<10}  {'ends':<10}  {'days':>4}  {'applies to':<12}  label"


async def _add(db: Database, args: argparse.Namespace) -> int:
    async with db.session() as session:
        holiday = await calendar.add_holiday(
            session, survey_id=args.survey, starts=args.starts, ends=args.ends, label=args.label
        )
        print(f"holiday {holiday.id}: {holiday.starts} to {holiday.ends} {holiday.label}".rstrip())
    return 0


async def _list(db: Database, args: argparse.Namespace) -> int:
    async with db.session() as session:
        holidays = await calendar.list_holidays(session, args.survey)
    if not holidays:
        print("no holidays yet: add one with `pulse holidays add START END --label ...`")
        return 0
    print(HEADER)
    for h in holidays:
        print(_line(h))
    return 0


async def _remove(db: Database, args: argparse.Namespace) -> int:
    async with db.session() as session:
        if not await calendar.remove_holiday(session, args.holiday):
            raise CliError(f"no holiday {args.holiday} (see `pulse holidays list`)")
    print(f"removed holiday {args.holiday}")
    return 0


async def _import(db: Database, args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {args.file}: {exc}") from None
    async with db.session() as session:
        added = await calendar.import_holidays(session, text, survey_id=args.survey, filename=args.file.name)
        print(f"imported {len(added)} holiday(s) from {args.file.name}")
        for h in added:
            print(_line(h))
    return 0
