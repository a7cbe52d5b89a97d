"""Hiding small groups within one breakdown, so that no figure has fewer than k people behind it.

A breakdown is one total split into disjoint cells: one item in one round, split by school. A
cell with fewer than k people is hidden. Then, while the hidden cells together have fewer than k
people, the smallest shown cell is hidden too: otherwise the total minus the shown cells would
give away the hidden ones (exactly one hidden school, or two hidden schools of two people each).
If the hidden cells together stay under k, the total itself is under k and is hidden as well.

Empty cells (nobody answered) hide nothing and protect nothing: they are shown as empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from surveys.anonymity import effective_k


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
