"""Answer counts per stratum and segment, added up from the rollup's groups (never from rows).

A stratum is one question in one round: (round, item, facet). Within a stratum each person
answers at most once, so its segments are disjoint groups of people and its total is their sum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from storage.rollups import AnswerCount
from surveys.scoring import LEVELS

StratumKey = tuple[int, str, str]


@dataclass
class Tally:
    """Answers in one cell: the valence split, and counts per score (the level, for strands)."""

    n: int = 0
    favourable: int = 0
    neutral: int = 0
    unfavourable: int = 0
    scores: dict[int, int] = field(default_factory=dict)

    def add(self, score: int, valence: int, n: int) -> None:
        self.n += n
        if valence > 0:
            self.favourable += n
        elif valence < 0:
            self.unfavourable += n
        else:
            self.neutral += n
        self.scores[score] = self.scores.get(score, 0) + n

    def absorb(self, other: Tally) -> None:
        self.n += other.n
        self.favourable += other.favourable
        self.neutral += other.neutral
        self.unfavourable += other.unfavourable
        for score, n in other.scores.items():
            self.scores[score] = self.scores.get(score, 0) + n

    def levels(self) -> dict[int, int]:
        """Counts per maturity level 1-4."""
        return {level: self.scores.get(level, 0) for level in LEVELS}


def pooled(tallies: Iterable[Tally]) -> Tally:
    out = Tally()
    for t in tallies:
        out.absorb(t)
    return out


def tally(rows: Iterable[AnswerCount]) -> dict[StratumKey, dict[str, Tally]]:
    """Stratum -> segment -> answers."""
    out: dict[StratumKey, dict[str, Tally]] = defaultdict(dict)
    for row in rows:
        cells = out[(row.round_id, row.item_id, row.facet)]
        cell = cells.get(row.segment)
        if cell is None:
            cell = cells[row.segment] = Tally()
        cell.add(row.score, row.valence, row.n)
    return dict(out)
