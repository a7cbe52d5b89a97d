"""JPD exchange wording shared by every surface: the coordinator's summary, the deadline, the
not-anonymous statement. Markdown-ish text (*bold*), which Slack, Teams and a terminal all read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from surveys.jpd.summary import Summary

NOT_ANONYMOUS = (
    "This is not anonymous: the coordinator and the people in your group will see your name and what you chose."
)
NOT_ANONYMOUS_SCHOOLS = (
    "This is not anonymous: the partnership's coordinators and leaders will see your school's name and choices."
)
FIRST_STEP = (
    "A first step: find 20 minutes in the next fortnight to talk it through, then visit one another's "
    "lessons or planning for the topics you chose."
)


def saved_text(new: bool, offers: Sequence[str], wants: Sequence[str], when: str) -> tuple[str, str]:
    """(title, text) confirming a stored answer, with the topics' names as the platform shows them."""
    return (
        "You're in" if new else "Answer changed",
        f"You could offer: {', '.join(offers)}.\nYou would like to gain: {', '.join(wants)}.\n"
        f"You can change this or withdraw until {when}; then you will hear about your group.",
    )


def deadline_text(deadline: dt.datetime, timezone: str) -> str:
    return deadline.astimezone(ZoneInfo(timezone)).strftime("%a %d %b %Y, %H:%M")


def _ranked(pairs: Sequence[tuple[str, int]], esc: Callable[[str], str]) -> str:
    return ", ".join(f"{esc(label)} ({count})" for label, count in pairs) or "none"


def summary_text(s: Summary, esc: Callable[[str], str] = str) -> str:
    who = "schools" if s.kind == "schools" else "people"
    state = "closed" if s.closed else f"open until {deadline_text(s.deadline, s.timezone)}"
    lines = [f"*JPD exchange {s.exchange_id}* ({state})", f"Took part: {s.took_part} {who}"]
    if s.closed:
        lines.append(
            f"Groups formed: {s.pairs + s.threes} ({s.pairs} of two, {s.threes} of three), "
            f"holding {s.grouped} of {s.took_part}"
        )
    lines.append(f"Most offered: {_ranked(s.most_offered, esc)}")
    lines.append(f"Most wanted: {_ranked(s.most_wanted, esc)}")
    if s.closed:
        left = s.took_part - s.grouped
        if left:
            lines.append(f"Wanted by the {left} without a group (the gaps): {_ranked(s.gaps, esc)}")
        else:
            lines.append("Everyone who took part is in a group.")
    if s.offered_by_nobody:
        lines.append(f"Wanted but offered by nobody: {', '.join(esc(t) for t in s.offered_by_nobody)}")
    if s.earlier:
        lines.append(
            "Earlier exchanges: "
            + "; ".join(
                f"{p.exchange_id} ({p.closed_on:%d %b %Y}): {p.grouped} of {p.took_part} grouped" for p in s.earlier
            )
        )
    return "\n".join(lines)
