"""The anonymity policy: respondent keys and small-cell suppression."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

MIN_K = 3
DEFAULT_K = 5


def respondent_key(secret: bytes, round_id: int, item_id: str, user_id: str) -> str:
    """Unique per person within one round and item, and unlinkable across rounds and items."""
    message = f"{round_id}|{item_id}|{user_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def effective_k(k: int) -> int:
    return max(MIN_K, k)


# Hiding small groups within one breakdown (one total split into disjoint cells, e.g. one item in
# one round split by school). A cell with fewer than k people is hidden; then, while the hidden
# cells together have fewer than k people, the smallest shown cell is hidden too, or the total
# minus the shown cells would give them away (one hidden school, or two hidden schools of two).
# Empty cells hide nothing and protect nothing.


@dataclass(frozen=True)
class Hiding:
    """Which cells of a breakdown are hidden, and why."""

    below_k: frozenset[str]
    complementary: frozenset[str]

    @property
    def hidden(self) -> frozenset[str]:
        return self.below_k | self.complementary


def below_k(n: int, k: int) -> bool:
    """A group too small to show: somebody, but fewer than k people."""
    return 0 < n < effective_k(k)


def hide(counts: Mapping[str, int], k: int) -> Hiding:
    """The cells of one breakdown (cell -> people) that must be hidden."""
    k = effective_k(k)
    small = {key for key, n in counts.items() if below_k(n, k)}
    extra: set[str] = set()
    while 0 < sum(counts[key] for key in small | extra) < k:
        spare = sorted((n, key) for key, n in counts.items() if n > 0 and key not in small and key not in extra)
        if not spare:
            break
        extra.add(spare[0][1])
    return Hiding(frozenset(small), frozenset(extra))
