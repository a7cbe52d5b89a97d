"""Maturity strands: levels now and in a year, medians, the gap and its trend, by dimension."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

from surveys.banks import Bank, Item
from surveys.banks.model import LEVEL_NAMES
from surveys.digest.frame import Asked, Frame, Released, pretty
from surveys.digest.model import DimensionStat, LevelShare, SegmentStrand, StrandPrevious, Strands, StrandStat
from surveys.digest.stats import pct
from surveys.digest.tally import Tally, pooled
from surveys.scoring import LEVELS, level_gap, median_level

Facet = Literal["now", "future"]


def median_label(median: float | None) -> str | None:
    if median is None:
        return None
    low, high = int(median // 1), int(-(-median // 1))
    names = [LEVEL_NAMES[low - 1].capitalize(), LEVEL_NAMES[high - 1].capitalize()]
    return names[0] if low == high else f"{names[0]}–{names[1]}"


def level_share(t: Tally, hidden: bool, *, strand: str, facet: Facet, segment: str | None = None) -> LevelShare:
    levels = t.levels()
    shown = not hidden and t.n > 0
    median = median_level(levels) if shown else None
    return LevelShare(
        strand=strand,
        facet=facet,
        segment=segment,
        n=None if hidden else t.n,
        favourable_pct=pct(levels[3] + levels[4], t.n) if shown else None,
        suppressed=hidden,
        levels={LEVEL_NAMES[lv - 1]: levels[lv] for lv in LEVELS} if shown else None,
        levels_pct={LEVEL_NAMES[lv - 1]: pct(levels[lv], t.n) or 0.0 for lv in LEVELS} if shown else None,
        median=median,
        median_label=median_label(median),
    )


def _gap(now: LevelShare, future: LevelShare) -> float | None:
    if now.median is None or future.median is None:
        return None
    return future.median - now.median


class StrandBank:
    def __init__(self, frame: Frame, bank: Bank) -> None:
        self.frame = frame
        self.bank = bank
        self.history: dict[str, list[Asked]] = defaultdict(list)
        for a in frame.asked(bank):
            self.history[a.item_id].append(a)

    def _facet(self, asked: Asked, facet: Facet) -> Released:
        return self.frame.release(asked.key(facet))

    def strand(self, item: Item) -> StrandStat:
        f = self.frame
        latest = self.history[item.id][-1]
        now, future = self._facet(latest, "now"), self._facet(latest, "future")
        f.note_total(now)
        f.note_total(future)
        now_share = level_share(now.total, now.total_hidden, strand=item.id, facet="now")
        future_share = level_share(future.total, future.total_hidden, strand=item.id, facet="future")
        stat = StrandStat(
            strand=item.id,
            bank_id=self.bank.id,
            label=str(getattr(item, "label", None) or pretty(item.aspect.removeprefix("strand-"))),
            dimension=item.dimension or "",
            round_seq=latest.round.seq,
            cycle=latest.cycle,
            now=now_share,
            future=future_share,
            gap=_gap(now_share, future_share),
        )
        if len(self.history[item.id]) > 1:
            before = self.history[item.id][-2]
            prev_now, prev_future = self._facet(before, "now"), self._facet(before, "future")
            f.note_total(prev_now)
            f.note_total(prev_future)
            a = median_level(prev_now.total.levels()) if prev_now.shown_total() else None
            b = median_level(prev_future.total.levels()) if prev_future.shown_total() else None
            stat.previous = StrandPrevious(
                round_seq=before.round.seq,
                median_now=a,
                median_future=b,
                gap=None if a is None or b is None else b - a,
            )
            if a is not None and now_share.median is not None:
                stat.median_change = now_share.median - a
        if f.partnership:
            for s in f.segments:
                f.note_segment(now, s)
                f.note_segment(future, s)
                seg_now = level_share(now.segment(s), now.segment_hidden(s), strand=item.id, facet="now", segment=s)
                seg_future = level_share(
                    future.segment(s), future.segment_hidden(s), strand=item.id, facet="future", segment=s
                )
                stat.segments.append(
                    SegmentStrand(
                        segment=s, label=f.labels[s], now=seg_now, future=seg_future, gap=_gap(seg_now, seg_future)
                    )
                )
        return stat

    def section(self) -> Strands | None:
        dims: list[DimensionStat] = []
        titles = {d.id: d.title for d in self.bank.dimensions}
        order = [d.id for d in self.bank.dimensions]
        asked = [i for i in self.bank.items if self.history.get(i.id)]
        if not asked:
            return None
        for dim in order + sorted({i.dimension or "" for i in asked} - set(order)):
            strands = [self.strand(i) for i in asked if (i.dimension or "") == dim]
            if not strands:
                continue
            # A strand counts toward its dimension when both its questions are shown, so "now" and
            # "in a year" pool the same strands and the gap compares like with like.
            pairs = [
                (self._facet(self.history[s.strand][-1], "now"), self._facet(self.history[s.strand][-1], "future"))
                for s in strands
            ]
            included = [
                (s, now, future)
                for s, (now, future) in zip(strands, pairs, strict=True)
                if now.shown_total() and future.shown_total() and now.total.n and future.total.n
            ]
            now_pool = pooled(now.total for _, now, _ in included)
            future_pool = pooled(future.total for _, _, future in included)
            existing = sum(now.total.n for now, _ in pairs)
            hidden = now_pool.n == 0 and existing > 0
            levels = now_pool.levels()
            dims.append(
                DimensionStat(
                    bank_id=self.bank.id,
                    dimension=dim,
                    title=titles.get(dim, pretty(dim)),
                    n=None if hidden else now_pool.n,
                    favourable_pct=None if hidden else pct(levels[3] + levels[4], now_pool.n),
                    suppressed=hidden,
                    median_now=median_level(levels) if now_pool.n else None,
                    median_future=median_level(future_pool.levels()) if future_pool.n else None,
                    gap=level_gap(levels, future_pool.levels()),
                    included=[s.strand for s, _, _ in included],
                    strands=strands,
                )
            )
        return Strands(bank_id=self.bank.id, title=self.bank.title, dimensions=dims)


def strand_sections(frame: Frame) -> list[Strands]:
    out = []
    for bank in frame.banks("strands"):
        section = StrandBank(frame, bank).section()
        if section is not None:
            out.append(section)
    return out
