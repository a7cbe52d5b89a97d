"""Logging that cannot join a person to an answer.

Bolt and slack_sdk log whole request and response bodies at DEBUG, and the database drivers log
query parameters; those hold who clicked what, so their loggers are held at WARNING whatever
level the product runs at.
"""

from __future__ import annotations

import logging

CHATTY = ("slack_bolt", "slack_sdk", "aiohttp.access", "apscheduler.executors", "aiosqlite", "asyncpg", "sqlalchemy")


def quiet_chatty_loggers() -> None:
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    quiet_chatty_loggers()
