"""Every place the benchmarks touch the product, in one module.

Only stable entry points: `pulse serve` (with its documented environment variables),
surveys.operations (open_and_send, drain, digest_for), SurveyConfig for creating a survey as the
CLI and the modal do, the Slack adapter's client factory, and the migrations. When one of these
changes shape, this is the one file to follow it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.procs import child_env, pulse_command
from storage.db import Database
from storage.migrate import upgrade
from storage.models import HeldAnswer, SealedCount
from surveys import operations
from surveys.banks import BankRegistry
from surveys.config import SurveyConfig
from surveys.digest import Digest
from surveys.platform import ChatPlatform

BANK = "staff-trust-in-leadership"
SIGNING_SECRET = "bench-signing-secret"
ANONYMITY_SECRET = "bench-anonymity-secret-of-32-characters-or-more"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def migrate(url: str) -> None:
    """Blocking: run it with asyncio.to_thread from async code."""
    upgrade(url)


def banks() -> BankRegistry:
    return BankRegistry.load(None)


def serve_command() -> list[str]:
    return pulse_command("serve")


def serve_env(*, database_url: str, api_url: str, token: str, port: int) -> dict[str, str]:
    """The environment `pulse serve` reads, pointed at a benchmark database and the Slack double."""
    return child_env(
        SLACK_BOT_TOKEN=token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        PULSE_ANONYMITY_SECRET=ANONYMITY_SECRET,
        SLACK_API_URL=api_url,
        DATABASE_URL=database_url,
        PORT=str(port),
        HOST="127.0.0.1",
    )


def settings(*, database_url: str, api_url: str, token: str, **values: Any) -> Any:
    """The product's Settings as `pulse` would read them from the environment (never from a .env file)."""
    from bot.settings import Settings

    return Settings(
        _env_file=None,
        slack_bot_token=token,
        slack_signing_secret=SIGNING_SECRET,
        pulse_anonymity_secret=ANONYMITY_SECRET,
        slack_api_url=api_url,
        database_url=database_url,
        pulse_banks_dir=None,
        **values,
    )


def known_settings(**values: Any) -> dict[str, Any]:
    """Only the settings this version of the product has (sending budgets arrived with issue 6)."""
    from bot.settings import Settings

    return {k: v for k, v in values.items() if k in Settings.model_fields}


def context(s: Any) -> Any:
    from bot.context import Context

    return Context.from_settings(s)


def slack_platform(ctx: Any) -> ChatPlatform:
    """The Slack platform exactly as `pulse rounds open` builds it from the settings."""
    from bot.cli.common import slack_platform as cli_platform

    return cli_platform(ctx)


def send_options(s: Any) -> Any:
    return s.send_options() if hasattr(s, "send_options") else None


async def create_survey(db: Database, **config: Any) -> int:
    values: dict[str, Any] = {"name": "Bench pulse", "bank_ids": [BANK], "digest_channel": "C0LEADERS", "k": 5}
    values.update(config)
    survey = SurveyConfig.model_validate(values).to_model()
    async with db.session() as session:
        session.add(survey)
        await session.flush()
        return int(survey.id)


async def open_and_send(
    db: Database,
    registry: BankRegistry,
    platform: ChatPlatform,
    survey_id: int,
    *,
    now: dt.datetime,
    options: Any = None,
) -> tuple[Any, Any]:
    """Open a round right now (as `pulse rounds open` does) and send what can be sent."""
    extra = {"options": options} if options is not None else {}
    return await operations.open_and_send(db, registry, platform, survey_id, now=now, scheduled=False, **extra)


async def drain(db: Database, registry: BankRegistry, platform: ChatPlatform, *, options: Any = None) -> Any:
    """One pass of the outbox, as the clock's outbox job runs it."""
    extra = {"options": options} if options is not None else {}
    return await operations.drain(db, platform, registry, **extra)  # type: ignore[attr-defined]


def outbox_interval() -> float:
    """How often the clock drains the outbox in production."""
    from bot import scheduler

    return float(getattr(scheduler, "OUTBOX_SECONDS", 5))


async def digest_for(db: Database, registry: BankRegistry, survey_id: int, *, now: dt.datetime) -> Digest:
    return await operations.digest_for(db, registry, survey_id, now=now)


async def count_responses(db: Database, round_id: int | None = None) -> int:
    """Answers stored: held for open rounds, sealed counts for closed ones."""
    held = select(func.count()).select_from(HeldAnswer)
    sealed = select(func.coalesce(func.sum(SealedCount.n), 0))
    if round_id is not None:
        held = held.where(HeldAnswer.round_id == round_id)
        sealed = sealed.where(SealedCount.round_id == round_id)
    async with db.session() as session:
        return int(await session.scalar(held) or 0) + int(await session.scalar(sealed) or 0)
