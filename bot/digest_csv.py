"""The digest as CSV: one row per figure, aggregates only (never a response row).

Every row comes from the digest model, so the numbers are the JSON's numbers, hidden cells
included as rows with `suppressed` true and their shares empty.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from surveys.digest import Digest, IndexPoint, LevelShare, Share

COLUMNS = [
    "section",
    "bank_id",
    "key",
    "label",
    "segment",
    "segment_label",
    "facet",
    "round_seq",
    "cycle",
    "n",
    "favourable_pct",
    "neutral_pct",
    "unfavourable_pct",
    "change_pts",
    "z",
    "trend",
    "median",
    "gap",
    "beginning",
    "developing",
    "embedding",
    "leading",
    "strong",
    "weak",
    "net_pct",
    "audience_size",
    "rate_pct",
    "suppressed",
]

Row = dict[str, Any]


def _share(cell: Share | IndexPoint) -> Row:
    return {
        "n": None if cell.suppressed else cell.n,
        "favourable_pct": cell.favourable_pct,
        "neutral_pct": cell.neutral_pct,
        "unfavourable_pct": cell.unfavourable_pct,
        "suppressed": cell.suppressed,
    }


def _levels(cell: LevelShare) -> Row:
    row: Row = {
        "facet": cell.facet,
        "segment": cell.segment or "",
        "n": None if cell.suppressed else cell.n,
        "favourable_pct": cell.favourable_pct,
        "median": cell.median,
        "suppressed": cell.suppressed,
    }
    row.update(cell.levels or {})
    return row


def digest_rows(digest: Digest) -> list[Row]:
    labels = {s.segment: s.label for s in digest.segments}
    rows: list[Row] = []
    for r in digest.participation.trend:
        rows.append(
            {
                "section": "participation",
                "key": f"round-{r.round_seq}",
                "round_seq": r.round_seq,
                "n": r.answers_per_item,
                "audience_size": r.audience_size,
                "rate_pct": r.rate_pct,
                "suppressed": False,
            }
        )
    for audit in digest.audits:
        for point in [*audit.trend, audit.index]:
            key = "now" if point.cycle is None else f"cycle-{point.cycle}"
            rows.append(
                {"section": "index", "bank_id": audit.bank_id, "key": key, "cycle": point.cycle, **_share(point)}
            )
            for s in point.segments:
                rows.append(
                    {
                        "section": "index",
                        "bank_id": audit.bank_id,
                        "key": key,
                        "cycle": point.cycle,
                        "segment": s.segment,
                        "segment_label": s.label,
                        **_share(s),
                    }
                )
        for a in audit.aspects:
            rows.append({"section": "aspect", "bank_id": audit.bank_id, "key": a.aspect, "label": a.label, **_share(a)})
    for item in digest.items:
        base = {"bank_id": item.bank_id, "key": item.item_id, "label": item.label}
        rows.append(
            {
                "section": "item",
                **base,
                "round_seq": item.round_seq,
                "cycle": item.cycle,
                "change_pts": item.change_pts,
                "z": item.z,
                "trend": item.trend,
                **_share(item),
            }
        )
        if item.previous is not None:
            p = item.previous
            rows.append({"section": "item-previous", **base, "round_seq": p.round_seq, "cycle": p.cycle, **_share(p)})
        for cell in item.segments:
            rows.append(
                {
                    "section": "item",
                    **base,
                    "round_seq": item.round_seq,
                    "cycle": item.cycle,
                    "segment": cell.segment,
                    "segment_label": cell.label,
                    **_share(cell),
                }
            )
    for strands in digest.strands:
        for dim in strands.dimensions:
            rows.append(
                {
                    "section": "dimension",
                    "bank_id": strands.bank_id,
                    "key": dim.dimension,
                    "label": dim.title,
                    "facet": "now",
                    "n": None if dim.suppressed else dim.n,
                    "favourable_pct": dim.favourable_pct,
                    "median": dim.median_now,
                    "gap": dim.gap,
                    "suppressed": dim.suppressed,
                }
            )
            for strand in dim.strands:
                base = {"section": "strand", "bank_id": strands.bank_id, "key": strand.strand, "label": strand.label}
                where = {"round_seq": strand.round_seq, "cycle": strand.cycle}
                for level in (strand.now, strand.future):
                    gap = strand.gap if level.facet == "now" else None
                    rows.append({**base, **where, "gap": gap, **_levels(level)})
                for g in strand.segments:
                    for level in (g.now, g.future):
                        gap = g.gap if level.facet == "now" else None
                        rows.append(
                            {
                                **base,
                                **where,
                                "gap": gap,
                                "segment_label": g.label,
                                **_levels(level),
                            }
                        )
    for b in digest.behaviours:
        for stat in b.behaviours:
            for c in stat.cells:
                rows.append(
                    {
                        "section": "behaviour",
                        "bank_id": b.bank_id,
                        "key": stat.item_id,
                        "label": stat.label,
                        "facet": c.perspective,
                        "round_seq": b.round_seq,
                        "n": None if c.suppressed else c.n,
                        "favourable_pct": c.favourable_pct,
                        "strong": c.strong,
                        "weak": c.weak,
                        "net_pct": c.net_pct,
                        "gap": stat.gap_pts,
                        "suppressed": c.suppressed,
                    }
                )
    for row in rows:
        if row.get("segment") and not row.get("segment_label"):
            row["segment_label"] = labels.get(row["segment"], row["segment"])
    return rows


def digest_csv(digest: Digest) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="raise", lineterminator="\n")
    writer.writeheader()
    for row in digest_rows(digest):
        writer.writerow({c: _cell(v) for c, v in row.items() if v is not None})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        # A school name must not become a spreadsheet formula.
        return "'" + value
    return value
