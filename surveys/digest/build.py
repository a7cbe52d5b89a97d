"""Building the digest: one rollup query, then pure assembly from its groups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storage import ballots, repo, rollups
from storage.models import Round, Survey
from storage.rollups import AnswerCount
from surveys.anonymity import counted_until
from surveys.banks import BankRegistry
from surveys.comments import comment_threshold, released_comments
from surveys.digest.behaviours import behaviour_sections
from surveys.digest.frame import Frame, is_closed
from surveys.digest.model import Digest, Hidden, SegmentLabel
from surveys.digest.participation import TREND_ROUNDS, participation, with_open_rounds
from surveys.digest.statements import TREND_CYCLES, statement_sections
from surveys.digest.stats import SIGNIFICANCE_TEST
from surveys.digest.strands import strand_sections


def hidden_note(k: int, below: int, complementary: int, alike: int = 0) -> str:
    if not below and not complementary and not alike:
        return f"Nothing hidden: every figure shown has at least {k} people behind it."
    parts = []
    if below:
        parts.append(f"{below} figure{'s' if below != 1 else ''} hidden because fewer than {k} people answered")
    if complementary:
        parts.append(f"{complementary} more hidden so that totals cannot reveal {'them' if below != 1 else 'it'}")
    if alike:
        parts.append(f"{alike} hidden because a share of 0 % or 100 % would tell what each person there answered")
    return "Hidden for anonymity: " + ", and ".join(parts) + ". Pooled figures leave hidden ones out."


def assemble(
    survey: Survey,
    rounds: Sequence[Round],
    rows: Iterable[AnswerCount],
    registry: BankRegistry,
    *,
    now: dt.datetime,
) -> Digest:
    """The digest from the survey's rounds and the rollup's groups: pure, no database."""
    frame = Frame(survey, [r for r in rounds if r.opened_at <= now], rows, registry, now=now)
    audits, items, moved = statement_sections(frame)
    strands = strand_sections(frame)
    behaviours = behaviour_sections(frame)
    below, complementary, alike = frame.hidden_counts()
    note = hidden_note(frame.stated_k, below, complementary, alike)
    return Digest(
        survey=survey.id,
        survey_name=survey.name,
        generated_at=now,
        k=frame.stated_k,
        significance_test=SIGNIFICANCE_TEST,
        participation=participation(frame),
        segments=[SegmentLabel(segment=s, label=frame.labels[s]) for s in frame.segments],
        audits=audits,
        items=items,
        moved_most=moved,
        strands=strands,
        behaviours=behaviours,
        hidden=Hidden(below_k=below, complementary=complementary, unanimous=alike, note=note),
        hidden_note=note,
        # The batch itself needs the database: build_digest adds it (surveys/comments.py).
        comment_threshold=comment_threshold(frame.stated_k),
    )


def rounds_read(survey: Survey, rounds: Sequence[Round], registry: BankRegistry, *, now: dt.datetime) -> list[int]:
    """The rounds whose answers some figure uses, so the rollup reads no others.

    Participation's last rounds; per statement audit the cycles its trend shows; per item,
    strand and exercise its latest closed round and the one before. A year of weekly rounds
    keeps most of them, but the digest's cost stays flat as the years add up.
    """
    frame = Frame(survey, [r for r in rounds if r.opened_at <= now], [], registry, now=now)
    ids = {r.id for r in frame.rounds[-TREND_ROUNDS:]}
    for kind in ("statements", "strands"):
        for bank in frame.banks(kind):
            asked = frame.asked(bank)
            if kind == "statements":
                cycles = set(sorted({a.cycle for a in asked})[-TREND_CYCLES:])
                ids |= {a.round.id for a in asked if a.cycle in cycles}
            last_two: dict[str, list[int]] = {}
            for a in asked:
                last_two[a.item_id] = [*last_two.get(a.item_id, []), a.round.id][-2:]
            ids |= {i for pair in last_two.values() for i in pair}
    for bank in frame.banks("picks"):
        latest = [r.id for r in frame.closed if any(ref.get("bank") == bank.id for ref in r.items)]
        ids |= set(latest[-1:])
    return sorted(ids)


async def build_digest(session: AsyncSession, survey: Survey, registry: BankRegistry, *, now: dt.datetime) -> Digest:
    """One GROUP BY over the rounds the digest reads (storage/rollups.py), then `assemble`."""
    rounds = [r for r in await repo.rounds_of(session, survey.id) if r.opened_at <= now]
    rows = await rollups.answer_counts(session, rounds_read(survey, rounds, registry, now=now))
    digest = assemble(survey, rounds, rows, registry, now=now)
    released = await released_comments(session, survey, rounds)
    held = await ballots.held_counts(
        session, [r.id for r in rounds if not is_closed(r, now)], before_seq=counted_until(now)
    )
    return digest.model_copy(
        update={
            "participation": with_open_rounds(digest.participation, rounds, held, survey.k),
            "comments": released.comments,
            "comments_waiting": released.waiting,
            "comment_threshold": released.threshold,
        }
    )
