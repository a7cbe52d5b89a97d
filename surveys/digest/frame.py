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
from zoneinfo import ZoneInfo

from storage.models import Round, Survey
from storage.rollups import AnswerCount
from surveys.anonymity import Hiding, below_k, effective_k, hide, unanimous
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
    # Why the total is hidden: "below_k", or "unanimous" (its own shares, or what the hidden
    # schools' answers come to, are 0 % or 100 %); None when shown.
    total_reason: str | None = None

    def shown_total(self) -> Tally | None:
        return None if self.total_hidden else self.total

    def segment(self, segment: str) -> Tally:
        return self.segments.get(segment) or Tally()

    def segment_hidden(self, segment: str) -> bool:
        # A total under k hides every school in it; one hidden for unanimity leaves the shown ones be.
        below = self.total_reason == "below_k" and self.segment(segment).n > 0
        return below or segment in self.hiding.hidden

    def shown_segment(self, segment: str) -> Tally | None:
        return None if self.segment_hidden(segment) else self.segment(segment)


class ShareFields(TypedDict):
    n: int | None
    favourable_pct: float | None
    neutral_pct: float | None
    unfavourable_pct: float | None
    suppressed: bool


def shares(t: Tally, hidden: bool) -> ShareFields:
    """The common fields of a Share cell; a hidden one publishes no count either."""
    return ShareFields(
        n=None if hidden else t.n,
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
        self._by_id = {r.id: r for r in self.rounds}
        self._strand_items = {i.id for b in self.banks("strands") for i in b.items}
        self._picked_items = {i.id for b in self.banks("picks") for i in b.items} | {
            b.exercise_id for b in self.banks("picks")
        }
        self.closed = [r for r in self.rounds if is_closed(r, now)]
        # The k the digest states: the largest of its rounds' own (each figure uses its round's).
        self.stated_k = max([self.k, *(r.k or 0 for r in self.closed)])
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

    def _telling(self, key: StratumKey, t: Tally) -> bool:
        """Whether the cell's shares, as the digest prints them, are unanimous (surveys/anonymity.py)."""
        if key[1] in self._strand_items:
            levels = t.levels()
            return unanimous(t.n, levels[3] + levels[4])
        if key[1] in self._picked_items:
            return False  # behaviour counts: see surveys/digest/behaviours.py
        return unanimous(t.n, t.favourable, t.unfavourable)

    def k_of(self, round_id: int) -> int:
        """The round's own k, fixed when it opened: a later edit of the survey never lowers it."""
        round_ = self._by_id.get(round_id)
        return max(self.k, round_.k if round_ is not None and round_.k else 0)

    def local_day(self, at: dt.datetime) -> dt.date:
        """The day `at` fell on in the survey's time zone (naive times are UTC, as stored)."""
        aware = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
        return aware.astimezone(ZoneInfo(self.survey.timezone or "UTC")).date()

    def release(self, key: StratumKey) -> Released:
        rel = self._released.get(key)
        if rel is None:
            k = self.k_of(key[0])
            segments = self.cells(key)
            total = pooled(segments.values())
            hiding = hide({s: t.n for s, t in segments.items()}, k)
            # A school whose every answer falls on one side tells each of its people's answer.
            one_sided = frozenset(s for s, t in segments.items() if s not in hiding.hidden and self._telling(key, t))
            hiding = Hiding(hiding.below_k, hiding.complementary, one_sided)
            reason = "below_k" if below_k(total.n, k) else "unanimous" if self._telling(key, total) else None
            if reason is None and hiding.hidden:
                # The total less the shown schools is what the hidden ones said, together.
                rest = pooled(t for s, t in segments.items() if s in hiding.hidden)
                reason = "unanimous" if self._telling(key, rest) else None
            rel = Released(key, total, reason is not None, dict(segments), hiding, reason)
            self._released[key] = rel
        return rel

    # -- the ledger of hidden figures the digest publishes ---------------------------------

    def note(self, key: StratumKey, segment: str | None, reason: str | None) -> None:
        if reason is not None:
            self._ledger.setdefault((key, segment), reason)

    def note_total(self, rel: Released) -> None:
        self.note(rel.key, None, rel.total_reason)

    def note_segment(self, rel: Released, segment: str) -> None:
        if not rel.segment_hidden(segment):
            return
        if rel.total_reason == "below_k":
            reason = rel.total_reason
        elif segment in rel.hiding.unanimous:
            reason = "unanimous"
        else:
            reason = "complementary" if segment in rel.hiding.complementary else "below_k"
        self.note(rel.key, segment, reason)

    def hidden_counts(self) -> tuple[int, int, int]:
        """Hidden figures: below k, to protect another, and because everyone answered alike."""
        reasons = list(self._ledger.values())
        return reasons.count("below_k"), reasons.count("complementary"), reasons.count("unanimous")
