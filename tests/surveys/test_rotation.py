from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.rotation import Asked, cycle_order, pick_items

ITEMS = [f"i{n}" for n in range(10)]


def run(items: list[str], rounds: int, n: int, seed: int = 7) -> list[list[str]]:
    history: list[Asked] = []
    out = []
    for _ in range(rounds):
        picks = pick_items(items, history, n, seed=seed, bank_id="b")
        history += [Asked(p.item_id, p.cycle) for p in picks]
        out.append([p.item_id for p in picks])
    return out


def test_every_item_once_before_any_repeats() -> None:
    asked = [i for r in run(ITEMS, 5, 2) for i in r]
    assert sorted(asked) == sorted(ITEMS)


def test_order_is_reshuffled_each_cycle_and_seeded() -> None:
    assert cycle_order(ITEMS, 1, "b", 0) != cycle_order(ITEMS, 1, "b", 1)
    assert cycle_order(ITEMS, 1, "b", 0) == cycle_order(ITEMS, 1, "b", 0)
    assert cycle_order(ITEMS, 1, "b", 0) != cycle_order(ITEMS, 2, "b", 0)


def test_round_spanning_two_cycles_has_no_duplicate() -> None:
    for r in run(ITEMS[:3], 10, 2):
        assert len(set(r)) == len(r) == 2


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 4),
    seed=st.integers(0, 2**31),
    edits=st.lists(st.tuples(st.sampled_from(["add", "remove", "none"]), st.integers(0, 30)), max_size=25),
)
def test_edits_mid_cycle_never_repeat_nor_drop(n: int, seed: int, edits: list[tuple[str, int]]) -> None:
    items = list(ITEMS)
    history: list[Asked] = []
    fresh = 100
    for op, idx in edits:
        if op == "add":
            items.append(f"new{fresh}")
            fresh += 1
        elif op == "remove" and len(items) > 1:
            items.pop(idx % len(items))
        picks = pick_items(items, history, n, seed=seed, bank_id="b")
        assert len(picks) == min(n, len(items))
        assert len({p.item_id for p in picks}) == len(picks)
        assert all(p.item_id in items for p in picks)
        for p in picks:
            # never twice in one cycle
            assert Asked(p.item_id, p.cycle) not in history
        # an item still owed in the current cycle is picked before anything from the next cycle
        current = max((a.cycle for a in history), default=0)
        owed = {i for i in items if Asked(i, current) not in history}
        if any(p.cycle > current for p in picks):
            assert owed <= {p.item_id for p in picks}
        history += [Asked(p.item_id, p.cycle) for p in picks]
