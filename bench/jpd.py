"""Benchmark 8, JPD matching: forming the exchange's groups for 300 people (issue 29: well under
a second).

Seeded random answers: twelve topics, each person offering and wanting one to three, in six
departments. The figure is `surveys.jpd.matching.form_groups`; the baseline is networkx's
maximum-weight matching alone on the same graph, built beforehand (the solver's own share).
Medians of several runs. Checks: every group two-way and nobody in two groups.
"""

from __future__ import annotations

import random
import statistics
import time
from itertools import combinations

import networkx as nx

from bench.report import Outcome, ratio
from surveys.jpd.matching import Volunteer, form_groups, gives

TOPICS = [f"topic-{i}" for i in range(12)]
GOAL_S = 1.0


def volunteers(n: int, seed: int = 2012) -> list[Volunteer]:
    rng = random.Random(seed)
    return [
        Volunteer(
            f"U{i:04d}",
            frozenset(rng.sample(TOPICS, rng.randint(1, 3))),
            frozenset(rng.sample(TOPICS, rng.randint(1, 3))),
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
    outcome = Outcome("jpd", params={"people": people, "repeats": repeats})
    vs = volunteers(people)
    graph = nx.Graph()
    for a, b in combinations(vs, 2):
        if gives(a, b) and gives(b, a):
            graph.add_edge(a.id, b.id, weight=len(gives(a, b)) + len(gives(b, a)))
    solver = _median_seconds(lambda: nx.max_weight_matching(graph, maxcardinality=True), repeats)
    full = _median_seconds(lambda: form_groups(vs), repeats)
    outcome.row(
        f"form the groups of {people} people",
        round(full * 1000, 1),
        "ms",
        round(solver * 1000, 1),
        "networkx matching alone",
        ratio(full, solver),
        f"< {GOAL_S * 1000:.0f} ms",
        full < GOAL_S,
    )
    exchange = form_groups(vs)
    by_id = {v.id: v for v in vs}
    members = [m for g in exchange.groups for m in g.members]
    outcome.check("nobody in two groups", len(members), len(set(members)))
    outcome.check(
        "every group two-way",
        True,
        all(
            gives(by_id[g.members[0]], by_id[g.members[1]]) and gives(by_id[g.members[1]], by_id[g.members[0]])
            for g in exchange.groups
        ),
    )
    outcome.check("everyone grouped or told why", people, len(members) + len(exchange.unmatched))
    outcome.figures.update(grouped=len(members), unmatched=len(exchange.unmatched), edges=graph.number_of_edges())
    return outcome
