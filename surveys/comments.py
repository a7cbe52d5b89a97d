"""Free-text comments: held like answers while the round is open, released to leaders only in batches.

A comment is one person's few words on a round, optional, at most `MAX_LENGTH` characters. While
the round is open it is held under a respondent key from the round's key (surveys/keys.py), with
the segment and the time it was written (so that of two quick edits the later stands), never a
user id, and it can be edited. Sealing the round keeps the
bare text only, in an order set by its words (storage/ballots.py).

Words identify people far more easily than a click, so comments have their own rules:

* **Their own threshold.** `comment_threshold(k)` is `max(k, MIN_BATCH)` (10 by default, never
  below k): comments are shown only when at least that many people's are shown together.
* **Batches of people, never live.** Only sealed rounds count. One round holds at most one
  comment per person, but the same person may write in several rounds, so a batch is only
  known to hold `threshold` different people when one of its rounds alone has that many
  comments. Walking the survey's sealed rounds oldest first, rounds pile up until one of them
  has; those rounds' comments form a batch. The digest shows the latest batch, and says only
  whether comments are waiting, never how many (that count, week on week, would give each
  round's). A sealed round's comments cannot change, so batches never change either.
* **No time, no school, no order.** A released comment is its text only: no round, no segment,
  and the batch is ordered by a hash of the text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import ballots
from storage.db import Database
from storage.models import Round, Survey
from surveys.anonymity import effective_k
from surveys.answers import click_seq, segment_for
from surveys.keys import COMMENT_SUBJECT, round_key

MAX_LENGTH = 500
MIN_BATCH = 10


def comment_threshold(*ks: int) -> int:
    """How many people's comments must be shown together at least (the largest k given counts)."""
    return max(*(effective_k(k) for k in ks), MIN_BATCH)


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
    db: Database,
    secret: bytes,
    round_id: int,
    user_id: str,
    channel_id: str | None,
    text: str,
    now: dt.datetime,
) -> CommentResult:
    """Hold the person's comment on the round, replacing an earlier one; refused once the round closes."""
    async with db.session() as session:
        found = (
            await session.execute(
                select(Round, Survey).join(Survey, Survey.id == Round.survey_id).where(Round.id == round_id)
            )
        ).first()
    if found is None or not user_id:
        return CommentResult(CommentOutcome.INVALID)
    round_, survey = found[0], found[1]
    threshold = comment_threshold(round_.k, survey.k)
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
    async with db.writing() as session:
        key = await round_key(session, secret, round_id, lock=True)
        if key is None:
            return CommentResult(CommentOutcome.CLOSED, threshold)
        mine = key.respondent(COMMENT_SUBJECT, user_id)
        replaced = await ballots.hold_comment(
            session, round_id=round_id, key=mine, segment=segment, text=cleaned, seq=click_seq(now)
        )
    return CommentResult(CommentOutcome.CHANGED if replaced else CommentOutcome.RECORDED, threshold)


@dataclass(frozen=True)
class Released:
    """What the digest shows of comments: a batch of texts (maybe none), and whether more wait."""

    comments: list[str]
    waiting: bool
    threshold: int


def _shuffled(survey_id: int, texts: Sequence[str]) -> list[str]:
    # An order that depends on the words alone, not on when or by whom they were written.
    return sorted(texts, key=lambda t: hashlib.sha256(f"{survey_id}|{t}".encode()).hexdigest())


def batches(counts: Sequence[tuple[int, int]], threshold: int) -> tuple[list[list[int]], bool]:
    """Sealed rounds (id, comments) oldest first -> the released batches' round ids, and whether
    comments wait for a batch of their own.

    A batch closes at the first round with `threshold` comments: one round's comments are by
    different people, several rounds' may not be.
    """
    released: list[list[int]] = []
    pending: list[int] = []
    for round_id, n in counts:
        if not n:
            continue
        pending.append(round_id)
        if n >= threshold:
            released.append(pending)
            pending = []
    return released, bool(pending)


async def released_comments(
    session: AsyncSession,
    survey: Survey,
    rounds: Sequence[Round],
    threshold: int | None = None,
) -> Released:
    """The latest batch of comments from sealed rounds, and whether more wait for a batch."""
    closed = sorted((r for r in rounds if r.survey_id == survey.id and r.closed_at is not None), key=lambda r: r.seq)
    threshold = comment_threshold(threshold or 0, survey.k, *(r.k for r in closed))
    per_round = await ballots.sealed_comment_counts(session, [r.id for r in closed])
    released, waiting = batches([(r.id, per_round.get(r.id, 0)) for r in closed], threshold)
    texts = await ballots.sealed_comment_texts(session, released[-1]) if released else []
    return Released(_shuffled(survey.id, texts), waiting, threshold)


async def comment_threshold_for(session: AsyncSession, round_id: int, now: dt.datetime) -> int | None:
    """The threshold to promise someone about to write on this round, or None if it takes no comments now."""
    found = (
        await session.execute(
            select(Round.closes_at, Round.closed_at, Round.k.label("round_k"), Survey.k)
            .join(Survey, Survey.id == Round.survey_id)
            .where(Round.id == round_id)
        )
    ).first()
    if found is None or found.closed_at is not None or now >= found.closes_at:
        return None
    return comment_threshold(found.round_k, found.k)
