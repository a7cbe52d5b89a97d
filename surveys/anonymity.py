"""The anonymity policy: the threshold k, coarse counts of open rounds, and small-cell suppression.

Respondent keys live in surveys/keys.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

MIN_K = 3
DEFAULT_K = 5


def effective_k(k: int) -> int:
    return max(MIN_K, k)


# An open round's participation moves with every answer, so anyone watching it could tell when
# each person answered. It is shown only from k up, and then in steps of this size.
COARSE_STEP = 5


def counted_until(now: dt.datetime) -> int:
    """Up to which click time an open round's answers are counted for showing: the start of the hour.

    A count that moved the moment someone clicked would tell whoever watched it when they
    answered; counted as of the last full hour it changes at most once an hour, whatever the
    clicks. The value is in the held answers' `seq` unit (the click's time in microseconds).
    """
    hour = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return int(hour.timestamp() * 1_000_000)


def coarse(n: float, k: int) -> int | None:
    """An open round's count as it may be shown: None below k, else rounded down to a step (never below k)."""
    if n < k:
        return None
    whole = int(n)
    return max(k, whole - whole % COARSE_STEP)


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
    # Cells of k or more whose every answer fell on one side (`unanimous`).
    unanimous: frozenset[str] = frozenset()

    @property
    def hidden(self) -> frozenset[str]:
        return self.below_k | self.complementary | self.unanimous


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


def unanimous(n: int, *shown: int) -> bool:
    """A figure that tells every person's answer: one of its shown counts is none or all of `n`.

    "100 % agree" says what each of them answered; "0 % disagree" says what none of them did.
    The counts held to it are the shares a digest prints: favourable and unfavourable for a
    statement (not neutral: most scales have none, and it is 0 % there), the share at Embedding or
    Leading for a strand.
    """
    return n > 0 and any(count in (0, n) for count in shown)


def named_by_all(n: int, *named: int) -> bool:
    """A behaviour every one of `n` people named (strong, or weak): it tells each person's pick.

    A picks exercise asks each person for a few behaviours out of many, so most behaviours are
    named by nobody; "nobody named it" rules out one of a dozen or more choices for each person
    and tells no one's pick, so unlike a statement's 0 % it is shown.
    """
    return n > 0 and any(count == n for count in named)


# An audience that cannot reach twice k: even with nearly everyone answering, a figure would rest
# on a handful of people, and a school where almost all answered alike would be one step from
# unanimous. Such surveys are refused where the platform can say how many people a place has.
AUDIENCE_FACTOR = 2


def smallest_audience(k: int) -> int:
    return AUDIENCE_FACTOR * effective_k(k)


def too_small(where: str, size: int, k: int) -> str | None:
    """Why an audience of `size` people (in `where`) is refused, or None when it is big enough."""
    need = smallest_audience(k)
    if size >= need:
        return None
    people = "person" if size == 1 else "people"
    rule = f"twice the anonymity threshold, k = {effective_k(k)}"
    return f"{where} has {size} {people}: at least {need} are needed ({rule})."
