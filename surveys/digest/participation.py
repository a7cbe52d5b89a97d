"""Participation: answers over audience size, per round.

Counting answers, never what was answered, so the round still open is included too, but only
from what it holds (`with_open_rounds`) and coarsely: nothing below k, and then in steps, so that
no one watching it can tell when each person answered. An item's answers are its plain answers,
the larger of a strand's two questions, or the people who did a picks exercise in its busiest
perspective.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.ballots import HeldCount
from storage.models import Round
from surveys.anonymity import coarse, effective_k
from surveys.digest.behaviours import respondents
from surveys.digest.frame import Frame, is_closed
from surveys.digest.model import Participation, RoundParticipation
from surveys.digest.tally import pooled

TREND_ROUNDS = 8


def _answers(frame: Frame, round_: Round, ref: dict[str, object]) -> int:
    bank = frame.registry.get(str(ref.get("bank")))
    item_id = str(ref.get("item"))
    if bank is not None and bank.kind == "picks" and bank.picks is not None:
        return max((respondents(frame, bank, round_.id, p) for p in bank.picks.perspectives), default=0)
    facets = ("now", "future") if bank is not None and bank.kind == "strands" else ("",)
    return max(pooled(frame.cells((round_.id, item_id, f)).values()).n for f in facets)


def round_participation(frame: Frame, round_: Round) -> RoundParticipation:
    refs = {str(ref.get("item")): ref for ref in round_.items}
    counts = [_answers(frame, round_, ref) for ref in refs.values()]
    per_item = round(sum(counts) / len(counts), 1) if counts else None
    rate = round(100.0 * per_item / round_.audience_size, 1) if per_item is not None and round_.audience_size else None
    return RoundParticipation(
        round_seq=round_.seq,
        opened_on=round_.opened_at.date(),
        closed=is_closed(round_, frame.now),
        audience_size=round_.audience_size,
        answers_per_item=per_item,
        rate_pct=rate,
    )


def participation(frame: Frame) -> Participation:
    trend = [round_participation(frame, r) for r in frame.rounds[-TREND_ROUNDS:]]
    latest = next((p for p in reversed(trend) if p.closed), None)
    if latest is None and frame.closed:
        latest = round_participation(frame, frame.closed[-1])
    return Participation(
        round_seq=latest.round_seq if latest else None,
        audience_size=latest.audience_size if latest else (frame.rounds[-1].audience_size if frame.rounds else 0),
        answers_per_item=latest.answers_per_item if latest else None,
        rate_pct=latest.rate_pct if latest else None,
        trend=trend,
    )


def with_open_rounds(found: Participation, rounds: Sequence[Round], held: Sequence[HeldCount], k: int) -> Participation:
    """The trend with each open round's figures from what it holds, coarsened (surveys/anonymity.py)."""
    by_seq = {r.seq: r for r in rounds}
    per_item: dict[tuple[int, str], dict[str, int]] = {}
    for h in held:
        facets = per_item.setdefault((h.round_id, h.item_id), {})
        facets[h.facet] = facets.get(h.facet, 0) + h.n
    trend = []
    for p in found.trend:
        round_ = by_seq.get(p.round_seq)
        if p.closed or round_ is None:
            trend.append(p)
            continue
        items = {str(ref.get("item")) for ref in round_.items}
        counts = [max(per_item.get((round_.id, i), {"": 0}).values()) for i in items]
        mean = sum(counts) / len(counts) if counts else 0.0
        shown = coarse(mean, max(effective_k(k), round_.k))
        rate = round(100.0 * shown / round_.audience_size, 1) if shown is not None and round_.audience_size else None
        trend.append(p.model_copy(update={"answers_per_item": shown, "rate_pct": rate}))
    return found.model_copy(update={"trend": trend})
