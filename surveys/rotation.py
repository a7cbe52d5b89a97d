"""Which items a round asks: every item once per cycle, each cycle in a fresh seeded order."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Asked:
    """One item asked in an earlier round, and the cycle it counted toward."""

    item_id: str
    cycle: int


@dataclass(frozen=True)
class Pick:
    item_id: str
    cycle: int


def cycle_order(item_ids: Sequence[str], seed: int, bank_id: str, cycle: int) -> list[str]:
    """The order of one cycle: deterministic from the survey's seed, different each cycle."""
    order = sorted(set(item_ids))
    random.Random(f"{seed}:{bank_id}:{cycle}").shuffle(order)
    return order


def pick_items(item_ids: Sequence[str], history: Sequence[Asked], n: int, *, seed: int, bank_id: str) -> list[Pick]:
    """The next `n` items of a bank for a survey, given what it has asked before.

    The current bank decides what is owed: an item added mid-cycle is owed in this cycle, a
    removed one is simply no longer owed, and a reworded one keeps its id and so its place.
    """
    current = sorted(set(item_ids))
    if not current or n <= 0:
        return []
    cycle = max((a.cycle for a in history), default=0)
    asked = {a.item_id for a in history if a.cycle == cycle}
    picks: list[Pick] = []
    while len(picks) < min(n, len(current)):
        taken = {p.item_id for p in picks}
        owed = [i for i in cycle_order(current, seed, bank_id, cycle) if i not in asked and i not in taken]
        if not owed:
            cycle += 1
            asked = set()
            continue
        for item_id in owed[: n - len(picks)]:
            picks.append(Pick(item_id, cycle))
        if len(picks) < n:
            # This cycle is spent; the rest of the round starts the next one, skipping what this
            # round already holds (`taken`) so no item is asked twice in one message.
            cycle += 1
            asked = set()
    return picks
