"""Trust behaviours (a picks bank): how often each is named strong or weak, and where views differ.

The people behind a behaviour's counts are everyone who did the exercise in that perspective, so
a perspective is shown only when at least k people did it. That number comes from the exercise's
participation rows (item = the bank's id, surveys/picks.py); for answers stored without them it
falls back to the fewest people who could have made the picks stored. A behaviour everyone in a
perspective named is hidden: it would tell each of them what they picked (surveys/anonymity.py).
"""

from __future__ import annotations

import math

from storage.models import Round
from surveys.anonymity import named_by_all
from surveys.banks import Bank
from surveys.digest.frame import Frame, pretty
from surveys.digest.model import BehaviourCell, Behaviours, BehaviourStat
from surveys.digest.tally import StratumKey, pooled
from surveys.scoring import Named, disagreement, self_team_gap

TOP = 3


def respondents(frame: Frame, bank: Bank, round_id: int, perspective: str) -> int:
    """People who did the exercise in one perspective of one round."""
    took_part = pooled(frame.cells((round_id, bank.id, perspective)).values()).n
    if took_part or bank.picks is None:
        return took_part
    strong = weak = 0
    for item in bank.items:
        t = pooled(frame.cells((round_id, item.id, perspective)).values())
        strong += t.favourable
        weak += t.unfavourable
    return max(math.ceil(strong / bank.picks.strongest), math.ceil(weak / bank.picks.weakest))


def _latest_round(frame: Frame, bank: Bank) -> Round | None:
    rounds = [r for r in frame.closed if any(ref.get("bank") == bank.id for ref in r.items)]
    return rounds[-1] if rounds else None


def behaviours_section(frame: Frame, bank: Bank) -> Behaviours | None:
    round_ = _latest_round(frame, bank)
    if round_ is None or bank.picks is None:
        return None
    perspectives = list(bank.picks.perspectives)
    people = {p: respondents(frame, bank, round_.id, p) for p in perspectives}
    k = frame.k_of(round_.id)
    hidden = {p: people[p] < k for p in perspectives}
    for p in perspectives:
        key: StratumKey = (round_.id, bank.id, p)
        frame.note(key, None, "below_k" if 0 < people[p] < k else None)

    stats: list[BehaviourStat] = []
    for item in bank.items:
        named: dict[str, Named] = {}
        cells = []
        for p in perspectives:
            t = pooled(frame.cells((round_.id, item.id, p)).values())
            view = Named(strong=t.favourable, weak=t.unfavourable, n=people[p])
            alike = not hidden[p] and named_by_all(people[p], t.favourable, t.unfavourable)
            frame.note((round_.id, item.id, p), None, "unanimous" if alike else None)
            shown = not hidden[p] and not alike and people[p] > 0
            if shown:
                named[p] = view
            cells.append(
                BehaviourCell(
                    item_id=item.id,
                    perspective=p,
                    n=None if hidden[p] else people[p],
                    favourable_pct=view.strong_pct if shown else None,
                    suppressed=(hidden[p] or alike) and people[p] > 0,
                    strong=view.strong if shown else None,
                    weak=view.weak if shown else None,
                    weak_pct=view.weak_pct if shown else None,
                    net_pct=view.net_pct if shown else None,
                )
            )
        gap, lean = None, 0
        if len(perspectives) > 1 and perspectives[0] in named and perspectives[1] in named:
            first, second = named[perspectives[0]], named[perspectives[1]]
            gap, lean = self_team_gap(first, second), disagreement(first, second)
        stats.append(
            BehaviourStat(
                item_id=item.id,
                label=str(getattr(item, "label", None) or item.text.split(" —")[0]),
                aspect=item.aspect,
                cells=cells,
                gap_pts=gap,
                disagreement=lean,
            )
        )

    def top(p: str, side: str) -> list[str]:
        counted = []
        for s in stats:
            cell = next(c for c in s.cells if c.perspective == p)
            value = cell.strong if side == "strong" else cell.weak
            if value:
                counted.append((-value, s.item_id))
        return [item_id for _, item_id in sorted(counted)[:TOP]]

    return Behaviours(
        bank_id=bank.id,
        title=bank.title or pretty(bank.id),
        round_seq=round_.seq,
        perspectives=perspectives,
        # How many took part is not published for a hidden perspective.
        respondents={p: None if hidden[p] else n for p, n in people.items()},
        suppressed={p: hidden[p] and people[p] > 0 for p in perspectives},
        behaviours=stats,
        named_strong={p: top(p, "strong") for p in perspectives},
        named_weak={p: top(p, "weak") for p in perspectives},
        disagreements=[
            s.item_id for s in sorted(stats, key=lambda s: (-abs(s.gap_pts or 0.0), s.item_id)) if s.disagreement
        ],
    )


def behaviour_sections(frame: Frame) -> list[Behaviours]:
    out = []
    for bank in frame.banks("picks"):
        section = behaviours_section(frame, bank)
        if section is not None:
            out.append(section)
    return out
