"""The digest's pure parts: the two-proportion z-test and hiding within one breakdown."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.anonymity import hide
from surveys.digest.stats import Z_95, pct, significant, two_proportion_z


def test_z_for_twenty_to_forty_percent_of_fifty() -> None:
    # pooled p = 0.3; se = sqrt(0.3 * 0.7 * (1/50 + 1/50)) = 0.091652; z = 0.2 / se
    z = two_proportion_z(10, 50, 20, 50)
    assert z == pytest.approx(2.182179, abs=1e-6)
    assert significant(z)
    assert two_proportion_z(20, 50, 10, 50) == pytest.approx(-2.182179, abs=1e-6)


def test_a_similar_change_on_fewer_answers_is_not_significant() -> None:
    z = two_proportion_z(4, 20, 8, 20)  # 20% -> 40% again, on twenty each
    assert z == pytest.approx(0.2 / math.sqrt(0.3 * 0.7 * 0.1), abs=1e-9)
    assert not significant(z)


def test_edges() -> None:
    assert two_proportion_z(0, 0, 3, 10) is None
    assert two_proportion_z(0, 10, 0, 12) == 0.0
    assert two_proportion_z(10, 10, 12, 12) == 0.0
    assert not significant(None)
    assert significant(Z_95) and significant(-Z_95) and not significant(1.95)
    assert pct(2, 3) == 66.7 and pct(1, 0) is None


def test_one_small_school_takes_the_next_smallest_with_it() -> None:
    hiding = hide({"A": 3, "B": 6, "C": 20, "D": 0}, 5)
    assert hiding.below_k == {"A"} and hiding.complementary == {"B"}


def test_two_small_schools_that_together_stay_under_k_take_one_more() -> None:
    hiding = hide({"A": 2, "B": 2, "C": 7, "D": 9}, 5)
    assert hiding.below_k == {"A", "B"} and hiding.complementary == {"C"}


def test_two_small_schools_that_together_reach_k_are_enough() -> None:
    hiding = hide({"A": 2, "B": 3, "C": 7}, 5)
    assert hiding.below_k == {"A", "B"} and hiding.complementary == frozenset()


def test_k_is_never_below_three() -> None:
    assert hide({"A": 2, "B": 9}, 1).hidden == {"A", "B"}


@given(counts=st.dictionaries(st.sampled_from("ABCDEFG"), st.integers(0, 12), min_size=1), k=st.integers(1, 8))
def test_hiding_rules(counts: dict[str, int], k: int) -> None:
    hiding = hide(counts, k)
    k = max(3, k)
    hidden_n = sum(counts[c] for c in hiding.hidden)
    total = sum(counts.values())
    assert hiding.below_k == {c for c, n in counts.items() if 0 < n < k}
    assert all(counts[c] > 0 for c in hiding.hidden)
    # The hidden cells together are nobody or at least k people, unless the whole total is under k.
    assert hidden_n == 0 or hidden_n >= k or total < k
    # Complementary cells are the smallest shown ones, added only while still needed.
    shown = [n for c, n in counts.items() if n and c not in hiding.hidden]
    assert all(counts[c] <= min(shown, default=math.inf) for c in hiding.complementary)
    if hiding.complementary:
        last = max(hiding.complementary, key=lambda c: (counts[c], c))
        assert sum(counts[c] for c in hiding.hidden - {last}) < k
