from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from surveys.anonymity import MIN_K, Cell, effective_k, respondent_key, suppressed_keys


def test_key_is_stable_for_one_person_round_and_item() -> None:
    assert respondent_key(b"s", 1, "item", "U1") == respondent_key(b"s", 1, "item", "U1")


def test_key_changes_with_round_item_person_and_secret() -> None:
    base = respondent_key(b"s", 1, "item", "U1")
    others = {
        respondent_key(b"s", 2, "item", "U1"),
        respondent_key(b"s", 1, "other", "U1"),
        respondent_key(b"s", 1, "item", "U2"),
        respondent_key(b"t", 1, "item", "U1"),
    }
    assert base not in others and len(others) == 4


def test_key_does_not_contain_the_user_id() -> None:
    assert "U123ABC" not in respondent_key(b"s", 1, "item", "U123ABC")


def test_k_never_below_three() -> None:
    assert effective_k(1) == MIN_K == 3
    assert effective_k(7) == 7


def test_small_cell_hidden_with_next_smallest() -> None:
    cells = [Cell("a", 2), Cell("b", 9), Cell("c", 6), Cell("d", 20)]
    assert suppressed_keys(cells, 5) == {"a", "c"}


def test_two_small_cells_protect_each_other() -> None:
    cells = [Cell("a", 2), Cell("b", 3), Cell("c", 30)]
    assert suppressed_keys(cells, 5) == {"a", "b"}


def test_nothing_hidden_when_all_large() -> None:
    assert suppressed_keys([Cell("a", 5), Cell("b", 8)], 5) == set()


@given(st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=8), st.integers(1, 10))
def test_no_hidden_cell_can_be_recovered_by_subtraction(ns: list[int], k: int) -> None:
    """Whatever is visible, no single hidden group below k can be worked out from the total."""
    cells = [Cell(str(i), n) for i, n in enumerate(ns)]
    hidden = suppressed_keys(cells, k)
    kk = effective_k(k)
    assert all(c.key in hidden for c in cells if c.n < kk)
    # total - visible = sum of hidden; it must never be the size of exactly one small group
    # a single hidden group could be worked out as the total minus the visible ones
    if len(cells) > 1:
        assert len(hidden) != 1
