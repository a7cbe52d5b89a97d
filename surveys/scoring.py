"""Scoring, pure: favourable shares, mean scores, maturity-level distributions and trust picks.

Counts in, numbers out: the digest gets counts from SQL rollups and calls these. Nothing here
touches the database or knows about people; a percentage is None when there is nothing to divide.

Stored answers keep the option's score as given and a valence with reverse scoring already
applied, so a Split built from stored valences is already reverse-scored, while a mean of stored
scores is reversed here (`mean_score(..., reverse=True, bounds=scale.bounds)`).
"""

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

    @classmethod
    def from_valences(cls, counts: Mapping[int, int]) -> Split:
        """From answer counts per stored valence (+1, 0, -1), which already carry reverse scoring."""
        return cls(counts.get(1, 0), counts.get(0, 0), counts.get(-1, 0))


def option_split(counts: Mapping[str, int], valences: Mapping[str, int], *, reverse: bool = False) -> Split:
    """From answer counts per option value and the scale's valences (`Scale.valences()`).

    "Not sure" on the yes / no / not sure scale is neutral, so it lands in `neutral` and is reported
    on its own rather than folded into either side. `reverse` flips favourable and unfavourable for
    negatively worded items; options the scale does not know are not counted.
    """
    sign = -1 if reverse else 1
    by: dict[int, int] = {1: 0, 0: 0, -1: 0}
    for option, n in counts.items():
        if option in valences:
            by[sign * valences[option]] += n
    return Split.from_valences(by)


def mean_score(score_sum: int, n: int, *, reverse: bool = False, bounds: tuple[int, int] = (1, 4)) -> float | None:
    """Mean of the scores as given; for a reverse-scored item mirrored within the scale's `bounds`."""
    if not n:
        return None
    mean = score_sum / n
    if reverse:
        mean = bounds[0] + bounds[1] - mean
    return round(mean, 2)


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


@dataclass(frozen=True)
class LevelDistribution:
    """How answers to one strand question fell over the four maturity levels (1-4)."""

    counts: tuple[int, int, int, int]

    @property
    def n(self) -> int:
        return sum(self.counts)

    @property
    def pcts(self) -> tuple[float, float, float, float] | None:
        if not self.n:
            return None
        a, b, c, d = (round(100.0 * x / self.n, 1) for x in self.counts)
        return a, b, c, d

    @property
    def median(self) -> float | None:
        return median_level(dict(zip(LEVELS, self.counts, strict=True)))


def level_distribution(counts: Mapping[int, int]) -> LevelDistribution:
    """From counts per level (the stored score of a strand answer); other scores are ignored."""
    a, b, c, d = (counts.get(level, 0) for level in LEVELS)
    return LevelDistribution((a, b, c, d))


@dataclass(frozen=True)
class StrandSummary:
    """A strand check-in: where people see the school now, where it should be in a year, the gap."""

    now: LevelDistribution
    future: LevelDistribution

    @property
    def gap(self) -> float | None:
        """Median in a year minus median now: how far people want to move (negative: backwards)."""
        a, b = self.now.median, self.future.median
        return None if a is None or b is None else b - a


def strand_summary(now: Mapping[int, int], future: Mapping[int, int]) -> StrandSummary:
    return StrandSummary(level_distribution(now), level_distribution(future))


@dataclass(frozen=True)
class Named:
    """How often one trust behaviour was named in one perspective ("self" or "team").

    `n` is how many people did the exercise for that perspective (its participation rows), so
    the shares say "named strong by 3 of 7". Each person names a behaviour at most once per
    perspective, so `strong` and `weak` count people.
    """

    strong: int
    weak: int
    n: int

    @property
    def strong_pct(self) -> float | None:
        return round(100.0 * self.strong / self.n, 1) if self.n else None

    @property
    def weak_pct(self) -> float | None:
        return round(100.0 * self.weak / self.n, 1) if self.n else None

    @property
    def net_pct(self) -> float | None:
        """Strong minus weak, as a share of the people who took part: -100 to +100."""
        return round(100.0 * (self.strong - self.weak) / self.n, 1) if self.n else None

    @property
    def lean(self) -> int:
        """+1 if more people call it a strength than a weakness, -1 the other way, 0 if level."""
        return (self.strong > self.weak) - (self.weak > self.strong)


def self_team_gap(self_view: Named, team_view: Named) -> float | None:
    """Net share for oneself minus net share for the team, in points; positive means members
    rate themselves higher on this behaviour than they rate the team."""
    a, b = self_view.net_pct, team_view.net_pct
    return None if a is None or b is None else round(a - b, 1)


def disagreement(self_view: Named, team_view: Named) -> int:
    """Where self and team views of a behaviour point opposite ways, from aggregate counts.

    +1: more people name it a strength of their own than a weakness, while more name it a weakness
    of the team than a strength (members see in themselves what they miss in the team); -1 the
    reverse; 0 otherwise, including when either side is level or empty. Answers cannot be joined
    per person, so this compares the two groups of counts, never any one person's two answers.
    """
    if self_view.lean and team_view.lean and self_view.lean != team_view.lean:
        return self_view.lean
    return 0
