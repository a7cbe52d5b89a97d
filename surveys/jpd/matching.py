"""Groups for a joint practice development (JPD) exchange: everyone in a group gives and gains.

Hargreaves (2012) starts JPD without a deficit model: each person says what they could offer
someone else and what they would like to gain from someone else, and groups are formed so that
every member both teaches and learns. A group is a cycle of giving (the kidney-exchange
formulation): a pair in which each offers the other a topic the other wants, or three people in
which a gives to b, b to c and c to a.

The order of preference: as many people in a group as possible; then as few groups of three as
that allows (a pair is easier to arrange, so a three is there to bring someone in); then the most
shared topics and the most groups across departments or schools. Pairs come from networkx's
maximum-weight matching (Edmonds' blossom algorithm); when pairs leave out someone who could be in
a group of three, the whole packing goes to the HiGHS solver (`packing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx

from surveys.jpd.packing import Candidate, pack

# A group across departments or schools counts as much as this many extra shared topics.
MIX_BONUS = 2
SCORE_CAP = 99
# Past this many possible threes (a dense pool, where pairs hold nearly everyone), only the threes
# with someone the pairs left out are offered to the solver, to keep within a second.
TRIPLE_LIMIT = 20_000


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
    NO_GROUP = "no pair or three could be formed in which they both give and gain"
    TAKEN = "everyone they could be grouped with was needed in another group"


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


def form_groups(volunteers: Sequence[Volunteer]) -> Exchange:
    """Groups of two or three in which everyone gives and gains, covering as many people as possible."""
    pool = sorted(volunteers, key=lambda v: v.id)
    out = [{j for j, b in enumerate(pool) if j != i and gives(a, b)} for i, a in enumerate(pool)]
    pairs = [(i, j) for i in range(len(pool)) for j in out[i] if j > i and i in out[j]]
    matched = _pairs(pool, pairs)
    placed = {m for pair in matched for m in pair}
    chosen: list[tuple[int, ...]] = list(matched)
    into = _into(out)
    # Someone left out who both could give and could gain might fit a three: only then look for threes.
    left = [i for i in range(len(pool)) if i not in placed and out[i] and into[i]]
    triples = _triples(out, into) if left else []
    could = {m for group in pairs + triples for m in group}
    if could - placed:
        if len(triples) > TRIPLE_LIMIT:
            triples = [t for t in triples if not placed.issuperset(t)]
        candidates = [Candidate(group, _value(pool, group)) for group in pairs + triples]
        index = {c.members: i for i, c in enumerate(candidates)}
        packed = pack(len(pool), candidates, start=[index[pair] for pair in matched])
        chosen = [candidates[i].members for i in packed]
    groups = tuple(sorted((_group(pool, members) for members in chosen), key=lambda g: g.members))
    placed_ids = {m for g in groups for m in g.members}
    unmatched = {v.id: _why(i, out, into, could) for i, v in enumerate(pool) if v.id not in placed_ids}
    return Exchange(groups, unmatched)


def _pairs(pool: Sequence[Volunteer], pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The most pairs, then the most valuable: the blossom algorithm, exact and quick."""
    graph = nx.Graph()
    graph.add_weighted_edges_from((i, j, _score(pool, (i, j))) for i, j in pairs)
    return sorted(tuple(sorted(p)) for p in nx.max_weight_matching(graph, maxcardinality=True))


def _into(out: Sequence[set[int]]) -> list[set[int]]:
    into: list[set[int]] = [set() for _ in out]
    for i, receivers in enumerate(out):
        for j in receivers:
            into[j].add(i)
    return into


def _triples(out: Sequence[set[int]], into: Sequence[set[int]]) -> list[tuple[int, int, int]]:
    """Every set of three in which giving goes round (either way), each set once, sorted."""
    found = set()
    for a, receivers in enumerate(out):
        for b in receivers:
            if b > a:
                for c in out[b] & into[a]:
                    if c > a and c != b:
                        found.add(tuple(sorted((a, b, c))))
    return sorted(found)  # type: ignore[arg-type]


def _givings(pool: Sequence[Volunteer], members: Sequence[int]) -> list[Giving]:
    return [
        Giving(pool[a].id, pool[b].id, tuple(sorted(gives(pool[a], pool[b]))))
        for a in members
        for b in members
        if a != b and gives(pool[a], pool[b])
    ]


def _score(pool: Sequence[Volunteer], members: Sequence[int]) -> int:
    """Shared topics, and a bonus when the group spans departments or schools."""
    topics = sum(len(g.topics) for g in _givings(pool, members))
    mixed = len({pool[m].unit for m in members}) > 1
    return min(topics + (MIX_BONUS if mixed else 0), SCORE_CAP)


def _value(pool: Sequence[Volunteer], members: Sequence[int]) -> float:
    """Whole numbers ordered as the preference says: people first, then fewer threes, then score."""
    n = len(pool)
    three = SCORE_CAP * (n + 1)  # more than any difference in scores
    person = three * (n + 1)  # more than any difference in threes and scores
    return float(person * len(members) - (three if len(members) == 3 else 0) + _score(pool, members))


def _group(pool: Sequence[Volunteer], members: Sequence[int]) -> Group:
    return Group(tuple(pool[m].id for m in sorted(members)), tuple(_givings(pool, sorted(members))))


def _why(i: int, out: Sequence[set[int]], into: Sequence[set[int]], could: set[int]) -> str:
    if not out[i]:
        return Why.NOBODY_WANTS
    if not into[i]:
        return Why.NOBODY_OFFERS
    if i not in could:
        return Why.NO_GROUP
    return Why.TAKEN
