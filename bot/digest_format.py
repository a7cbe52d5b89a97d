"""How a digest's figures are written, shared by Slack, the terminal and any other renderer.

Percentages are shown whole (the JSON and CSV keep one decimal): with tens of answers a decimal
is noise, and whole numbers read faster on a phone.
"""

from __future__ import annotations

import datetime as dt
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


# What the words mean, said where they appear.
CYCLE_MEANS = "a cycle is the rounds that ask every item once"


def day(d: dt.date) -> str:
    return f"{d.day} {d:%b}"


def cycle_dates(point: IndexPoint) -> str:
    """When a cycle ran: "7 Sep–28 Sep", or "from 5 Oct" while it is still going."""
    if point.first_day is None:
        return ""
    if not point.complete or point.last_day is None:
        return f"from {day(point.first_day)}"
    if point.last_day == point.first_day:
        return day(point.first_day)
    return f"{day(point.first_day)}–{day(point.last_day)}"


def cycle_label(point: IndexPoint) -> str:
    """ "cycle 1 (7 Sep–28 Sep)", "cycle 2 so far (from 5 Oct)"."""
    dates = cycle_dates(point)
    label = point.label if point.complete else f"{point.label} so far"
    return f"{label} ({dates})" if dates else label


def trend_line(points: list[IndexPoint]) -> str:
    return " → ".join(f"{cycle_label(p)} {pct(p.favourable_pct)}" for p in points)


def answers(index: IndexPoint) -> str:
    """A trust index pools answers to several items, so its count is of answers, not of people."""
    return "answers hidden" if index.suppressed else f"{index.n} answers"


def people(cell: Share | LevelShare) -> str:
    """How many people stand behind one item's figure in one round (each answers it once)."""
    return "–" if cell.suppressed else f"{cell.n} people"


def favourable_note(audit: Audit) -> str:
    return f"favourable = answered {audit.favourable_means}" if audit.favourable_means else ""


def moved_line(digest: Digest) -> str | None:
    """The significant changes since the previous cycle, or plainly that none is; None: nothing to compare."""
    if digest.moved_most:
        moved = ", ".join(
            f"{m.label} {mark(m.trend)}{' ' if m.trend else ''}{points(m.change_pts)} pts" for m in digest.moved_most
        )
        return f"Moved most since the previous cycle: {moved}"
    if any(i.change_pts is not None for i in digest.items):
        return "No change since the previous cycle is significant: the differences shown may be chance."
    return None


def school_level(cell: LevelShare) -> str:
    if cell.suppressed:
        return "hidden"
    return cell.median_label or "no answers"


def footer_lines(digest: Digest) -> list[str]:
    open_round = any(not r.closed for r in digest.participation.trend)
    return [
        digest.significance_test,
        digest.hidden_note,
        "Figures come from closed rounds only"
        + ("; participation includes the round still open." if open_round else "."),
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
