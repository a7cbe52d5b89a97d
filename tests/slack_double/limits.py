"""Deterministic, configurable rate limiting for the Slack double.

Slack's documented model (https://docs.slack.dev/apis/web-api/rate-limits):

* Web API methods are assigned tiers, limits applied per method per
  workspace per app: Tier 1 = 1+/min, Tier 2 = 20+/min, Tier 3 = 50+/min,
  Tier 4 = 100+/min.
* ``chat.postMessage`` is "special": roughly 1 message per second per
  channel with short bursts allowed, plus a workspace-wide limit.
* When exceeded Slack answers HTTP 429 with a ``Retry-After`` header (seconds)
  and ``{"ok": false, "error": "ratelimited"}``.

Everything here is **off by default**.  Limits are token buckets driven by an
injectable clock, so behaviour is deterministic for a given sequence of clock
readings.  A rejected (429) call never consumes tokens.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: Documented minimum requests/minute per tier.
TIER_PER_MINUTE: dict[int, int] = {1: 1, 2: 20, 3: 50, 4: 100}

#: Tier of every method the double implements (from Slack's method reference).
#: ``chat.postMessage`` is "special" and handled by the per-channel/workspace
#: buckets instead.
METHOD_TIERS: dict[str, int] = {
    "auth.test": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "chat.delete": 3,
    "conversations.open": 3,
    "conversations.info": 3,
    "conversations.members": 4,
    "conversations.history": 3,
    "conversations.replies": 3,
    "users.info": 4,
    "users.list": 2,
    "usergroups.users.list": 2,
    "usergroups.list": 2,
    "team.info": 3,
    "views.open": 4,
    "views.update": 4,
    "views.push": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
}


def retry_after_seconds(wait: float) -> int:
    """Slack-style Retry-After: ceiling of seconds until a token is free, min 1."""
    if math.isinf(wait):
        return 60
    return max(1, math.ceil(wait - 1e-9))


class TokenBucket:
    """Classic token bucket: ``capacity`` tokens, refilled at ``rate``/second."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = float(rate)
        self.capacity = float(max(capacity, 1))
        self.tokens = self.capacity
        self.stamp = now

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0.0 when available now)."""
        self._refill(now)
        if self.tokens >= 1.0:
            return 0.0
        if self.rate <= 0:
            return math.inf
        return (1.0 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1.0


@dataclass
class Limits:
    """Rate-limit configuration + bucket state.  All limits off by default.

    Attributes:
        per_channel_per_second: ``chat.postMessage`` refill rate per channel
            (Slack: ~1/s).  ``None`` disables.
        burst: per-channel bucket capacity (short bursts allowed).
        workspace_per_second: workspace-wide ``chat.postMessage`` rate.
            ``None`` disables.
        workspace_burst: workspace bucket capacity; defaults to
            ``max(1, ceil(workspace_per_second))``.
        method_per_minute: ``{"users.info": 100, ...}`` per-method budget; a
            bucket of ``n`` tokens refilled at ``n/60`` per second.
        clock: monotonic seconds source; inject a fake for determinism.
    """

    per_channel_per_second: float | None = None
    burst: int = 1
    workspace_per_second: float | None = None
    workspace_burst: int | None = None
    method_per_minute: dict[str, int] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[tuple, tuple[float, float, TokenBucket]] = field(default_factory=dict, repr=False)

    # -- configuration helpers -------------------------------------------------
    def use_documented_tiers(self, *, scale: float = 1.0, methods: list[str] | None = None) -> Limits:
        """Fill ``method_per_minute`` from :data:`METHOD_TIERS` (x ``scale``)."""
        for method, tier in METHOD_TIERS.items():
            if methods is None or method in methods:
                self.method_per_minute[method] = max(1, int(TIER_PER_MINUTE[tier] * scale))
        return self

    def slack_like(self) -> Limits:
        """Approximate production: 1 msg/s/channel (burst 3) + documented tiers."""
        self.per_channel_per_second = 1.0
        self.burst = 3
        return self.use_documented_tiers()

    def disable(self) -> None:
        self.per_channel_per_second = None
        self.workspace_per_second = None
        self.method_per_minute.clear()
        self.reset()

    def reset(self) -> None:
        """Forget bucket state (all buckets start full again)."""
        self._buckets.clear()

    # -- enforcement -------------------------------------------------------------
    def _bucket(self, key: tuple, rate: float, capacity: float, now: float) -> TokenBucket:
        entry = self._buckets.get(key)
        if entry is None or entry[0] != rate or entry[1] != capacity:
            bucket = TokenBucket(rate, capacity, now)
            self._buckets[key] = (rate, capacity, bucket)
            return bucket
        return entry[2]

    def admit(self, method: str, channel: str | None = None) -> int | None:
        """Admit one call: ``None`` if allowed (tokens consumed), else Retry-After seconds."""
        now = self.clock()
        buckets: list[TokenBucket] = []
        per_min = self.method_per_minute.get(method)
        if per_min is not None:
            buckets.append(self._bucket(("method", method), per_min / 60.0, per_min, now))
        if method == "chat.postMessage":
            if self.per_channel_per_second is not None and channel:
                buckets.append(self._bucket(("channel", channel), self.per_channel_per_second, self.burst, now))
            if self.workspace_per_second is not None:
                cap = self.workspace_burst or max(1, math.ceil(self.workspace_per_second))
                buckets.append(self._bucket(("workspace",), self.workspace_per_second, cap, now))
        if not buckets:
            return None
        wait = max(b.wait(now) for b in buckets)
        if wait > 0:
            return retry_after_seconds(wait)
        for b in buckets:
            b.take(now)
        return None


__all__ = ["METHOD_TIERS", "TIER_PER_MINUTE", "Limits", "TokenBucket", "retry_after_seconds"]
