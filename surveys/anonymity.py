"""The anonymity policy: respondent keys and small-cell suppression."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

MIN_K = 3
DEFAULT_K = 5


def respondent_key(secret: bytes, round_id: int, item_id: str, user_id: str) -> str:
    """Unique per person within one round and item, and unlinkable across rounds and items."""
    message = f"{round_id}|{item_id}|{user_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def effective_k(k: int) -> int:
    return max(MIN_K, k)


@dataclass(frozen=True)
class Cell:
    key: str
    n: int


def suppressed_keys(cells: Sequence[Cell], k: int) -> set[str]:
    """Keys of the cells in one breakdown that must be hidden.

    A cell with fewer than k people is hidden. If exactly one is hidden while a total is shown,
    the total minus the others would give it away, so the next smallest is hidden too.
    """
    k = effective_k(k)
    hidden = {c.key for c in cells if c.n < k}
    if len(hidden) == 1:
        visible = sorted((c for c in cells if c.key not in hidden), key=lambda c: (c.n, c.key))
        if visible:
            hidden.add(visible[0].key)
    return hidden
