"""Scoring, pure: counts in, numbers out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.banks import BankRegistry
from surveys.scoring import (
    Named,
    Split,
    disagreement,
    level_distribution,
    level_gap,
    mean_score,
    median_level,
    option_split,
    self_team_gap,
    strand_summary,
)


def test_not_sure_is_neutral_and_reported_on_its_own(banks: BankRegistry) -> None:
    bank = banks["student-trust-in-staff"]
    item = bank.items[0]
    split = option_split({"yes": 6, "not-sure": 3, "no": 1}, bank.scale_of(item).valences())
    assert (split.favourable, split.neutral, split.unfavourable) == (6, 3, 1)
    assert (split.favourable_pct, split.neutral_pct, split.unfavourable_pct) == (60.0, 30.0, 10.0)


def test_reverse_item_swaps_favourable_and_unfavourable(banks: BankRegistry) -> None:
    bank = banks["staff-trust-in-one-another"]
    item = bank.item("peer-reliability")
    assert item is not None and item.reverse
    counts = {"strongly-agree": 1, "agree": 2, "disagree": 3, "strongly-disagree": 4}
    split = option_split(counts, bank.scale_of(item).valences(), reverse=item.reverse)
    assert split == Split(favourable=7, neutral=0, unfavourable=3)
    assert option_split(counts, bank.scale_of(item).valences()) == Split(3, 0, 7)


def test_unknown_options_are_not_counted() -> None:
    assert option_split({"yes": 2, "maybe": 5}, {"yes": 1, "no": -1}) == Split(2, 0, 0)


def test_split_from_stored_valences() -> None:
    assert Split.from_valences({1: 4, -1: 2}) == Split(4, 0, 2)
    assert Split(0, 0, 0).favourable_pct is None


def test_mean_score_plain_and_reverse_scored() -> None:
    assert mean_score(10, 4) == 2.5
    # answers 4,4,3,1 on a reversed 1-4 item: mirrored, 5 - 3 = 2
    assert mean_score(12, 4, reverse=True, bounds=(1, 4)) == 2.0
    assert mean_score(5, 2, reverse=True, bounds=(1, 3)) == 1.5
    assert mean_score(0, 0) is None


@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 50)), st.booleans())
def test_split_counts_every_known_answer_once(counts: dict[str, int], reverse: bool) -> None:
    valences = {"a": 1, "b": 1, "c": 0, "d": -1}
    split = option_split(counts, valences, reverse=reverse)
    assert split.n == sum(counts.values())
    flipped = option_split(counts, valences, reverse=not reverse)
    assert (split.favourable, split.neutral, split.unfavourable) == (
        flipped.unfavourable,
        flipped.neutral,
        flipped.favourable,
    )


def test_level_distribution_median_and_gap() -> None:
    now = {1: 2, 2: 5, 3: 1}
    future = {3: 4, 4: 4}
    summary = strand_summary(now, future)
    assert summary.now.counts == (2, 5, 1, 0) and summary.now.n == 8
    assert summary.now.pcts == (25.0, 62.5, 12.5, 0.0)
    assert summary.now.median == 2.0
    assert summary.future.median == 3.5
    assert summary.gap == 1.5
    assert level_gap(now, future) == 1.5
    assert strand_summary({}, future).gap is None
    assert level_distribution({}).pcts is None
    assert level_distribution({5: 3, 2: 1}).counts == (0, 1, 0, 0)


@given(st.lists(st.integers(1, 4), min_size=1, max_size=60))
def test_median_level_matches_a_sorted_list(levels: list[int]) -> None:
    counts = {lvl: levels.count(lvl) for lvl in set(levels)}
    ordered = sorted(levels)
    mid = len(ordered) // 2
    expected = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    assert median_level(counts) == expected
    assert 1 <= (median_level(counts) or 0) <= 4


def test_behaviour_counts_shares_and_lean() -> None:
    named = Named(strong=3, weak=1, n=8)
    assert (named.strong_pct, named.weak_pct, named.net_pct, named.lean) == (37.5, 12.5, 25.0, 1)
    assert Named(1, 1, 4).lean == 0 and Named(0, 2, 4).lean == -1
    assert Named(0, 0, 0).net_pct is None


@pytest.mark.parametrize(
    ("self_view", "team_view", "expected"),
    [
        (Named(4, 1, 7), Named(1, 3, 6), 1),  # members see a strength in themselves, a weakness in the team
        (Named(0, 2, 7), Named(3, 0, 6), -1),  # the reverse
        (Named(4, 1, 7), Named(5, 0, 6), 0),  # both strong
        (Named(2, 2, 7), Named(0, 4, 6), 0),  # self is level: no clear disagreement
        (Named(3, 0, 7), Named(0, 0, 0), 0),  # nobody did the team view
    ],
)
def test_self_team_disagreement(self_view: Named, team_view: Named, expected: int) -> None:
    assert disagreement(self_view, team_view) == expected


def test_self_team_gap_in_points() -> None:
    assert self_team_gap(Named(4, 0, 8), Named(1, 3, 8)) == 75.0
    assert self_team_gap(Named(4, 0, 8), Named(0, 0, 0)) is None
