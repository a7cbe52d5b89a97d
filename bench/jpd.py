"""Benchmark 8, JPD matching: forming the exchange's groups for 300 people (issue 29: well under
a second).

Two seeded pools of 300 in six departments: a dense one (twelve topics, each person offering and
wanting one to three), where pairs hold nearly everyone, and a sparse one (thirty topics, one or
two each), where groups of three bring in many more. The figure is
`surveys.jpd.matching.form_groups`; the baseline is networkx's maximum-weight matching of pairs
alone on the same pool, built beforehand. Medians of several runs. Checks: every group a cycle of
giving, nobody in two groups, everyone grouped or told why; and people grouped against pairs alone.
"""

from __future__ import annotations

import random
import statistics
import time
from functools import partial
from itertools import combinations, permutations

import networkx as nx

from bench.report import Outcome, ratio
from surveys.jpd.matching import Volunteer, form_groups, gives

GOAL_S = 1.0
POOLS = {"dense": (12, 3), "sparse": (30, 2)}  # topics, most offered or wanted by one person


def volunteers(n: int, topics: int = 12, most: int = 3, seed: int = 2012) -> list[Volunteer]:
    rng = random.Random(seed)
    names = [f"topic-{i}" for i in range(topics)]
    return [
        Volunteer(
            f"U{i:04d}",
            frozenset(rng.sample(names, rng.randint(1, most))),
            frozenset(rng.sample(names, rng.randint(1, most))),
            f"department-{i % 6}",
        )
        for i in range(n)
    ]


def _median_seconds(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def run(people: int = 300, repeats: int = 5) -> Outcome:
    outcome = Outcome("jpd", params={"people": people, "repeats": repeats, "pools": POOLS})
    for pool, (topics, most) in POOLS.items():
        vs = volunteers(people, topics, most)
        graph = nx.Graph()
        for a, b in combinations(vs, 2):
            if gives(a, b) and gives(b, a):
                graph.add_edge(a.id, b.id, weight=len(gives(a, b)) + len(gives(b, a)))
        solver = _median_seconds(partial(nx.max_weight_matching, graph, maxcardinality=True), repeats)
        full = _median_seconds(partial(form_groups, vs), repeats)
        outcome.row(
            f"form the groups of {people} people, {pool} pool",
            round(full * 1000, 1),
            "ms",
            round(solver * 1000, 1),
            "networkx matching of pairs alone",
            ratio(full, solver),
            f"< {GOAL_S * 1000:.0f} ms",
            full < GOAL_S,
        )
        exchange = form_groups(vs)
        by_id = {v.id: v for v in vs}
        members = [m for g in exchange.groups for m in g.members]
        outcome.check(f"{pool}: nobody in two groups", len(members), len(set(members)))
        outcome.check(
            f"{pool}: every group a cycle of giving",
            True,
            all(
                any(
                    all(gives(o[k], o[(k + 1) % len(o)]) for k in range(len(o)))
                    for o in permutations(by_id[m] for m in g.members)
                )
                for g in exchange.groups
            ),
        )
        outcome.check(f"{pool}: everyone grouped or told why", people, len(members) + len(exchange.unmatched))
        pairs_only = 2 * len(nx.max_weight_matching(graph, maxcardinality=True))
        outcome.figures[pool] = {
            "grouped": len(members),
            "grouped_by_pairs_alone": pairs_only,
            "threes": sum(len(g.members) == 3 for g in exchange.groups),
            "unmatched": len(exchange.unmatched),
        }
    return outcome
