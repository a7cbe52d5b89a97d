"""Free-text comments: stored like answers, released to leaders only in batches.

A comment is one person's few words on a round, optional, at most `MAX_LENGTH` characters. It is
stored with a respondent key (HMAC of round | "comment" | user id) and the segment, never with a
user id or any time, and it can be edited until the round closes.

Words identify people far more easily than a click, so comments have their own rules:

* **Their own threshold.** `comment_threshold(k)` is `max(k, MIN_BATCH)` (10 by default, never
  below k): comments are shown only when at least that many are shown together.
* **Batches, never live.** Only closed rounds count. Walking the survey's closed rounds oldest
  first, comments pile up until there are at least the threshold; those rounds' comments form a
  batch. The digest shows the latest batch; comments that do not yet make a batch are held and
  only counted. A closed round's comments cannot change, so batches never change either.
* **No time, no school, no order.** A released comment is its text only: no round, no segment,
  and the batch is ordered by a hash of the text, so neither writing order nor who wrote first
  can be read from it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import comments as store
from storage.models import Round, Survey
from surveys.anonymity import effective_k, respondent_key
from surveys.answers import segment_for

MAX_LENGTH = 500
MIN_BATCH = 10
COMMENT_ITEM = "comment"


def comment_threshold(k: int) -> int:
    """How many comments must be shown together at least."""
    return max(effective_k(k), MIN_BATCH)


class CommentOutcome(Enum):
    RECORDED = "recorded"
    CHANGED = "changed"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    CLOSED = "closed"
    INVALID = "invalid"


@dataclass(frozen=True)
class CommentResult:
    outcome: CommentOutcome
    threshold: int = MIN_BATCH


def clean_text(text: str) -> str:
    return text.strip()


async def record_comment(
    session: AsyncSession,
    secret: bytes,
    round_id: int,
    user_id: str,
    channel_id: str | None,
    text: str,
    now: dt.datetime,
) -> CommentResult:
    """Store the person's comment on the round, replacing an earlier one; refused once the round closes."""
    found = (
        await session.execute(
            select(Round, Survey).join(Survey, Survey.id == Round.survey_id).where(Round.id == round_id)
        )
    ).first()
    if found is None or not user_id:
        return CommentResult(CommentOutcome.INVALID)
    round_, survey = found[0], found[1]
    threshold = comment_threshold(survey.k)
    if round_.closed_at is not None or now >= round_.closes_at:
        return CommentResult(CommentOutcome.CLOSED, threshold)
    segment = segment_for(survey, channel_id)
    if segment is None:
        return CommentResult(CommentOutcome.INVALID, threshold)
    cleaned = clean_text(text)
    if not cleaned:
        return CommentResult(CommentOutcome.EMPTY, threshold)
    if len(cleaned) > MAX_LENGTH:
        return CommentResult(CommentOutcome.TOO_LONG, threshold)
    key = respondent_key(secret, round_id, COMMENT_ITEM, user_id)
    replaced = await store.upsert_comment(session, round_id=round_id, key=key, segment=segment, text=cleaned)
    return CommentResult(CommentOutcome.CHANGED if replaced else CommentOutcome.RECORDED, threshold)


@dataclass(frozen=True)
class Released:
    """What the digest shows of comments: a batch of texts (maybe none) and how many are held."""

    comments: list[str]
    held: int
    threshold: int


def _shuffled(survey_id: int, texts: Sequence[str]) -> list[str]:
    # An order that depends on the words alone, not on when or by whom they were written.
    return sorted(texts, key=lambda t: hashlib.sha256(f"{survey_id}|{t}".encode()).hexdigest())


def batches(counts: Sequence[tuple[int, int]], threshold: int) -> tuple[list[list[int]], int]:
    """Closed rounds (id, comments) oldest first -> the sealed batches' round ids, and the comments held."""
    sealed: list[list[int]] = []
    pending: list[int] = []
    held = 0
    for round_id, n in counts:
        if not n:
            continue
        pending.append(round_id)
        held += n
        if held >= threshold:
            sealed.append(pending)
            pending, held = [], 0
    return sealed, held


async def released_comments(
    session: AsyncSession,
    survey: Survey,
    rounds: Sequence[Round],
    threshold: int | None = None,
    *,
    now: dt.datetime,
) -> Released:
    """The latest batch of comments from closed rounds, and how many wait for a batch of their own."""
    threshold = max(threshold or 0, comment_threshold(survey.k))
    closed = sorted(
        (r for r in rounds if r.survey_id == survey.id and (r.closed_at is not None or r.closes_at <= now)),
        key=lambda r: r.seq,
    )
    per_round = await store.comment_counts(session, [r.id for r in closed])
    sealed, held = batches([(r.id, per_round.get(r.id, 0)) for r in closed], threshold)
    texts = await store.comment_texts(session, sealed[-1]) if sealed else []
    return Released(_shuffled(survey.id, texts), held, threshold)


async def comment_threshold_for(session: AsyncSession, round_id: int, now: dt.datetime) -> int | None:
    """The threshold to promise someone about to write on this round, or None if it takes no comments now."""
    found = (
        await session.execute(
            select(Round.closes_at, Round.closed_at, Survey.k)
            .join(Survey, Survey.id == Round.survey_id)
            .where(Round.id == round_id)
        )
    ).first()
    if found is None or found.closed_at is not None or now >= found.closes_at:
        return None
    return comment_threshold(found.k)
