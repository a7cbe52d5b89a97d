"""Scoring, pure: favourable shares, mean scores, maturity-level distributions and trust picks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LEVELS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Split:
    """How answers to one item fell, reverse scoring already applied."""

    favourable: int
    neutral: int
    unfavourable: int

    @property
    def n(self) -> int:
        return self.favourable + self.neutral + self.unfavourable

    def pct(self, part: int) -> float | None:
        return round(100.0 * part / self.n, 1) if self.n else None

    @property
    def favourable_pct(self) -> float | None:
        return self.pct(self.favourable)

    @property
    def neutral_pct(self) -> float | None:
        return self.pct(self.neutral)

    @property
    def unfavourable_pct(self) -> float | None:
        return self.pct(self.unfavourable)


def mean_score(score_sum: int, n: int) -> float | None:
    return round(score_sum / n, 2) if n else None


def median_level(distribution: Mapping[int, int]) -> float | None:
    """The median of answers on the 1-4 maturity scale, from counts per level (x.5 between two)."""
    n = sum(distribution.get(level, 0) for level in LEVELS)
    if n == 0:
        return None
    ordered = [level for level in LEVELS for _ in range(distribution.get(level, 0))]
    mid = n // 2
    return float(ordered[mid]) if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def level_gap(now: Mapping[int, int], future: Mapping[int, int]) -> float | None:
    """How far people want the school to move in a year: median then minus median now."""
    a, b = median_level(now), median_level(future)
    return None if a is None or b is None else b - a
