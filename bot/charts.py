"""The digest's trends as a PNG, drawn with matplotlib's Agg backend (headless, no display).

One panel per audit (the trust index by cycle, and each school's in a partnership), one for
participation by round, and one for the strands (median level now and in a year). Only figures
the digest shows are drawn: a hidden figure is a gap in a line, never a point.

Figures are drawn on a `Figure` with its own Agg canvas rather than through pyplot, so nothing
global is touched and it is safe to call from a worker thread.
"""

from __future__ import annotations

import io
import math
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot import digest_format as fmt
from surveys.digest import Audit, Digest, Participation, StrandStat

MAX_AUDITS = 4
MAX_SCHOOL_LINES = 8
LEGEND_SIZE = 10
COLOURS = ["#1b6ca8", "#d1495b", "#66a182", "#edae49", "#8e6c8a", "#00798c", "#7a7a7a", "#a05195"]


def _series(ax: Axes, xs: list[int], ys: list[float | None], complete: list[bool], **style: Any) -> None:
    """One line: finished cycles solid with filled markers; a cycle still under way dashed, hollow."""
    values = [float("nan") if y is None else y for y in ys]
    done = [v if c else float("nan") for v, c in zip(values, complete, strict=True)]
    ax.plot(xs, done, marker="o", **style)
    for i, c in enumerate(complete):
        if c or math.isnan(values[i]):
            continue
        before = [j for j in range(i) if not math.isnan(values[j])]
        if before:
            j = before[-1]
            ax.plot([xs[j], xs[i]], [values[j], values[i]], ls="--", color=style["color"], lw=style.get("lw", 1.5))
        ax.plot([xs[i]], [values[i]], marker="o", ls="none", mfc="white", mec=style["color"], ms=style.get("ms", 6) + 1)


def _audit_panel(ax: Axes, audit: Audit, partnership: bool) -> None:
    labels = [f"{p.label}{'' if p.complete else ' so far'}\n{fmt.cycle_dates(p)}" for p in audit.trend]
    xs = list(range(len(labels)))
    complete = [p.complete for p in audit.trend]
    _series(ax, xs, [p.favourable_pct for p in audit.trend], complete, lw=2.5, ms=7, color="#222", label="all")
    if partnership:
        schools = {s.segment: s.label for p in audit.trend for s in p.segments}
        for i, (segment, label) in enumerate(list(schools.items())[:MAX_SCHOOL_LINES]):
            ys: list[float | None] = []
            for p in audit.trend:
                cell = next((s for s in p.segments if s.segment == segment), None)
                ys.append(None if cell is None else cell.favourable_pct)
            if all(y is None for y in ys):
                continue  # nothing shown for this school: no empty line in the legend
            _series(ax, xs, ys, complete, lw=1.4, ms=4, color=COLOURS[i % len(COLOURS)], label=label[:24])
    if not all(complete):
        ax.plot([], [], marker="o", ls="--", color="#777", mfc="white", label="cycle not finished yet")
    # Below the plot, in type a phone can read: never over the lines.
    ax.legend(fontsize=LEGEND_SIZE, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=3, frameon=False)
    ax.set_xticks(xs, labels, fontsize=9)
    ax.set_xlim(-0.3, max(xs, default=0) + 0.3)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% favourable", fontsize=9)
    ax.set_title(f"{audit.title}: trust index by cycle", fontsize=11, loc="left")
    ax.grid(axis="y", alpha=0.3)


def _participation_panel(ax: Axes, p: Participation) -> None:
    xs = [f"r{r.round_seq}\n{fmt.day(r.opened_on)}" for r in p.trend]
    ys = [r.rate_pct or 0.0 for r in p.trend]
    bars = ax.bar(xs, ys, color=["#1b6ca8" if r.closed else "#9ecae1" for r in p.trend])
    for bar, r in zip(bars, p.trend, strict=True):
        if not r.closed:
            bar.set_hatch("//")
    ax.set_ylim(0, 100)
    ax.set_ylabel("% answered", fontsize=8)
    ax.set_title("Participation by round (light, hatched: still open)", fontsize=11, loc="left")
    ax.tick_params(labelsize=9)
    ax.grid(axis="y", alpha=0.3)


def _strands_panel(ax: Axes, strands: list[StrandStat]) -> None:
    ys = list(range(len(strands)))
    for y, s in zip(ys, strands, strict=True):
        if s.now.median is None:
            continue
        ax.plot([s.now.median], [y], "o", color="#1b6ca8")
        if s.future.median is not None:
            ax.annotate(
                "",
                xy=(s.future.median, y),
                xytext=(s.now.median, y),
                arrowprops={"arrowstyle": "->", "color": "#d1495b", "lw": 1.5},
            )
    ax.set_yticks(ys, [s.label[:28] for s in strands], fontsize=7)
    ax.set_xlim(0.8, 4.2)
    ax.set_xticks([1, 2, 3, 4], ["Beginning", "Developing", "Embedding", "Leading"], fontsize=8)
    ax.invert_yaxis()
    ax.set_title("Strands: median now (dot) and in a year (arrow)", fontsize=10, loc="left")
    ax.grid(axis="x", alpha=0.3)


def trend_chart(digest: Digest) -> bytes | None:
    """The PNG, or None when there is nothing to draw yet."""
    fig = trend_figure(digest)
    if fig is None:
        return None
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def trend_figure(digest: Digest) -> Figure | None:
    """The chart as a matplotlib Figure, for trend_chart to save and tests to inspect."""
    audits = [a for a in digest.audits if a.trend][:MAX_AUDITS]
    strands = [s for group in digest.strands for d in group.dimensions for s in d.strands]
    has_participation = bool(digest.participation.trend)
    panels = len(audits) + int(has_participation) + int(bool(strands))
    if panels == 0:
        return None
    heights = [3.8] * len(audits) + [2.4] * int(has_participation) + [0.5 + 0.28 * len(strands)] * int(bool(strands))
    fig = Figure(figsize=(8, sum(heights) + 0.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(panels, 1, squeeze=False, height_ratios=heights)[:, 0]
    i = 0
    for audit in audits:
        _audit_panel(axes[i], audit, digest.partnership)
        i += 1
    if has_participation:
        _participation_panel(axes[i], digest.participation)
        i += 1
    if strands:
        _strands_panel(axes[i], strands)
    fig.suptitle(f"Pulse digest: {digest.survey_name}"[:80], fontsize=12, x=0.01, ha="left")
    return fig


def chart_alt_text(digest: Digest) -> str:
    parts = []
    for audit in digest.audits:
        values = ", ".join(
            f"{p.label} {'hidden' if p.favourable_pct is None else f'{p.favourable_pct:.0f}%'}" for p in audit.trend
        )
        parts.append(f"{audit.title} trust index by cycle: {values}.")
    if digest.participation.trend:
        rates = ", ".join(
            f"round {r.round_seq} {'-' if r.rate_pct is None else f'{r.rate_pct:.0f}%'}"
            for r in digest.participation.trend
        )
        parts.append(f"Participation: {rates}.")
    return " ".join(parts)[:1000] or "Pulse digest trends"
