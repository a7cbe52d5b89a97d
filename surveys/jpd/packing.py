"""Packing disjoint groups of two and three, each a cycle of giving, with the HiGHS solver.

This is the kidney-exchange cycle formulation: one 0/1 variable per candidate group (a pair in
which each gives the other, or three people a -> b -> c -> a), one row per person (in at most one
chosen group), and the most valuable set of groups chosen. Finding the best packing with groups of
three is NP-hard, so a large dense pool is solved within a time limit: the linear relaxation is
solved first and rounded into a good starting packing, which the integer solver then improves and,
on the pools a school has, proves best.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np

TIME_LIMIT_S = 0.3  # for the relaxation and the integer solve together

_banner_lock = threading.Lock()
_banner_shown = False


@dataclass(frozen=True)
class Candidate:
    members: tuple[int, ...]  # indices into the pool
    value: float  # larger is better


def pack(people: int, candidates: Sequence[Candidate], start: Sequence[int] = ()) -> list[int]:
    """Indices of disjoint candidates of the greatest total value the solver finds in time.

    `start` is a disjoint packing already known (indices of candidates); the answer is never worse.
    """
    if not candidates:
        return []
    deadline = time.monotonic() + TIME_LIMIT_S
    lp = _model(people, candidates)
    relaxed = _solve(lp, deadline, integer=False)
    rounded = _round(candidates, relaxed)
    best = max([list(start), rounded], key=lambda chosen: _value(candidates, chosen))
    if time.monotonic() >= deadline:
        return best
    solved = _solve(lp, deadline, integer=True, start=best)
    chosen = [i for i, x in enumerate(solved) if x > 0.5]
    if _disjoint(candidates, chosen) and _value(candidates, chosen) >= _value(candidates, best):
        return chosen
    return best


def _value(candidates: Sequence[Candidate], chosen: Sequence[int]) -> float:
    return sum(candidates[i].value for i in chosen)


def _disjoint(candidates: Sequence[Candidate], chosen: Sequence[int]) -> bool:
    members = [m for i in chosen for m in candidates[i].members]
    return len(members) == len(set(members))


def _round(candidates: Sequence[Candidate], relaxed: Sequence[float]) -> list[int]:
    """Greedy rounding: the groups the relaxation likes most first, then any that still fit."""
    order = sorted(range(len(candidates)), key=lambda i: (-round(relaxed[i], 6), -candidates[i].value, i))
    taken: set[int] = set()
    chosen = []
    for i in order:
        members = candidates[i].members
        if not taken.intersection(members):
            chosen.append(i)
            taken.update(members)
    return chosen


def _model(people: int, candidates: Sequence[Candidate]) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    lp.num_col_ = len(candidates)
    lp.num_row_ = people
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.array([c.value for c in candidates], dtype=float)
    lp.col_lower_ = np.zeros(len(candidates))
    lp.col_upper_ = np.ones(len(candidates))
    lp.row_lower_ = np.zeros(people)
    lp.row_upper_ = np.ones(people)
    starts = np.zeros(len(candidates) + 1, dtype=np.int32)
    starts[1:] = np.cumsum([len(c.members) for c in candidates])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = np.array([m for c in candidates for m in c.members], dtype=np.int32)
    lp.a_matrix_.value_ = np.ones(int(starts[-1]))
    return lp


def _solve(lp: highspy.HighsLp, deadline: float, integer: bool, start: Sequence[int] = ()) -> list[float]:
    highs = _highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("time_limit", max(deadline - time.monotonic(), 0.01))
    # Group values are whole numbers: stop only when no better whole value can exist.
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 0.99)
    lp.integrality_ = [highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous] * lp.num_col_
    highs.passModel(lp)
    if integer and start:
        solution = highspy.HighsSolution()
        ones = np.zeros(lp.num_col_)
        ones[list(start)] = 1.0
        solution.col_value = list(ones)
        highs.setSolution(solution)
    highs.run()
    values: list[float] = list(highs.getSolution().col_value)
    return values if len(values) == lp.num_col_ else [0.0] * lp.num_col_


def _highs() -> highspy.Highs:
    """A solver; the first one made in a process prints HiGHS's banner on standard output, which
    would land in the middle of a CLI's output, so that one is made with standard output closed."""
    global _banner_shown
    with _banner_lock:
        if _banner_shown:
            return highspy.Highs()  # type: ignore[no-untyped-call]
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                highs = highspy.Highs()  # type: ignore[no-untyped-call]
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_shown = True
        return highs
