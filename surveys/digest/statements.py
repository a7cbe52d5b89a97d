"""Statement audits: items with their change and its significance, aspects, and the trust index."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

from surveys.banks import Bank, Item
from surveys.digest.frame import Asked, Frame, Released, pooled_shares, pretty, shares
from surveys.digest.model import (
    AspectStat,
    Audit,
    IndexPoint,
    ItemStat,
    Movement,
    PreviousShare,
    SegmentIndex,
    SegmentShare,
)
from surveys.digest.stats import significant, two_proportion_z
from surveys.digest.tally import Tally

TREND_CYCLES = 6
MOVED_MOST = 3


def _label(bank: Bank, item: Item) -> str:
    label = getattr(item, "label", None)
    if label:
        return str(label)
    if sum(1 for i in bank.items if i.aspect == item.aspect) == 1:
        return pretty(item.aspect)
    return item.text if len(item.text) <= 60 else item.text[:59].rsplit(" ", 1)[0] + "…"


def _neutral_label(bank: Bank, item: Item) -> str | None:
    labels = [o.label for o in bank.scale_of(item).options if o.valence == "neutral"]
    return " / ".join(labels) or None


def _change(before: Tally, after: Tally) -> tuple[float, float | None, Literal["up", "down"] | None]:
    change = round(100.0 * (after.favourable / after.n - before.favourable / before.n), 1)
    z = two_proportion_z(before.favourable, before.n, after.favourable, after.n)
    trend: Literal["up", "down"] | None = None
    if significant(z) and z is not None:
        trend = "up" if z > 0 else "down"
    return change, None if z is None else round(z, 2), trend


class StatementAudit:
    def __init__(self, frame: Frame, bank: Bank) -> None:
        self.frame = frame
        self.bank = bank
        self.asked = frame.asked(bank)
        self.history: dict[str, list[Asked]] = defaultdict(list)
        for a in self.asked:
            self.history[a.item_id].append(a)
        # Items still in the bank that a closed round has asked, in the bank's order.
        self.current = [i for i in bank.items if self.history.get(i.id)]

    def latest(self, item: Item) -> Asked:
        return self.history[item.id][-1]

    def item_stat(self, item: Item) -> ItemStat:
        f, bank = self.frame, self.bank
        latest = self.latest(item)
        rel = f.release(latest.key())
        f.note_total(rel)
        stat = ItemStat(
            item_id=item.id,
            bank_id=bank.id,
            text=item.text,
            label=_label(bank, item),
            aspect=item.aspect,
            reverse=item.reverse,
            round_seq=latest.round.seq,
            cycle=latest.cycle,
            neutral_label=_neutral_label(bank, item),
            segments=self._segment_shares(item, rel) if f.partnership else [],
            **shares(rel.total, rel.total_hidden),
        )
        if len(self.history[item.id]) > 1:
            before = self.history[item.id][-2]
            prev = f.release(before.key())
            f.note_total(prev)
            stat.previous = PreviousShare(
                item_id=item.id,
                round_seq=before.round.seq,
                cycle=before.cycle,
                **shares(prev.total, prev.total_hidden),
            )
            a, b = prev.shown_total(), rel.shown_total()
            if a is not None and b is not None and a.n and b.n:
                stat.change_pts, stat.z, stat.trend = _change(a, b)
        return stat

    def _segment_shares(self, item: Item, rel: Released) -> list[SegmentShare]:
        out = []
        for s in self.frame.segments:
            self.frame.note_segment(rel, s)
            hidden = rel.segment_hidden(s)
            out.append(
                SegmentShare(
                    segment=s,
                    label=self.frame.labels[s],
                    item_id=item.id,
                    **shares(rel.segment(s), hidden),
                )
            )
        return out

    def index_point(self, strata: list[Asked], *, cycle: int | None, label: str) -> IndexPoint:
        """The trust index over some strata: their shown totals pooled, and each school's."""
        f = self.frame
        rels = [(a, f.release(a.key())) for a in strata]
        shown = [(a, r.total) for a, r in rels if not r.total_hidden and r.total.n]
        ids = {i.id for i in self.bank.items}
        asked_ids = {a.item_id for a in strata}
        point = IndexPoint(
            bank_id=self.bank.id,
            cycle=cycle,
            label=label,
            items=[a.item_id for a, _ in shown],
            items_total=len(ids),
            complete=ids <= asked_ids,
            first_day=min((f.local_day(a.round.opened_at) for a in strata), default=None),
            last_day=max((f.local_day(a.round.closed_at or a.round.closes_at) for a in strata), default=None),
            **pooled_shares([t for _, t in shown], sum(r.total.n for _, r in rels)),
        )
        if f.partnership:
            for s in f.segments:
                cells = [(a, r.shown_segment(s)) for a, r in rels]
                seg_shown = [(a, t) for a, t in cells if t is not None and t.n]
                existing = sum(r.segment(s).n for _, r in rels)
                point.segments.append(
                    SegmentIndex(
                        segment=s,
                        label=f.labels[s],
                        bank_id=self.bank.id,
                        cycle=cycle,
                        items=[a.item_id for a, _ in seg_shown],
                        **pooled_shares([t for _, t in seg_shown], existing),
                    )
                )
        return point

    def aspects(self) -> list[AspectStat]:
        by_aspect: dict[str, list[Item]] = {}
        for item in self.current:
            by_aspect.setdefault(item.aspect, []).append(item)
        out = []
        for aspect, items in by_aspect.items():
            rels = [(i, self.frame.release(self.latest(i).key())) for i in items]
            shown = [(i, r.total) for i, r in rels if not r.total_hidden and r.total.n]
            out.append(
                AspectStat(
                    aspect=aspect,
                    label=pretty(aspect),
                    bank_id=self.bank.id,
                    items=[i.id for i, _ in shown],
                    items_hidden=[i.id for i, r in rels if r.total_hidden],
                    **pooled_shares([t for _, t in shown], sum(r.total.n for _, r in rels)),
                )
            )
        return out

    def audit(self) -> Audit:
        latest = [self.latest(i) for i in self.current]
        cycles = sorted({a.cycle for a in self.asked})[-TREND_CYCLES:]
        trend = [
            self.index_point([a for a in self.asked if a.cycle == c], cycle=c, label=f"cycle {c + 1}") for c in cycles
        ]
        aspects = self.aspects()
        ranked = sorted(
            (a for a in aspects if a.favourable_pct is not None), key=lambda a: (-(a.favourable_pct or 0), a.aspect)
        )
        count = min(3, len(ranked) // 2)
        return Audit(
            bank_id=self.bank.id,
            title=self.bank.title,
            favourable_means=favourable_means(self.bank),
            index=self.index_point(latest, cycle=None, label="now"),
            trend=trend,
            aspects=aspects,
            strongest=[a.aspect for a in ranked[:count]],
            weakest=[a.aspect for a in reversed(ranked[len(ranked) - count :])] if count else [],
        )


def favourable_means(bank: Bank) -> str:
    """Which answers count as favourable, in the bank's own labels: what every % in the digest counts."""

    def labels(valence: str) -> list[str]:
        return list(dict.fromkeys(o.label for sc in bank.scales.values() for o in sc.options if o.valence == valence))

    def either(words: list[str]) -> str:
        return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else "".join(words)

    text = either(labels("favourable"))
    if any(i.reverse for i in bank.items) and labels("unfavourable"):
        text += f" ({either(labels('unfavourable'))} on the reverse-scored items)"
    return text


def statement_sections(frame: Frame) -> tuple[list[Audit], list[ItemStat], list[Movement]]:
    audits: list[Audit] = []
    items: list[ItemStat] = []
    for bank in frame.banks("statements"):
        audit = StatementAudit(frame, bank)
        if not audit.current:
            continue
        items.extend(audit.item_stat(i) for i in audit.current)
        audits.append(audit.audit())
    # Only changes the test finds significant: an unmarked change may be chance, and "moved most"
    # would present it as news.
    significant = (i for i in items if i.change_pts and i.trend is not None)
    moved = sorted(significant, key=lambda i: (-abs(i.change_pts or 0.0), i.bank_id, i.item_id))[:MOVED_MOST]
    movements = [
        Movement(item_id=i.item_id, bank_id=i.bank_id, label=i.label, change_pts=i.change_pts or 0.0, trend=i.trend)
        for i in moved
    ]
    return audits, items, movements
