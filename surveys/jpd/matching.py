"""Groups for a joint practice development (JPD) exchange: everyone in a group gives and gains.

Hargreaves (2012) starts JPD without a deficit model: each person says what they could offer
someone else and what they would like to gain from someone else, and groups are formed so that
every member both teaches and learns. Here a group is a pair in which each offers the other a
topic the other wants: the 2-cycles of the kidney-exchange formulation. They are found with
networkx's maximum-weight matching (Edmonds' blossom algorithm): first as many people as can be
paired at all (`maxcardinality`), then, among those pairings, the most shared topics and the
most pairs across departments or schools.

Groups of three (a gives to b, b to c, c to a) are not formed yet: networkx has no cycle packing,
and a solver that does it (OR-Tools CP-SAT) is a heavier dependency to weigh first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import networkx as nx

# A pair across departments or schools counts as much as this many extra shared topics.
MIX_BONUS = 2


@dataclass(frozen=True)
class Volunteer:
    """One person's answers: topic ids they could offer and would like to gain, and their unit."""

    id: str
    offers: frozenset[str]
    wants: frozenset[str]
    unit: str = ""  # department or school: pairs across units are preferred


@dataclass(frozen=True)
class Giving:
    giver: str
    receiver: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    members: tuple[str, ...]
    givings: tuple[Giving, ...]


class Why:
    """Why a volunteer was left without a group, in words the coordinator can act on."""

    NOBODY_WANTS = "nobody wanted what they offer"
    NOBODY_OFFERS = "nobody offered what they want"
    NO_TWO_WAY = "no one who wanted what they offer also offered what they want"
    TAKEN = "everyone they could pair with was paired with someone else"


@dataclass(frozen=True)
class Exchange:
    groups: tuple[Group, ...]
    unmatched: dict[str, str]  # volunteer id -> Why

    @property
    def matched(self) -> int:
        return sum(len(g.members) for g in self.groups)


def gives(a: Volunteer, b: Volunteer) -> frozenset[str]:
    """What a could offer that b would like to gain."""
    return a.offers & b.wants


def _weight(a: Volunteer, b: Volunteer) -> int:
    return len(gives(a, b)) + len(gives(b, a)) + (MIX_BONUS if a.unit != b.unit else 0)


def form_groups(volunteers: Sequence[Volunteer]) -> Exchange:
    """Pairs in which each offers the other something wanted, covering as many people as possible."""
    by_id = {v.id: v for v in volunteers}
    graph = nx.Graph()
    graph.add_nodes_from(sorted(by_id))
    for a, b in combinations(sorted(volunteers, key=lambda v: v.id), 2):
        if gives(a, b) and gives(b, a):
            graph.add_edge(a.id, b.id, weight=_weight(a, b))
    pairs = sorted(tuple(sorted(p)) for p in nx.max_weight_matching(graph, maxcardinality=True))
    groups = tuple(_group(by_id[x], by_id[y]) for x, y in pairs)
    placed = {m for g in groups for m in g.members}
    unmatched = {v.id: _why(v, volunteers, graph) for v in volunteers if v.id not in placed}
    return Exchange(groups, unmatched)


def _group(a: Volunteer, b: Volunteer) -> Group:
    return Group(
        (a.id, b.id),
        (Giving(a.id, b.id, tuple(sorted(gives(a, b)))), Giving(b.id, a.id, tuple(sorted(gives(b, a))))),
    )


def _why(v: Volunteer, everyone: Iterable[Volunteer], graph: nx.Graph) -> str:
    others = [o for o in everyone if o.id != v.id]
    if not any(gives(v, o) for o in others):
        return Why.NOBODY_WANTS
    if not any(gives(o, v) for o in others):
        return Why.NOBODY_OFFERS
    if graph.degree(v.id) == 0:
        return Why.NO_TWO_WAY
    return Why.TAKEN
