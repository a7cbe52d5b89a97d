"""The digest as plain text, for the terminal and `pulse digest --format text`."""

from __future__ import annotations

import textwrap

from bot import digest_format as fmt
from surveys.digest import Audit, Behaviours, Digest, Strands


def _participation(digest: Digest) -> list[str]:
    p = digest.participation
    if p.round_seq is None:
        return ["Participation: no round has closed yet."]
    per_item = "-" if p.answers_per_item is None else fmt.whole(p.answers_per_item)
    lines = [
        f"Participation, round {p.round_seq}: {fmt.pct(p.rate_pct)} "
        f"({per_item} of {p.audience_size} answered each item)"
    ]
    if len(p.trend) > 1:
        lines.append(
            "  last rounds: "
            + "  ".join(f"r{r.round_seq} {fmt.pct(r.rate_pct)}{'' if r.closed else ' (open)'}" for r in p.trend)
        )
    return lines


def _audit(digest: Digest, audit: Audit) -> list[str]:
    index = audit.index
    lines = [
        "",
        f"== {audit.title} ==",
        f"Trust index {fmt.figure(index)} ({fmt.answers(index)} to {len(index.items)} of {index.items_total} items)",
    ]
    if audit.favourable_means:
        lines.append(f"  {fmt.favourable_note(audit)}")
    if audit.trend:
        lines.append(
            f"  by cycle ({fmt.CYCLE_MEANS}): "
            + "  ".join(f"{fmt.cycle_label(p)} {fmt.pct(p.favourable_pct)}" for p in audit.trend)
        )
    if digest.partnership and index.segments:
        lines.append("  by school: " + "  ".join(f"{s.label} {fmt.school_figure(s)}" for s in index.segments))
    if audit.strongest:
        lines.append(
            "  strongest: "
            + ", ".join(f"{label} {share}" for label, share in fmt.ranked_aspects(audit, audit.strongest))
        )
        lines.append(
            "  weakest:   " + ", ".join(f"{label} {share}" for label, share in fmt.ranked_aspects(audit, audit.weakest))
        )
    lines += ["", f"{'favourable':>10}  {'change':>10}  {'people':>6}  item"]
    items = [i for i in digest.items if i.bank_id == audit.bank_id]
    for item in items:
        figure = "hidden" if item.suppressed else fmt.pct(item.favourable_pct)
        text = textwrap.shorten(item.text, 70, placeholder="...")
        extra = " (reverse-scored)" if item.reverse else ""
        if item.neutral_label and item.neutral_pct is not None:
            extra += f" [{item.neutral_label} {fmt.pct(item.neutral_pct)}]"
        lines.append(f"{figure:>10}  {fmt.change(item):>10}  {fmt.count(item):>6}  {text}{extra}")
    if digest.partnership:
        lines += ["", "  schools side by side:"]
        for item in items:
            cells = "  ".join(f"{s.label} {fmt.school_figure(s)}" for s in item.segments)
            lines.append(f"  {item.label}: {cells}")
    return lines


def _strands(digest: Digest, strands: Strands) -> list[str]:
    lines = ["", f"== {strands.title}: median level now -> in a year =="]
    for dim in strands.dimensions:
        lines.append(f"{dim.title}: {fmt.level_name(dim.median_now)} -> {fmt.level_name(dim.median_future)}")
        for s in dim.strands:
            if s.now.suppressed or s.now.median is None:
                lines.append(f"  {s.label}: {fmt.level_figure(s.now)} ({fmt.people(s.now)})")
                continue
            gap = f", gap {fmt.signed(s.gap)}" if s.gap is not None else ""
            lines.append(
                f"  {s.label}: {fmt.level_figure(s.now)} -> {fmt.level_figure(s.future)}{gap} ({fmt.people(s.now)})"
            )
            lines.append(f"      now: {fmt.levels(s.now)}")
    return lines


def _behaviours(digest: Digest, b: Behaviours) -> list[str]:
    lines = ["", f"== {b.title} (round {b.round_seq}) =="]
    labels = {s.item_id: s.label for s in b.behaviours}
    counts = {(c.item_id, c.perspective): c for s in b.behaviours for c in s.cells}
    for p in b.perspectives:
        if b.suppressed[p]:
            lines.append(f"{p}: hidden: fewer than {digest.k} people took part")
            continue
        strong = ", ".join(f"{labels[i]} {counts[(i, p)].strong}" for i in b.named_strong[p])
        weak = ", ".join(f"{labels[i]} {counts[(i, p)].weak}" for i in b.named_weak[p])
        lines.append(f"{p} ({b.respondents[p]} people): strong {strong or '-'}; weak {weak or '-'}")
    if b.disagreements and len(b.perspectives) > 1:
        first, second = b.perspectives[:2]
        lines.append(f"{first} and {second} disagree (net % strong minus weak):")
        for i in b.disagreements:
            lines.append(
                f"  {labels[i]}: {first} {fmt.net(counts[(i, first)])}, {second} {fmt.net(counts[(i, second)])}"
            )
    return lines


def digest_text(digest: Digest) -> str:
    lines = [f"Pulse digest: {digest.survey_name} (survey {digest.survey})", *_participation(digest)]
    for audit in digest.audits:
        lines += _audit(digest, audit)
    moved = fmt.moved_line(digest)
    if moved:
        lines += ["", moved]
    for strands in digest.strands:
        lines += _strands(digest, strands)
    for b in digest.behaviours:
        lines += _behaviours(digest, b)
    if digest.comments:
        lines += ["", "What people said:", *(f"- {fmt.one_line(c)}" for c in digest.comments)]
    note = fmt.comments_note(digest)
    if note is not None:
        lines += ["", note]
    lines += ["", *fmt.footer_lines(digest)]
    return "\n".join(lines)
