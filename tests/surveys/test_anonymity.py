from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from surveys.anonymity import MIN_K, coarse, effective_k, hide
from surveys.keys import RoundKey, subject


def key(secret: bytes, nonce: bytes, round_id: int, item: str, user: str) -> str:
    return RoundKey.derive(secret, round_id, nonce).respondent(subject("bank", item), user)


def test_key_is_stable_for_one_person_round_and_item() -> None:
    assert key(b"s", b"n", 1, "item", "U1") == key(b"s", b"n", 1, "item", "U1")


def test_key_changes_with_round_item_person_secret_and_the_rounds_nonce() -> None:
    base = key(b"s", b"n", 1, "item", "U1")
    others = {
        key(b"s", b"n", 2, "item", "U1"),
        key(b"s", b"n", 1, "other", "U1"),
        key(b"s", b"n", 1, "item", "U2"),
        key(b"t", b"n", 1, "item", "U1"),
        key(b"s", b"m", 1, "item", "U1"),
    }
    assert base not in others and len(others) == 5


def test_key_does_not_contain_the_user_id_and_the_round_key_never_prints() -> None:
    assert "U123ABC" not in key(b"s", b"n", 1, "item", "U123ABC")
    round_key = RoundKey.derive(b"s", 1, b"n")
    assert round_key.key.hex() not in repr(round_key) and round_key.key.hex() not in str([round_key])


def test_open_rounds_are_shown_coarsely_and_never_below_k() -> None:
    assert [coarse(n, 5) for n in (0, 4, 5, 6, 9, 10, 14, 15)] == [None, None, 5, 5, 5, 10, 10, 15]
    assert coarse(8, 7) == 7 and coarse(10.5, 7) == 10


def test_k_never_below_three() -> None:
    assert effective_k(1) == MIN_K == 3
    assert effective_k(7) == 7


def test_small_cell_hidden_with_next_smallest() -> None:
    assert hide({"a": 2, "b": 9, "c": 6, "d": 20}, 5).hidden == {"a", "c"}


def test_two_small_cells_below_k_together_take_a_third() -> None:
    # 2 + 2 hidden under a shown total would still reveal a group of four
    hiding = hide({"a": 2, "b": 2, "c": 30, "d": 8}, 5)
    assert hiding.below_k == {"a", "b"} and hiding.complementary == {"d"}


def test_nothing_hidden_when_all_large_and_empty_cells_ignored() -> None:
    assert hide({"a": 5, "b": 8, "c": 0}, 5).hidden == set()


@given(
    st.dictionaries(st.text("abcdefgh", min_size=1, max_size=2), st.integers(0, 40), min_size=1, max_size=8),
    st.integers(1, 10),
)
def test_hidden_cells_never_add_up_to_a_small_group(counts: dict[str, int], k: int) -> None:
    """Total minus the shown cells is the hidden cells' sum: it must be 0 or at least k, or the total is tiny."""
    hiding = hide(counts, k)
    kk = effective_k(k)
    assert all(key in hiding.hidden for key, n in counts.items() if 0 < n < kk)
    hidden_sum = sum(counts[key] for key in hiding.hidden)
    assert hidden_sum == 0 or hidden_sum >= kk or sum(counts.values()) < kk
