"""JPD groups (issue 29): every group reciprocal, no one in two groups, and as many people grouped,
in as few groups of three, as a brute-force search over every packing finds on small random
instances."""

from __future__ import annotations

import subprocess
import sys
from itertools import combinations, permutations
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.jpd import matching
from surveys.jpd.matching import Volunteer, Why, form_groups, gives

ROOT = Path(__file__).resolve().parents[2]
TOPICS = ["questioning", "feedback", "behaviour", "reading"]


@st.composite
def volunteers(draw: st.DrawFn) -> list[Volunteer]:
    n = draw(st.integers(0, 8))
    topic_sets = st.frozensets(st.sampled_from(TOPICS), max_size=3)
    return [
        Volunteer(f"u{i}", draw(topic_sets), draw(topic_sets), draw(st.sampled_from(["maths", "english", "science"])))
        for i in range(n)
    ]


def is_cycle(order: tuple[Volunteer, ...]) -> bool:
    return all(gives(a, order[(k + 1) % len(order)]) for k, a in enumerate(order))


def best_packing(vs: list[Volunteer]) -> tuple[int, int]:
    """(people grouped, minus groups of three) of the best packing, by trying every one."""
    groups = [frozenset(v.id for v in c) for size in (2, 3) for c in combinations(vs, size)]
    groups = [g for g in groups if any(is_cycle(o) for o in permutations([v for v in vs if v.id in g]))]

    def best(i: int, used: frozenset[str]) -> tuple[int, int]:
        if i == len(groups):
            return (0, 0)
        skip = best(i + 1, used)
        if groups[i] & used:
            return skip
        people, threes = best(i + 1, used | groups[i])
        return max(skip, (people + len(groups[i]), threes - (len(groups[i]) == 3)))

    return best(0, frozenset())


@settings(max_examples=300, deadline=None)
@given(volunteers())
def test_groups_are_reciprocal_disjoint_and_as_good_as_brute_force_finds(vs: list[Volunteer]) -> None:
    exchange = form_groups(vs)
    by_id = {v.id: v for v in vs}
    seen: list[str] = []
    for group in exchange.groups:
        seen += group.members
        for giving in group.givings:
            giver, receiver = by_id[giving.giver], by_id[giving.receiver]
            assert giving.topics and set(giving.topics) == gives(giver, receiver)
        assert {g.giver for g in group.givings} == set(group.members) == {g.receiver for g in group.givings}
        assert any(is_cycle(o) for o in permutations([by_id[m] for m in group.members]))
    assert len(seen) == len(set(seen))
    assert set(seen) | set(exchange.unmatched) == set(by_id) and not set(seen) & set(exchange.unmatched)
    threes = sum(len(g.members) == 3 for g in exchange.groups)
    assert (exchange.matched, -threes) == best_packing(vs)


def test_the_unmatched_are_told_why() -> None:
    def v(name: str, offers: set[str], wants: set[str]) -> Volunteer:
        return Volunteer(name, frozenset(offers), frozenset(wants))

    exchange = form_groups(
        [
            v("ana", {"feedback"}, {"reading"}),
            v("ben", {"reading"}, {"feedback"}),
            v("cal", {"reading"}, {"feedback"}),  # same as ben: one of them is left over
            v("dee", {"chess"}, {"reading"}),  # nobody wants chess
            v("eve", {"feedback"}, {"latin"}),  # nobody offers latin
            v("fay", {"reading"}, {"behaviour"}),  # nobody offers behaviour
            v("gil", {"reading"}, {"questioning"}),  # ana wants reading, hal offers questioning: one way each
            v("hal", {"questioning"}, {"behaviour"}),
        ]
    )
    [pair] = exchange.groups
    assert pair.members[0] == "ana" and pair.members[1] in ("ben", "cal")
    left = "cal" if pair.members[1] == "ben" else "ben"
    assert exchange.unmatched == {
        left: Why.TAKEN,
        "dee": Why.NOBODY_WANTS,
        "eve": Why.NOBODY_OFFERS,
        "fay": Why.NOBODY_OFFERS,
        "gil": Why.NO_GROUP,
        "hal": Why.NOBODY_OFFERS,
    }


def test_more_shared_topics_and_mixing_across_units_are_preferred() -> None:
    both = frozenset({"feedback", "reading"})
    a = Volunteer("a", both, both, "maths")
    b = Volunteer("b", both, both, "maths")  # same unit as a
    c = Volunteer("c", both, both, "english")
    d = Volunteer("d", frozenset({"feedback"}), frozenset({"feedback"}), "english")
    pairs = {g.members for g in form_groups([a, b, c, d]).groups}
    # Two pairs either way; the two pairings that mix units (weight 10) beat a-b with c-d (6).
    assert pairs == {("a", "d"), ("b", "c")} or pairs == {("a", "c"), ("b", "d")}


def v(name: str, offers: set[str], wants: set[str], unit: str = "") -> Volunteer:
    return Volunteer(name, frozenset(offers), frozenset(wants), unit)


def test_a_three_brings_in_people_no_pair_could() -> None:
    ring = [
        v("ana", {"feedback"}, {"reading"}),
        v("ben", {"questioning"}, {"feedback"}),
        v("cal", {"reading"}, {"questioning"}),
    ]
    [group] = form_groups(ring).groups
    assert group.members == ("ana", "ben", "cal")
    assert {(g.giver, g.receiver, g.topics) for g in group.givings} == {
        ("ana", "ben", ("feedback",)),
        ("ben", "cal", ("questioning",)),
        ("cal", "ana", ("reading",)),
    }


def test_pairs_are_kept_when_they_hold_as_many_people_as_threes_would() -> None:
    # Four people who all offer and want the same: two pairs, not a three and one left over.
    same = [v(name, {"feedback"}, {"feedback"}) for name in ("a", "b", "c", "d")]
    assert [len(g.members) for g in form_groups(same).groups] == [2, 2]


def test_a_dense_pool_past_the_limit_still_groups_everyone_it_can(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "TRIPLE_LIMIT", 0)
    # A pair plus a ring of three that needs one of the pair's people: only a three holds all five.
    pool = [
        v("a", {"x"}, {"y"}),
        v("b", {"y"}, {"x", "z"}),
        v("c", {"z"}, {"w"}),
        v("d", {"w"}, {"y"}),
        v("e", {"y"}, {"q"}),
    ]
    exchange = form_groups(pool)
    assert exchange.matched == best_packing(pool)[0]


def test_the_solver_prints_nothing_on_standard_output() -> None:
    # HiGHS prints a banner when the first solver of a process is made; a CLI's output must not carry it.
    code = (
        "from surveys.jpd.matching import Volunteer, form_groups\n"
        "ring = [Volunteer(n, frozenset({o}), frozenset({w})) for n, o, w in"
        " [('a', 'x', 'z'), ('b', 'y', 'x'), ('c', 'z', 'y'), ('d', 'x', 'x')]]\n"
        "print(len(form_groups(ring).groups))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout == "1\n"
