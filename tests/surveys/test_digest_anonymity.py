"""No group of fewer than k people can be recovered from a digest, whatever its figures are combined.

An attacker holds every figure the digest publishes: totals, schools, aspects, trust indexes per
cycle and per school, each item now and the cycle before (and so the change), strands and their
dimensions. Each figure is a sum over "atoms": one question (round, item, facet) in one school.
Adding and subtracting any number of figures, in any combination, reaches exactly the linear span
of those sums. So the test below works out that span (over the atoms that hold answers) and
looks for every group of atoms inside it whose answers have fewer than k people behind them.

A group's people: within one question, schools are different people, so they add up; across
questions the same people may answer again, so the group counts only as many as its largest
question. A vector in the span takes one value on each region of atoms that lie in exactly the
same figures, so a recoverable group is a union of regions, and only regions under k can be
part of a group under k. The search tries every union of those.

It runs on the seeded partnership, on random partnerships (hypothesis), and on two leaky
publications to show it finds leaks.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.db import Database
from storage.models import Round, Survey
from storage.rollups import AnswerCount
from surveys import operations
from surveys.anonymity import too_small
from surveys.banks import BankRegistry
from surveys.comments import batches, comment_threshold
from surveys.digest import Digest, assemble
from surveys.digest.frame import Frame
from tests.surveys.digest_seed import LEAD, SCHOOLS, STRANDS, K, seed

Atom = tuple[int, str, str, str]  # round seq, item, facet, school


def people(group: Iterable[Atom], n: Mapping[Atom, int]) -> int:
    per_question: dict[tuple[int, str, str], int] = defaultdict(int)
    for atom in group:
        per_question[atom[:3]] += n[atom]
    return max(per_question.values(), default=0)


def regions_and_span(n: Mapping[Atom, int], figures: Iterable[Iterable[Atom]]) -> tuple[list[set[Atom]], Any]:
    """The regions (atoms lying in exactly the same figures) and the span's complement: a vector u
    over the regions is a combination of figures exactly when `null.T @ u == 0`."""
    live = {a for a, count in n.items() if count > 0}
    cells = [frozenset(a for a in f if a in live) for f in figures]
    cells = [c for c in cells if c]
    signature: dict[Atom, tuple[int, ...]] = {a: tuple(i for i, c in enumerate(cells) if a in c) for a in live}
    regions_by_sig: dict[tuple[int, ...], set[Atom]] = defaultdict(set)
    for atom, sig in signature.items():
        if sig:
            regions_by_sig[sig].add(atom)
    regions = list(regions_by_sig.values())
    if not regions:
        return [], np.zeros((0, 0))
    matrix = np.array([[1.0 if next(iter(r)) in c else 0.0 for r in regions] for c in cells])
    _, sv, vt = np.linalg.svd(matrix)
    rank = int((sv > 1e-9).sum())
    return regions, vt[rank:].T


def recoverable_small_groups(n: Mapping[Atom, int], figures: Iterable[Iterable[Atom]], k: int) -> list[set[Atom]]:
    """Every group of atoms with 1..k-1 people whose answers some combination of figures reveals."""
    regions, null = regions_and_span(n, figures)
    if not regions:
        return []
    small = [i for i, r in enumerate(regions) if people(r, n) < k]
    assert len(small) <= 22, f"{len(small)} small regions: too many to try every union"
    found: list[set[Atom]] = []

    def search(start: int, chosen: list[int], atoms: set[Atom]) -> None:
        for j in range(start, len(small)):
            group = atoms | regions[small[j]]
            if people(group, n) >= k:
                continue
            picked = [*chosen, small[j]]
            u = np.zeros(len(regions))
            u[picked] = 1.0
            if null.shape[1] == 0 or np.abs(null.T @ u).max() < 1e-7:
                found.append(group)
            search(j + 1, picked, group)

    search(0, [], set())
    return found


# -- unanimity: a recoverable group whose every answer fell on one side ------------------------
#
# A figure publishes, besides how many people stand behind it, how many of them fell on each side
# that the digest prints a share of: favourable and unfavourable for a statement, Embedding or
# Leading for a strand. If some combination of figures with non-negative weights adds up a group
# whose side count is 0 (or all of it), each of its people is known to have answered that way:
# the weighted sum is 0 only if every term is. So for each side and each extreme, the regions at
# that extreme are candidates, and the question is whether the span holds a non-negative vector
# on them alone. That cone is non-trivial exactly when it has an extreme ray, a vector of the
# subspace with d - 1 chosen coordinates zero (d its dimension): the search tries every choice.

Sides = Mapping[Atom, Mapping[str, int]]


def nonnegative_in_span(null: Any, support: list[int]) -> bool:
    """Whether a non-zero, non-negative combination of figures lies on the `support` regions alone."""
    if not support:
        return False
    if null.shape[1] == 0:
        return True  # every region is a figure of its own
    m = null.T[:, support]
    if (np.abs(m).max(axis=0) < 1e-9).any():
        return True  # one region on its own is a combination of figures
    _, sv, vt = np.linalg.svd(m)
    basis = vt[int((sv > 1e-9).sum()) :]  # the subspace of combinations living on `support`
    d = basis.shape[0]
    if d == 0:
        return False
    assert d <= 4, f"a {d}-dimensional space of combinations: too many rays to try"
    for zeros in itertools.combinations(range(len(support)), d - 1):
        if zeros:
            sub = basis[:, list(zeros)].T
            _, sv2, vt2 = np.linalg.svd(sub)
            if int((sv2 > 1e-9).sum()) != d - 1:
                continue
            x = basis.T @ vt2[-1]
        else:
            x = basis[0]
        if np.abs(x).max() > 1e-9 and ((x > -1e-9).all() or (x < 1e-9).all()):
            return True
    return False


def recoverable_unanimity(
    n: Mapping[Atom, int], sides: Sides, figures: Iterable[Iterable[Atom]]
) -> list[tuple[str, str]]:
    """Every (side, "none" or "all") some combination of shown figures proves for a group."""
    regions, null = regions_and_span(n, figures)
    found = []
    names = sorted({side for atom in sides for side in sides[atom]})
    for side in names:
        for extreme in ("none", "all"):
            support = []
            for i, region in enumerate(regions):
                if not all(side in sides.get(a, {}) for a in region):
                    continue
                count = sum(sides[a][side] for a in region)
                people_in = sum(n[a] for a in region)
                if count == (0 if extreme == "none" else people_in):
                    support.append(i)
            if nonnegative_in_span(null, support):
                found.append((side, extreme))
    return found


def sides_of(answers: Iterable[Any]) -> dict[Atom, dict[str, int]]:
    """Per atom, the counts the digest prints a share of."""
    out: dict[Atom, dict[str, int]] = {}
    for a in answers:
        atom = (a.round_seq, a.item_id, a.facet, a.segment)
        counts = out.setdefault(atom, {"high": 0} if a.facet else {"favourable": 0, "unfavourable": 0})
        if a.facet:
            counts["high"] += a.score >= 3
        elif a.valence > 0:
            counts["favourable"] += 1
        elif a.valence < 0:
            counts["unfavourable"] += 1
    return out


def published_figures(
    digest: Digest, asked: Mapping[tuple[str, int], int], schools: list[str], *, counts: bool = False
) -> list[set[Atom]]:
    """Every shown figure of the digest as the set of atoms it adds up.

    `asked` maps (item, cycle) to the round that asked it, from the test's own plan. With
    `counts`, also every hidden figure that still publishes how many people stand behind it:
    those add to what the people counts can be combined into, though not the shares.
    """
    figures: list[set[Atom]] = []

    def told(cell: Any) -> bool:
        return not cell.suppressed or (counts and bool(getattr(cell, "n", 0)))

    latest = {i.item_id: i.round_seq for i in digest.items}

    def every(seq: int, item: str, facet: str = "") -> set[Atom]:
        return {(seq, item, facet, s) for s in schools}

    for item in digest.items:
        if told(item):
            figures.append(every(item.round_seq, item.item_id))
        if item.previous is not None and told(item.previous):
            figures.append(every(item.previous.round_seq, item.item_id))
        for cell in item.segments:
            if told(cell):
                figures.append({(item.round_seq, item.item_id, "", cell.segment)})
    for audit in digest.audits:
        for point in [audit.index, *audit.trend]:

            def where(item_id: str, cycle: int | None = point.cycle) -> int:
                return latest[item_id] if cycle is None else asked[(item_id, cycle)]

            if told(point):
                figures.append(set().union(*(every(where(i), i) for i in point.items)))
            for cell in point.segments:
                if told(cell):
                    figures.append({(where(i), i, "", cell.segment) for i in cell.items})
        for aspect in audit.aspects:
            if told(aspect):
                figures.append(set().union(*(every(latest[i], i) for i in aspect.items)))
    for strands in digest.strands:
        for dim in strands.dimensions:
            seq_of = {s.strand: s.round_seq for s in dim.strands}
            if dim.included:
                figures.append(set().union(*(every(seq_of[s], s, "now") for s in dim.included)))
                figures.append(set().union(*(every(seq_of[s], s, "future") for s in dim.included)))
            for s in dim.strands:
                for cell in (s.now, s.future):
                    if told(cell):
                        figures.append(every(s.round_seq, s.strand, cell.facet))
                for g in s.segments:
                    for cell in (g.now, g.future):
                        if told(cell):
                            figures.append({(s.round_seq, s.strand, cell.facet, g.segment)})
                if s.previous is not None:
                    if s.previous.median_now is not None:
                        figures.append(every(s.previous.round_seq, s.strand, "now"))
                    if s.previous.median_future is not None:
                        figures.append(every(s.previous.round_seq, s.strand, "future"))
    return figures


def behaviours_safe(digest: Digest, k: int) -> None:
    """Behaviour counts are published for everyone together, per perspective, only above k."""
    for b in digest.behaviours:
        for stat in b.behaviours:
            for cell in stat.cells:
                if cell.strong is not None or cell.favourable_pct is not None:
                    assert b.respondents[cell.perspective] >= k and not cell.suppressed


def unanimity_and_hidden_counts_safe(digest: Digest) -> None:
    """No shown share of a single question is 0 % or 100 % (that would tell each person's answer),
    and no hidden figure publishes how many stand behind it."""
    cells = [c for i in digest.items for c in [i, *i.segments]]
    cells += [c for s in digest.strands for d in s.dimensions for st in d.strands for c in [st.now, st.future]]
    assert cells
    for c in cells:
        if c.suppressed:
            assert c.n is None and c.favourable_pct is None
        elif c.n:
            assert c.favourable_pct not in (0.0, 100.0), c
            assert getattr(c, "unfavourable_pct", None) not in (0.0, 100.0), c


async def test_k_lowered_after_rounds_closed_shows_nothing_more(db: Database, banks: BankRegistry) -> None:
    s = await seed(db, banks)
    before = await operations.digest_for(db, banks, s.survey_id, now=s.now)
    async with db.session() as session:
        survey = await session.get(Survey, s.survey_id)
        assert survey is not None
        survey.k = 3
    after = await operations.digest_for(db, banks, s.survey_id, now=s.now)
    assert after.model_dump(exclude={"generated_at", "k", "hidden_note", "hidden"}) == before.model_dump(
        exclude={"generated_at", "k", "hidden_note", "hidden"}
    )


# -- the seeded partnership --------------------------------------------------------------------


async def test_no_group_under_k_is_recoverable_from_the_seeded_partnership(db: Database, banks: BankRegistry) -> None:
    s = await seed(db, banks)
    digest = await operations.digest_for(db, banks, s.survey_id, now=s.now)
    n: dict[Atom, int] = defaultdict(int)
    for a in s.answers:
        n[(a.round_seq, a.item_id, a.facet, a.segment)] += 1
    asked = {(ref["item"], ref["cycle"]): seq for seq, r in s.rounds.items() if r.closed for ref in r.refs}
    figures = published_figures(digest, asked, list(SCHOOLS))
    assert len(figures) > 100
    assert recoverable_small_groups(n, figures, K) == []
    assert recoverable_small_groups(n, published_figures(digest, asked, list(SCHOOLS), counts=True), K) == []
    sides = sides_of(s.answers)
    assert recoverable_unanimity(n, sides, figures) == []
    behaviours_safe(digest, K)

    unanimity_and_hidden_counts_safe(digest)

    # The same search finds the leak when a school hidden only to protect a smaller one is shown.
    def size(i: object, c: object) -> int:
        return n[(i.round_seq, i.item_id, "", c.segment)]  # type: ignore[attr-defined]

    item = next(i for i in digest.items if any(c.suppressed and size(i, c) >= K for c in i.segments))
    shield = next(c for c in item.segments if c.suppressed and size(item, c) >= K)
    leaky = [*figures, {(item.round_seq, item.item_id, "", shield.segment)}]
    leaks = recoverable_small_groups(n, leaky, K)
    assert leaks and all(0 < people(g, n) < K for g in leaks)


async def test_under_the_old_rule_unanimous_schools_are_found(
    db: Database, banks: BankRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before unanimity was disclosure, the seeded partnership published 0 % and 100 % shares."""
    s = await seed(db, banks)
    monkeypatch.setattr(Frame, "_telling", lambda self, key, t: False)
    digest = await operations.digest_for(db, banks, s.survey_id, now=s.now)
    n: dict[Atom, int] = defaultdict(int)
    for a in s.answers:
        n[(a.round_seq, a.item_id, a.facet, a.segment)] += 1
    asked = {(ref["item"], ref["cycle"]): seq for seq, r in s.rounds.items() if r.closed for ref in r.refs}
    found = recoverable_unanimity(n, sides_of(s.answers), published_figures(digest, asked, list(SCHOOLS)))
    assert ("favourable", "none") in found or ("unfavourable", "none") in found, found


async def test_under_the_old_rule_the_counts_of_hidden_schools_give_small_groups_away(
    db: Database, banks: BankRegistry
) -> None:
    """Before, a hidden cell still published its n: a school of two, hidden, said "n = 2"."""
    s = await seed(db, banks)
    digest = await operations.digest_for(db, banks, s.survey_id, now=s.now)
    n: dict[Atom, int] = defaultdict(int)
    for a in s.answers:
        n[(a.round_seq, a.item_id, a.facet, a.segment)] += 1
    asked = {(ref["item"], ref["cycle"]): seq for seq, r in s.rounds.items() if r.closed for ref in r.refs}
    hidden = [(i, c) for i in digest.items for c in i.segments if c.suppressed]
    assert hidden and all(c.n is None for _, c in hidden)
    for item, cell in hidden:
        cell.n = n[(item.round_seq, item.item_id, "", cell.segment)]
    leaks = recoverable_small_groups(n, published_figures(digest, asked, list(SCHOOLS), counts=True), K)
    assert leaks and all(0 < people(g, n) < K for g in leaks)


def test_the_search_finds_a_unanimous_school_behind_a_total_less_the_others() -> None:
    """The remainder: a total and every school but one shown gives the last one's split."""
    a, b, c = ((1, "q", "", school) for school in "ABC")
    n = {a: 10, b: 6, c: 8}
    sides = {
        a: {"favourable": 5, "unfavourable": 3},
        b: {"favourable": 6, "unfavourable": 0},
        c: {"favourable": 4, "unfavourable": 2},
    }
    old_rule = [{a, b, c}, {a}, {c}]  # B hidden as unanimous, but the total still shown
    assert ("favourable", "all") in recoverable_unanimity(n, sides, old_rule)
    assert ("unfavourable", "none") in recoverable_unanimity(n, sides, old_rule)
    assert recoverable_unanimity(n, sides, [{a}, {c}]) == []  # the total hidden too
    # Weights need not be 1: twice one figure less another can isolate a group as well.
    d = (1, "q", "", "D")
    n2 = {a: 4, b: 4, d: 4}
    sides2 = {a: {"favourable": 2}, b: {"favourable": 0}, d: {"favourable": 3}}
    assert recoverable_unanimity(n2, sides2, [{a, b}, {a, d}, {d}]) == [("favourable", "none")]


def test_the_search_finds_two_small_schools_behind_a_total() -> None:
    """Hiding two schools of two people under a shown total is not enough: together they are four."""
    n = {(1, "q", "", "A"): 2, (1, "q", "", "B"): 2, (1, "q", "", "C"): 10}
    total = set(n)
    shown = [total, {(1, "q", "", "C")}]
    assert recoverable_small_groups(n, shown, 5) == [{(1, "q", "", "A"), (1, "q", "", "B")}]
    assert recoverable_small_groups(n, [total], 5) == []


# -- random partnerships -------------------------------------------------------------------------


def _survey(schools: list[str], k: int) -> Survey:
    return Survey(
        id=1,
        name="Random",
        bank_ids=[LEAD, STRANDS],
        audience_kind="channels",
        audience=schools,
        segment_labels={},
        digest_channel="C0LEADERS",
        k=k,
    )


START = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


@st.composite
def partnerships(
    draw: st.DrawFn, banks: BankRegistry
) -> tuple[Survey, list[Round], list[AnswerCount], dict[Atom, int]]:
    lead = [i.id for i in banks[LEAD].items]
    strands = [i.id for i in banks[STRANDS].items][:2]
    schools = [f"C0S{i}" for i in range(draw(st.integers(2, 4)))]
    k = draw(st.sampled_from([3, 5]))
    size = st.integers(0, 8)
    rounds: list[Round] = []
    rows: list[AnswerCount] = []
    n: dict[Atom, int] = {}
    for seq in range(1, draw(st.integers(2, 7)) + 1):
        pair = ((seq - 1) % 5) * 2
        cycle = (seq - 1) // 5
        refs: list[dict[str, Any]] = [
            {"bank": LEAD, "version": 1, "item": lead[pair + j], "cycle": cycle} for j in range(2)
        ]
        refs.append({"bank": STRANDS, "version": 1, "item": strands[seq % 2], "cycle": 0})
        opened = START + dt.timedelta(weeks=seq - 1)
        rounds.append(
            Round(
                id=seq,
                survey_id=1,
                seq=seq,
                slot=opened,
                opened_at=opened,
                closes_at=opened + dt.timedelta(days=3),
                closed_at=None,
                items=refs,
                audience_size=40,
            )
        )
        for ref in refs:
            facets = ("now", "future") if ref["bank"] == STRANDS else ("",)
            for facet in facets:
                for school in schools:
                    count = draw(size)
                    n[(seq, ref["item"], facet, school)] = count
                    if not count:
                        continue
                    if facet:
                        high = draw(st.integers(0, count))
                        for level, c in ((draw(st.integers(3, 4)), high), (draw(st.integers(1, 2)), count - high)):
                            if c:
                                rows.append(AnswerCount(seq, ref["item"], facet, school, level, 0, c))
                    else:
                        fav = draw(st.integers(0, count))
                        unfav = draw(st.integers(0, count - fav))
                        for score, valence, c in ((3, 1, fav), (2, 0, count - fav - unfav), (1, -1, unfav)):
                            if c:
                                rows.append(AnswerCount(seq, ref["item"], facet, school, score, valence, c))
    return _survey(schools, k), rounds, rows, n


def sides_of_rows(rows: Iterable[AnswerCount]) -> dict[Atom, dict[str, int]]:
    out: dict[Atom, dict[str, int]] = {}
    for r in rows:
        atom = (r.round_id, r.item_id, r.facet, r.segment)
        counts = out.setdefault(atom, {"high": 0} if r.facet else {"favourable": 0, "unfavourable": 0})
        if r.facet:
            counts["high"] += r.n if r.score >= 3 else 0
        elif r.valence:
            counts["favourable" if r.valence > 0 else "unfavourable"] += r.n
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_group_under_k_is_recoverable_from_random_partnerships(banks: BankRegistry, data: st.DataObject) -> None:
    survey, rounds, rows, n = data.draw(partnerships(banks))
    now = rounds[-1].opened_at + dt.timedelta(days=4)
    digest = assemble(survey, rounds, rows, banks, now=now)
    asked = {(ref["item"], ref["cycle"]): r.seq for r in rounds for ref in r.items}
    figures = published_figures(digest, asked, list(survey.audience))
    k = max(3, survey.k)
    assert recoverable_small_groups(n, published_figures(digest, asked, list(survey.audience), counts=True), k) == []
    assert recoverable_unanimity(n, sides_of_rows(rows), figures) == []
    for cell in (c for i in digest.items for c in [i, *i.segments]):
        assert cell.suppressed or not cell.n or cell.n >= k


# -- comment batches -------------------------------------------------------------------------------


def pooled_until_enough(counts: list[tuple[int, int]], threshold: int) -> list[list[int]]:
    """The old rule: rounds piled up until their comments together reached the threshold."""
    released: list[list[int]] = []
    pending: list[int] = []
    total = 0
    for round_id, c in counts:
        if c:
            pending.append(round_id)
            total += c
        if total >= threshold:
            released.append(pending)
            pending, total = [], 0
    return released


@st.composite
def comment_histories(draw: st.DrawFn) -> tuple[dict[int, set[str]], int]:
    """Who wrote a comment in each sealed round (one each at most), from a small staff room."""
    staff = [f"U{i:02d}" for i in range(draw(st.integers(1, 30)))]
    rounds = {
        seq: set(draw(st.lists(st.sampled_from(staff), unique=True))) if staff else set()
        for seq in range(1, draw(st.integers(1, 12)) + 1)
    }
    return rounds, comment_threshold(draw(st.sampled_from([3, 5, 12])))


@settings(max_examples=200, deadline=None)
@given(history=comment_histories())
def test_every_released_comment_batch_comes_from_enough_different_people(
    history: tuple[dict[int, set[str]], int],
) -> None:
    writers, threshold = history
    released, _ = batches([(seq, len(people)) for seq, people in writers.items()], threshold)
    for batch in released:
        assert len(set().union(*(writers[seq] for seq in batch))) >= threshold


def test_under_the_old_rule_one_person_across_rounds_made_a_batch() -> None:
    writers = {seq: {"U01"} for seq in range(1, 11)}  # the same one person, ten rounds running
    counts = [(seq, len(people)) for seq, people in writers.items()]
    [batch] = pooled_until_enough(counts, 10)
    assert len(set().union(*(writers[seq] for seq in batch))) == 1
    assert batches(counts, 10) == ([], True)


# -- tiny audiences --------------------------------------------------------------------------------


@given(size=st.integers(0, 60), k=st.integers(1, 20))
def test_an_audience_that_cannot_reach_twice_k_is_refused_naming_the_rule(size: int, k: int) -> None:
    """Where everyone asked is fewer than 2k, a figure at k covers most of a known handful of
    people, one step from unanimous; such an audience is refused (the old rule took any)."""
    why = too_small("The channel #staff", size, k)
    assert (why is not None) == (size < 2 * max(3, k))
    if why is not None:
        assert why.startswith(f"The channel #staff has {size} ")
        assert f"twice the anonymity threshold, k = {max(3, k)}" in why
