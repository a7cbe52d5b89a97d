"""Logging that cannot join a person to an answer.

Bolt and slack_sdk log whole request and response bodies at DEBUG, and the database drivers log
query parameters; those hold who clicked what, so their loggers are held at WARNING whatever
level the product runs at.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter

CHATTY = (
    "slack_bolt",
    "slack_sdk",
    "aiohttp.access",
    "apscheduler.executors",
    "aiosqlite",
    "asyncpg",
    "sqlalchemy",
    "microsoft_agents",
)
# The Agents SDK's errors quote conversations and activities: a 1:1 chat's id stands for one person
# (a reminder sent there says they had not answered), an activity can hold what they clicked.
# The Teams adapter logs its errors itself, by type.
SILENT = (
    "microsoft_agents.hosting.core.connector",
    "microsoft_agents.hosting.core.app",
    "microsoft_agents.activity",
)


# Routine bookkeeping at INFO (APScheduler adds and removes a dozen jobs at start, Alembic names
# its dialect): shown only at DEBUG.
ROUTINE = ("apscheduler", "alembic")
# Bolt reads SLACK_BOT_TOKEN from the environment even when given a client and an authorize
# function (bot/slack/app.py), and then warns that the token it was never meant to use is unused.
BOLT_NOISE = ("`token` will be unused", "env variable) will be ignored")


def _not_bolt_noise(record: logging.LogRecord) -> bool:
    return not any(noise in record.getMessage() for noise in BOLT_NOISE)


def quiet_chatty_loggers(level: int = logging.INFO) -> None:
    """Hold the libraries at `level` or above, never below WARNING where they could log who clicked."""
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, level))
    for name in ROUTINE:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else max(logging.WARNING, level))
    for name in SILENT:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    bolt = logging.getLogger("slack_bolt.AsyncApp")
    if _not_bolt_noise not in bolt.filters:
        bolt.addFilter(_not_bolt_noise)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    quiet_chatty_loggers(logging.getLevelName(level.upper()))


class Counters:
    """How many answers, picks and comments came and how each went, for operators; never per click.

    A log line per click would say when somebody answered, and so would a count that moved the
    moment they did. So clicks are only added up here, and published once a period (an hour by
    default, a minute at the least), at fixed times of the clock: one INFO line with the period's
    counts, and the running totals as of that line on `/healthz`. A period without a click writes
    nothing.
    """

    def __init__(self, logger: logging.Logger | None = None, *, every: float = 3600.0) -> None:
        self._log = logger or logging.getLogger("pulse.counters")
        self._every = every
        self._counts: Counter[str] = Counter()
        self._published: Counter[str] = Counter()
        self._flusher: asyncio.Task[None] | None = None

    def add(self, kind: str, outcome: str) -> None:
        """One click's outcome, e.g. ("answers", "recorded") or ("comments", "failed")."""
        self._counts[f"{kind} {outcome}"] += 1
        if self._flusher is None or self._flusher.done():
            # Without a running loop (a synchronous caller) it is counted, and flushed by the next one.
            with contextlib.suppress(RuntimeError):
                self._flusher = asyncio.get_running_loop().create_task(self._flush_on_the_period())

    def flush(self) -> None:
        if self._counts:
            parts = ", ".join(f"{n} {what}" for what, n in sorted(self._counts.items()))
            self._log.info("in the last %s: %s", _period(self._every), parts)
            self._published.update(self._counts)
            self._counts.clear()

    def published(self) -> dict[str, int]:
        """Running totals as of the last line written (not the clicks since)."""
        return dict(sorted(self._published.items()))

    async def _flush_on_the_period(self) -> None:
        while self._counts:
            await asyncio.sleep(self._every - time.time() % self._every)
            self.flush()


def _period(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:g} seconds"
    if seconds % 3600 == 0:
        return "hour" if seconds == 3600 else f"{seconds / 3600:g} hours"
    return "minute" if seconds == 60 else f"{seconds / 60:g} minutes"
