"""JPD groups (issue 29): every group reciprocal, no one in two groups, and as many people grouped
as a brute-force search over all pairings finds on small random instances."""

from __future__ import annotations

from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.jpd.matching import Volunteer, Why, form_groups, gives

TOPICS = ["questioning", "feedback", "behaviour", "reading"]


@st.composite
def volunteers(draw: st.DrawFn) -> list[Volunteer]:
    n = draw(st.integers(0, 8))
    topic_sets = st.frozensets(st.sampled_from(TOPICS), max_size=3)
    return [
        Volunteer(f"u{i}", draw(topic_sets), draw(topic_sets), draw(st.sampled_from(["maths", "english", "science"])))
        for i in range(n)
    ]


def best_coverage(vs: list[Volunteer]) -> int:
    """The most people any set of disjoint two-way pairs can hold, by trying them all."""
    edges = [(a.id, b.id) for a, b in combinations(vs, 2) if gives(a, b) and gives(b, a)]

    def best(i: int, used: frozenset[str]) -> int:
        if i == len(edges):
            return 0
        a, b = edges[i]
        skip = best(i + 1, used)
        if a in used or b in used:
            return skip
        return max(skip, 2 + best(i + 1, used | {a, b}))

    return best(0, frozenset())


@settings(max_examples=300, deadline=None)
@given(volunteers())
def test_groups_are_reciprocal_disjoint_and_as_large_as_brute_force_finds(vs: list[Volunteer]) -> None:
    exchange = form_groups(vs)
    by_id = {v.id: v for v in vs}
    seen: list[str] = []
    for group in exchange.groups:
        seen += group.members
        for giving in group.givings:
            giver, receiver = by_id[giving.giver], by_id[giving.receiver]
            assert giving.topics and set(giving.topics) == gives(giver, receiver)
        assert {g.giver for g in group.givings} == set(group.members) == {g.receiver for g in group.givings}
    assert len(seen) == len(set(seen))
    assert set(seen) | set(exchange.unmatched) == set(by_id) and not set(seen) & set(exchange.unmatched)
    assert exchange.matched == best_coverage(vs)


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
        "gil": Why.NO_TWO_WAY,
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
