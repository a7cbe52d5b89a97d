"""Logging that cannot join a person to an answer.

Bolt and slack_sdk log whole request and response bodies at DEBUG, and the database drivers log
query parameters; those hold who clicked what, so their loggers are held at WARNING whatever
level the product runs at.
"""

from __future__ import annotations

import logging

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
