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


def quiet_chatty_loggers() -> None:
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in SILENT:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    quiet_chatty_loggers()


class Tally:
    """Counts of outcomes (answers recorded, changed, ...), logged once an hour on the hour.

    Never a line per click: its time would say when somebody answered. The lines come at fixed
    times of the clock, whatever the clicks did, and only say how many of each outcome the hour
    had; an hour without any writes nothing.
    """

    def __init__(self, logger: logging.Logger, what: str, *, every: float = 3600.0) -> None:
        self._log = logger
        self._what = what
        self._every = every
        self._counts: Counter[str] = Counter()
        self._flusher: asyncio.Task[None] | None = None

    def add(self, outcome: str) -> None:
        self._counts[outcome] += 1
        if self._flusher is None or self._flusher.done():
            # Without a running loop (a synchronous caller) it is counted, and flushed by the next one.
            with contextlib.suppress(RuntimeError):
                self._flusher = asyncio.get_running_loop().create_task(self._flush_on_the_hour())

    def flush(self) -> None:
        if self._counts:
            parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self._counts.items()))
            self._log.info("%s in the last period: %s", self._what, parts)
            self._counts.clear()

    async def _flush_on_the_hour(self) -> None:
        while self._counts:
            await asyncio.sleep(self._every - time.time() % self._every)
            self.flush()
