"""Calls to Teams, paced within its published limits, with 429s retried in place.

Teams allows a bot about 7 messages a second, 60 in 30 seconds and 1,800 an hour in any one
conversation, and 50 requests a second per app and tenant; past that it answers 429. The Agents
SDK makes one attempt and raises `aiohttp.ClientResponseError` (Teams' headers included) on any
non-2xx answer, so pacing and retrying are ours: `surveys.pacing` spaces the calls, a 429 holds
that conversation for the `Retry-After` Teams gave and the call is tried again after a jittered
exponential backoff (Teams asks for both). A 412/502/504-style error or a dropped connection is
retried in place only for calls that are safe to repeat; a post that may have arrived is handed
to the outbox as `maybe_delivered`, which decides (see surveys/sending.py).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import TypeVar

import aiohttp

from surveys.pacing import Pacer, Rate, RetryPolicy
from surveys.platform import PlatformError

T = TypeVar("T")

# Per conversation: a burst of 7, then one every two seconds (the hourly limit, sustained).
PER_CONVERSATION = Rate(per_second=0.5, burst=7)
# Per app and tenant: 50 a second allowed; keep a margin for replies to clicks and commands.
PER_APP = Rate(per_second=40, burst=40)
ATTEMPTS = 4
RETRY = RetryPolicy(base=0.5, cap=30.0)
THROTTLED = 429
FORBIDDEN = 403
# Worth trying again, as Teams documents; 5xx/408 may also mean the message arrived.
TRANSIENT = {408, 412, 429, 500, 502, 503, 504}


def retry_after_seconds(headers: object) -> float | None:
    """`Retry-After` as seconds (Teams sends a number; HTTP also allows a date)."""
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def platform_error(exc: BaseException) -> PlatformError:
    if isinstance(exc, aiohttp.ClientResponseError):
        status = exc.status
        return PlatformError(
            f"teams: HTTP {status}",
            transient=status in TRANSIENT,
            retry_after=retry_after_seconds(exc.headers) if exc.headers is not None else None,
            # Refused outright (4xx) means not posted; a 5xx or a timeout may have been.
            maybe_delivered=status >= 500 or status == 408,
            # 403: the bot is no longer in that conversation's roster (removed), or was blocked.
            gone=status == FORBIDDEN,
        )
    return PlatformError(f"teams: {type(exc).__name__}", transient=True, maybe_delivered=True)


class Throttle:
    """One per platform instance: the pacing budgets plus the retry loop."""

    def __init__(
        self, pacer: Pacer | None = None, *, attempts: int = ATTEMPTS, rng: random.Random | None = None
    ) -> None:
        self.pacer = pacer or Pacer(per_key=PER_CONVERSATION, shared=PER_APP)
        self.attempts = attempts
        self.rng = rng or random.Random()
        # Waits taken, newest last: what an operator (or a test) can see of the backing off.
        self.waits: list[float] = []

    async def call(self, key: str, request: Callable[[], Awaitable[T]], *, repeatable: bool = False) -> T:
        """`request` within the budgets for conversation `key`.

        429s are retried here; other transient errors too when `repeatable` (reads, and posts
        whose duplicates do no harm); anything else is raised as a PlatformError.
        """
        for attempt in range(1, self.attempts + 1):
            await self.pacer.acquire(key)
            try:
                return await request()
            except (aiohttp.ClientResponseError, aiohttp.ClientConnectionError, TimeoutError) as exc:
                error = platform_error(exc)
                throttled = isinstance(exc, aiohttp.ClientResponseError) and exc.status == THROTTLED
                if not (throttled or (repeatable and error.transient)) or attempt == self.attempts:
                    raise error from None
                # At least what Teams asked for, plus jitter so senders throttled together do not
                # come back together; nobody sends to this conversation meanwhile (acquire waits).
                wait = (error.retry_after or 0.0) + RETRY.backoff(attempt, self.rng)
                self.waits.append(wait)
                self.pacer.hold(key, wait)
        raise AssertionError("unreachable")
