"""Rate budgets and retry timing for sending, whatever the chat platform.

A `Pacer` spaces calls so that they stay inside a platform's published limits instead of
running into them: one budget per key (Slack: ~1 message per second per channel, with short
bursts) and one shared budget (Slack: the workspace). It is a GCRA ("virtual scheduling")
token bucket: each call reserves the earliest instant both budgets allow, then sleeps until
then, so waiting callers are released one by one at the budgeted rate rather than all at once.

When the platform answers "too many requests, retry after N seconds", `hold` closes the key (or
the shared budget) until exactly then; callers already waiting check again when they wake.

A `Pacer` lives in one process. `SharedRate` is the same schedule kept in the database
(storage/budgets.py), for a limit that several processes on several machines must keep together
(Slack: a workspace's posts).

`RetryPolicy` is the rest of the retry story: exponential backoff with full jitter for errors
that may clear up (5xx, timeouts), and a bounded time after which a delivery is given up.
Nothing here knows about Slack or Teams; each adapter picks its own numbers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from storage import budgets
from storage.db import Database

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    """`per_second` sustained, with up to `burst` calls at once after a quiet spell."""

    per_second: float
    burst: int = 1

    def __post_init__(self) -> None:
        if not self.per_second > 0 or not math.isfinite(self.per_second):
            raise ValueError("a rate must be a positive number of calls per second")
        if self.burst < 1:
            raise ValueError("a burst must allow at least one call")

    @classmethod
    def per_minute(cls, calls: float, burst: int = 1) -> Rate:
        return cls(calls / 60.0, burst)

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second

    @property
    def tolerance(self) -> float:
        """How far ahead of the steady schedule a call may go: the burst, in seconds."""
        return (self.burst - 1) * self.interval


@dataclass
class _Budget:
    rate: Rate
    # Theoretical arrival time: when the schedule would next be "on time".
    tat: float = 0.0
    held_until: float = 0.0

    def earliest(self, now: float) -> float:
        return max(now, self.tat - self.rate.tolerance, self.held_until)

    def commit(self, at: float) -> None:
        self.tat = max(self.tat, at) + self.rate.interval

    def hold(self, until: float) -> None:
        self.held_until = max(self.held_until, until)
        # After a hold, no burst: calls resume at the steady rate.
        self.tat = max(self.tat, until + self.rate.tolerance)


Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Pacer:
    """Per-key and shared call budgets. One per process and platform method, shared by all senders."""

    per_key: Rate | None = None
    shared: Rate | None = None
    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep
    _keys: dict[str, _Budget] = field(default_factory=dict, repr=False)
    _shared: _Budget | None = field(default=None, repr=False)
    _pruned_at: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        if self.shared is not None:
            self._shared = _Budget(self.shared)

    def _key(self, key: str) -> _Budget | None:
        budget = self._keys.get(key)
        if budget is None and self.per_key is not None:
            budget = self._keys[key] = _Budget(self.per_key)
        return budget

    def reserve(self, key: str | None = None) -> float:
        """Book the earliest instant both budgets allow; returns it (on the pacer's clock)."""
        now = self.clock()
        self._prune(now)
        budgets = [b for b in (self._key(key) if key is not None else None, self._shared) if b is not None]
        at = max([now, *(b.earliest(now) for b in budgets)])
        for b in budgets:
            b.commit(at)
        return at

    def ready_at(self, key: str | None = None) -> float:
        """When a hold on `key` or on the shared budget ends (now if none)."""
        now = self.clock()
        held = self._shared.held_until if self._shared is not None else 0.0
        if key is not None and key in self._keys:
            held = max(held, self._keys[key].held_until)
        return max(now, held)

    async def acquire(self, key: str | None = None) -> None:
        """Wait for this call's turn. A hold set while waiting is honoured before returning."""
        while True:
            delay = self.reserve(key) - self.clock()
            if delay > 0:
                await self.sleep(delay)
            if self.ready_at(key) <= self.clock():
                return

    def hold(self, key: str | None, seconds: float) -> None:
        """No calls for `key` (or, with None, for anyone) until `seconds` from now."""
        until = self.clock() + max(0.0, seconds)
        if key is None:
            if self._shared is None:
                self._shared = _Budget(Rate(1e9, 1))
            self._shared.hold(until)
            return
        budget = self._key(key)
        if budget is None:
            # No per-key budget: remember the hold alone (an effectively unlimited rate).
            budget = self._keys[key] = _Budget(Rate(1e9, 1))
        budget.hold(until)

    def refund(self) -> None:
        """Give back a shared slot whose call was turned away (a 429 counts against no budget)."""
        if self._shared is not None:
            self._shared.tat -= self._shared.rate.interval

    def _prune(self, now: float) -> None:
        # Keys whose schedule has caught up carry no state worth keeping; a DM fan-out makes many.
        if now - self._pruned_at < 60.0 or len(self._keys) < 1024:
            return
        self._pruned_at = now
        for key in [k for k, b in self._keys.items() if b.tat <= now and b.held_until <= now]:
            del self._keys[key]


@dataclass
class SharedRate:
    """A budget every sending process shares, kept in the database: each call reserves its slot
    there (one short transaction), then waits for it. Should the database not answer, the call
    goes on the process's own pacing alone: a rate limit is Slack's to enforce, a lost message ours."""

    db: Database
    key: str
    rate: Rate
    wall: Clock = time.time
    sleep: Sleep = asyncio.sleep

    async def acquire(self) -> None:
        try:
            at = await budgets.reserve(
                self.db, self.key, per_second=self.rate.per_second, burst=self.rate.burst, now=self.wall()
            )
        except Exception as exc:
            _log.warning("the shared send budget could not be read (%s); pacing locally", type(exc).__name__)
            return
        delay = at - self.wall()
        if delay > 0:
            await self.sleep(delay)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, inside a bounded time.

    `base * 2**attempt`, capped at `cap`, is the longest wait before retry number `attempt`;
    the actual wait is uniform between zero and that (full jitter, so many senders that failed
    together do not retry together). A platform's own "retry after" always wins.
    """

    base: float = 0.5
    cap: float = 60.0
    give_up_after: dt.timedelta = dt.timedelta(hours=2)

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** max(0, min(attempt, 62)))
        return (rng or random).uniform(0.0, ceiling)

    def wait(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before the next try: exactly `retry_after` when the platform gave one."""
        if retry_after is not None and retry_after >= 0:
            return retry_after
        return self.backoff(attempt, rng)

    def given_up(self, first_attempt: dt.datetime | None, now: dt.datetime) -> bool:
        return first_attempt is not None and now - first_attempt >= self.give_up_after
