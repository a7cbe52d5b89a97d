"""What every part of the digest shares: the rounds, the counts, and what may be shown.

`Frame.release` decides once per stratum (one question in one round) which of its figures are
shown; every section asks it, so a figure is hidden the same way wherever it appears. The frame
also keeps a ledger of the hidden figures the digest publishes, for the line saying what was
hidden and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict

from storage.models import Round, Survey
from storage.rollups import AnswerCount
from surveys.anonymity import Hiding, below_k, effective_k, hide
from surveys.banks import Bank, BankRegistry
from surveys.digest.stats import pct
from surveys.digest.tally import StratumKey, Tally, pooled, tally


def is_closed(round_: Round, now: dt.datetime) -> bool:
    return round_.closed_at is not None or round_.closes_at <= now


@dataclass(frozen=True)
class Asked:
    """One item asked in one closed round, and the rotation cycle it counted toward."""

    round: Round
    item_id: str
    cycle: int

    def key(self, facet: str = "") -> StratumKey:
        return (self.round.id, self.item_id, facet)


@dataclass(frozen=True)
class Released:
    """One stratum after suppression: its total and each school's cell, shown or hidden."""

    key: StratumKey
    total: Tally
    total_hidden: bool
    segments: dict[str, Tally]
    hiding: Hiding

    def shown_total(self) -> Tally | None:
        return None if self.total_hidden else self.total

    def segment(self, segment: str) -> Tally:
        return self.segments.get(segment) or Tally()

    def segment_hidden(self, segment: str) -> bool:
        return (self.total_hidden and self.segment(segment).n > 0) or segment in self.hiding.hidden

    def shown_segment(self, segment: str) -> Tally | None:
        return None if self.segment_hidden(segment) else self.segment(segment)


class ShareFields(TypedDict):
    n: int
    favourable_pct: float | None
    neutral_pct: float | None
    unfavourable_pct: float | None
    suppressed: bool


def shares(t: Tally, hidden: bool) -> ShareFields:
    """The common fields of a Share cell."""
    return ShareFields(
        n=t.n,
        favourable_pct=None if hidden else pct(t.favourable, t.n),
        neutral_pct=None if hidden else pct(t.neutral, t.n),
        unfavourable_pct=None if hidden else pct(t.unfavourable, t.n),
        suppressed=hidden,
    )


def pooled_shares(shown: Sequence[Tally], existing: int) -> ShareFields:
    """A pooled cell over shown cells; hidden only when answers exist but none can be shown."""
    total = pooled(shown)
    if total.n == 0 and existing > 0:
        return shares(Tally(n=existing), True)
    return shares(total, False)


def pretty(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


class Frame:
    def __init__(
        self,
        survey: Survey,
        rounds: Sequence[Round],
        rows: Iterable[AnswerCount],
        registry: BankRegistry,
        *,
        now: dt.datetime,
    ) -> None:
        self.survey = survey
        self.registry = registry
        self.now = now
        self.k = effective_k(survey.k)
        self.rounds = sorted(rounds, key=lambda r: r.seq)
        self.closed = [r for r in self.rounds if is_closed(r, now)]
        self.tallies = tally(rows)
        seen = sorted({s for cells in self.tallies.values() for s in cells})
        base = [str(a) for a in survey.audience] if survey.audience_kind == "channels" else []
        self.segments = base + [s for s in seen if s not in base]
        labels = survey.segment_labels or {}
        self.labels = {s: str(labels.get(s) or s) for s in self.segments}
        self._released: dict[StratumKey, Released] = {}
        self._ledger: dict[tuple[StratumKey, str | None], str] = {}

    @property
    def partnership(self) -> bool:
        return len(self.segments) > 1

    def banks(self, kind: str) -> list[Bank]:
        out = []
        for bank_id in self.survey.bank_ids:
            bank = self.registry.get(str(bank_id))
            if bank is not None and bank.kind == kind:
                out.append(bank)
        return out

    def asked(self, bank: Bank) -> list[Asked]:
        """The bank's items asked in closed rounds, oldest first, once per round and item."""
        out: list[Asked] = []
        seen: set[tuple[int, str]] = set()
        for r in self.closed:
            for ref in r.items:
                if ref.get("bank") != bank.id or (r.id, ref["item"]) in seen:
                    continue
                seen.add((r.id, ref["item"]))
                out.append(Asked(r, str(ref["item"]), int(ref.get("cycle", 1))))
        return out

    def cells(self, key: StratumKey) -> dict[str, Tally]:
        return self.tallies.get(key, {})

    def release(self, key: StratumKey) -> Released:
        rel = self._released.get(key)
        if rel is None:
            segments = self.cells(key)
            total = pooled(segments.values())
            hiding = hide({s: t.n for s, t in segments.items()}, self.k)
            rel = Released(key, total, below_k(total.n, self.k), dict(segments), hiding)
            self._released[key] = rel
        return rel

    # -- the ledger of hidden figures the digest publishes ---------------------------------

    def note(self, key: StratumKey, segment: str | None, reason: str | None) -> None:
        if reason is not None:
            self._ledger.setdefault((key, segment), reason)

    def note_total(self, rel: Released) -> None:
        self.note(rel.key, None, "below_k" if rel.total_hidden else None)

    def note_segment(self, rel: Released, segment: str) -> None:
        if not rel.segment_hidden(segment):
            return
        complementary = segment in rel.hiding.complementary and not rel.total_hidden
        self.note(rel.key, segment, "complementary" if complementary else "below_k")

    def hidden_counts(self) -> tuple[int, int]:
        reasons = list(self._ledger.values())
        return reasons.count("below_k"), reasons.count("complementary")
