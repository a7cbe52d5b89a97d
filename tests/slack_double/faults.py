"""Fault injection for the Slack double.

Faults are keyed by Web API method name (``"chat.postMessage"``), by the
pseudo-methods ``"upload_url"`` (the file upload endpoint handed out by
``files.getUploadURLExternal``) and ``"response_url"``, or by ``"*"`` (any
method; a method-specific fault wins over ``"*"``).

One-shot faults (``fail_next``, ``rate_limit_next``, ``timeout_next``,
``drop_after_accept_next``) are queued in the order they were armed and each
affects the next ``n`` calls that get past authentication.  ``slow`` and
``random_429`` persist until cleared.  Every faulted call is recorded in
``SlackDouble.calls``.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass


@dataclass
class OneShotFault:
    kind: str  # "fail" | "rate_limit" | "timeout" | "drop_after_accept"
    remaining: int
    status: int = 500
    error: str = "internal_error"
    retry_after: int = 1
    seconds: float = 30.0


@dataclass
class _Storm:
    probability: float
    rng: random.Random
    retry_after: int


class Faults:
    def __init__(self) -> None:
        self._queues: dict[str, deque[OneShotFault]] = {}
        self._slow: dict[str, float] = {}
        self._storms: dict[str, _Storm] = {}

    # -- arming ------------------------------------------------------------------
    def _push(self, method: str, fault: OneShotFault) -> None:
        if fault.remaining < 1:
            raise ValueError("n must be >= 1")
        self._queues.setdefault(method, deque()).append(fault)

    def fail_next(self, method: str, n: int = 1, status: int = 500, *, error: str = "internal_error") -> None:
        """Next ``n`` calls answer ``status`` with ``{"ok": false, "error": error}`` (nothing recorded as posted).

        ``status=200`` simulates a Slack API error, e.g.
        ``fail_next("chat.postMessage", 1, 200, error="channel_not_found")``.
        """
        self._push(method, OneShotFault("fail", n, status=status, error=error))

    def rate_limit_next(self, method: str, n: int = 1, retry_after: int = 1) -> None:
        """Next ``n`` calls get HTTP 429 + ``Retry-After: retry_after``."""
        self._push(method, OneShotFault("rate_limit", n, status=429, error="ratelimited", retry_after=retry_after))

    def timeout_next(self, method: str, n: int = 1, *, seconds: float = 30.0) -> None:
        """Hold the next ``n`` requests open for ``seconds`` (or until ``stop()``), then answer 504.

        Use a client timeout shorter than ``seconds`` to see a client-side timeout.
        """
        self._push(method, OneShotFault("timeout", n, status=504, error="timeout", seconds=seconds))

    def drop_after_accept_next(self, method: str, n: int = 1, *, status: int = 500) -> None:
        """Process the next ``n`` calls normally (message recorded as posted) but answer ``status``.

        Simulates Slack accepting a message and the response being lost.
        """
        self._push(method, OneShotFault("drop_after_accept", n, status=status, error="internal_error"))

    def slow(self, method: str, seconds: float | None) -> None:
        """Delay every call to ``method`` by ``seconds`` (``None``/``0`` clears)."""
        if not seconds:
            self._slow.pop(method, None)
        else:
            self._slow[method] = float(seconds)

    def random_429(self, method: str, probability: float, seed: int = 0, *, retry_after: int = 1) -> None:
        """Rate-limit each call with ``probability`` using a seeded RNG (reproducible storms).

        ``probability=0`` clears the storm.
        """
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if probability == 0:
            self._storms.pop(method, None)
        else:
            self._storms[method] = _Storm(probability, random.Random(seed), retry_after)

    def clear(self, method: str | None = None) -> None:
        """Remove all faults (or only those keyed by ``method``)."""
        if method is None:
            self._queues.clear()
            self._slow.clear()
            self._storms.clear()
        else:
            self._queues.pop(method, None)
            self._slow.pop(method, None)
            self._storms.pop(method, None)

    def pending(self, method: str) -> int:
        """Remaining one-shot faults armed for ``method`` (exact key)."""
        return sum(f.remaining for f in self._queues.get(method, ()))

    # -- consumption (used by the server) -------------------------------------------
    def take(self, method: str) -> OneShotFault | None:
        for key in (method, "*"):
            queue = self._queues.get(key)
            if queue:
                fault = queue[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.popleft()
                return fault
        return None

    def delay(self, method: str) -> float:
        return self._slow.get(method, self._slow.get("*", 0.0))

    def storm(self, method: str) -> int | None:
        """Retry-After if a random 429 fires for this call, else ``None``."""
        storm = self._storms.get(method) or self._storms.get("*")
        if storm is not None and storm.rng.random() < storm.probability:
            return storm.retry_after
        return None


__all__ = ["Faults", "OneShotFault"]
