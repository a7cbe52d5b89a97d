"""The wiring: one object that holds what a process shares (settings, database, banks, clock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.logs import Counters
from bot.settings import Settings
from storage.db import Database
from surveys.banks import BankRegistry
from surveys.platform import ChatPlatform


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Context:
    settings: Settings
    db: Database
    banks: BankRegistry
    secret: bytes
    platform: ChatPlatform | None = None
    clock: Callable[[], dt.datetime] = field(default=system_clock)
    # Outcomes of clicks, published once a period (never per click).
    counters: Counters = field(default_factory=Counters)

    @classmethod
    def from_settings(cls, settings: Settings, *, secret: bytes | None = None) -> Context:
        return cls(
            settings=settings,
            db=Database(settings.database_url),
            banks=BankRegistry.load(settings.pulse_banks_dir),
            secret=secret if secret is not None else settings.anonymity_secret(),
            counters=Counters(every=settings.pulse_counters_seconds),
        )

    def require_platform(self) -> ChatPlatform:
        if self.platform is None:
            raise RuntimeError("no chat platform configured")
        return self.platform
