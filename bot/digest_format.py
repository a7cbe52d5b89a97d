"""How a digest's figures are written, shared by Slack, the terminal and any other renderer.

Percentages are shown whole (the JSON and CSV keep one decimal): with tens of answers a decimal
is noise, and whole numbers read faster on a phone.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from surveys.digest import Audit, BehaviourCell, Digest, IndexPoint, ItemStat, LevelShare, Share
from surveys.digest.strands import median_label

UP, DOWN = "▲", "▼"
LEVEL_INITIALS = {"beginning": "B", "developing": "D", "embedding": "E", "leading": "L"}
MAX_SCHOOLS_SHOWN = 12


def whole(value: float) -> str:
    """Rounded half up (54.5 -> 55), as people round: Python's own rounding goes half to even."""
    return str(int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def points(value: float) -> str:
    """A signed whole number of points: +3, -12, ±0."""
    text = whole(value)
    return "±0" if text in ("0", "-0") else (text if text.startswith("-") else f"+{text}")


def pct(value: float | None) -> str:
    return "–" if value is None else f"{whole(value)}%"


# A hidden figure says no more than that: neither how many stand behind it nor why it is hidden
# ("everyone answered alike" would be the very disclosure). The digest's footer gives the reasons.
HIDDEN = "hidden for anonymity"


def figure(cell: Share | IndexPoint) -> str:
    """A cell's favourable share, or why it is not there."""
    if cell.suppressed:
        return "hidden: too few answers to any item" if isinstance(cell, IndexPoint) else HIDDEN
    if cell.favourable_pct is None:
        return "no answers"
    return pct(cell.favourable_pct)


def count(cell: Share | IndexPoint | LevelShare) -> str:
    """How many stand behind a figure: never published for a hidden one."""
    return "–" if cell.suppressed else str(cell.n)


def school_figure(cell: Share) -> str:
    if cell.suppressed:
        return "hidden"
    return "no answers" if cell.favourable_pct is None else pct(cell.favourable_pct)


def mark(trend: str | None) -> str:
    return {"up": UP, "down": DOWN}.get(trend or "", "")


def change(item: ItemStat) -> str:
    """The change since the previous cycle, marked only when significant."""
    if item.change_pts is None:
        return ""
    arrow = mark(item.trend)
    return f"{arrow}{' ' if arrow else ''}{points(item.change_pts)} pts"


def levels(cell: LevelShare) -> str:
    if cell.levels_pct is None:
        return ""
    return " · ".join(
        f"{LEVEL_INITIALS.get(name, name[:1].upper())} {whole(v)}%" for name, v in cell.levels_pct.items()
    )


def level_name(median: float | None) -> str:
    return median_label(median) or "–"


def level_figure(cell: LevelShare) -> str:
    if cell.suppressed:
        return HIDDEN
    return cell.median_label or "no answers"


def signed(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    text = f"{value:+.1f}" if value % 1 else f"{value:+.0f}"
    return text + unit


def net(cell: BehaviourCell) -> str:
    return "–" if cell.net_pct is None else points(cell.net_pct)


def cycle_label(point: IndexPoint) -> str:
    return point.label if point.complete else f"{point.label} so far"


def trend_line(points: list[IndexPoint]) -> str:
    return " → ".join(pct(p.favourable_pct) + ("" if p.complete else " so far") for p in points)


def school_level(cell: LevelShare) -> str:
    if cell.suppressed:
        return "hidden"
    return cell.median_label or "no answers"


def footer_lines(digest: Digest) -> list[str]:
    return [
        digest.significance_test,
        digest.hidden_note,
        "Figures come from closed rounds only; participation includes the round still open.",
    ]


def comments_note(digest: Digest) -> str | None:
    """One line on comments waiting for a batch, or None when nothing waits. Never how many: that
    count, week on week, would say how many people wrote in each round."""
    if not digest.comments_waiting:
        return None
    return (
        f"More comments are held until at least {digest.comment_threshold} people's "
        "can be shown together, without names or times."
    )


def one_line(comment: str) -> str:
    """A comment on one line: its own line breaks would break the list it sits in."""
    return " ".join(comment.split())


def ranked_aspects(audit: Audit, aspects: list[str]) -> list[tuple[str, str]]:
    """(label, % favourable) for the audit's strongest or weakest aspects, in their order."""
    by_aspect = {a.aspect: a for a in audit.aspects}
    return [(by_aspect[a].label, pct(by_aspect[a].favourable_pct)) for a in aspects]
