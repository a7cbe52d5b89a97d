"""Free-text comments on a real database (both backends): one per person per round, held until a batch."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Time, delete, inspect, select, update

from storage.db import Database
from storage.models import Comment, Round, Survey
from surveys.banks import BankRegistry
from surveys.comments import (
    MAX_LENGTH,
    CommentOutcome,
    batches,
    comment_threshold,
    record_comment,
    released_comments,
)
from tests.surveys.helpers import NOW, SCHOOL, new_round

SECRET = b"comment-secret"
TRUST = "staff-trust-in-leadership"
LATER = NOW + dt.timedelta(hours=1)
AFTER = NOW + dt.timedelta(hours=73)


async def write(db: Database, round_id: int, user: str, text: str, now: dt.datetime = LATER) -> CommentOutcome:
    async with db.session() as s:
        return (await record_comment(s, SECRET, round_id, user, SCHOOL, text, now)).outcome


async def texts(db: Database) -> list[str]:
    async with db.session() as s:
        return sorted((await s.scalars(select(Comment.text))).all())


async def release(db: Database, survey_id: int, now: dt.datetime = AFTER):  # type: ignore[no-untyped-def]
    async with db.session() as s:
        survey = await s.get(Survey, survey_id)
        assert survey is not None
        rounds = list((await s.scalars(select(Round).where(Round.survey_id == survey_id))).all())
        return await released_comments(s, survey, rounds, now=now)


async def test_one_comment_per_person_per_round_and_an_edit_replaces_it(db: Database, banks: BankRegistry) -> None:
    first = await new_round(db, banks, [TRUST])
    assert await write(db, first.id, "U1", "  Meetings run long  ") is CommentOutcome.RECORDED
    assert await write(db, first.id, "U1", "Meetings start late") is CommentOutcome.CHANGED
    assert await write(db, first.id, "U2", "More time to plan") is CommentOutcome.RECORDED
    second = await new_round(db, banks, [TRUST], survey_id=first.survey_id, now=AFTER)
    assert await write(db, second.id, "U1", "Better now", now=AFTER) is CommentOutcome.RECORDED
    assert await texts(db) == ["Better now", "Meetings start late", "More time to plan"]
    async with db.session() as s:
        keys = (await s.scalars(select(Comment.respondent_key))).all()
    assert len(set(keys)) == 3 and not any("U1" in k or "U2" in k for k in keys)


async def test_bad_or_late_comments_change_nothing(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [TRUST])
    assert await write(db, round_.id, "U1", "   \n ") is CommentOutcome.EMPTY
    assert await write(db, round_.id, "U1", "x" * (MAX_LENGTH + 1)) is CommentOutcome.TOO_LONG
    assert await write(db, round_.id + 99, "U1", "No such round") is CommentOutcome.INVALID
    async with db.session() as s:
        outside = await record_comment(s, SECRET, round_.id, "U1", "C0ELSEWHERE", "Not in the audience", LATER)
    assert outside.outcome is CommentOutcome.INVALID
    assert await write(db, round_.id, "U1", "At the close", now=round_.closes_at) is CommentOutcome.CLOSED
    assert await write(db, round_.id, "U1", "x" * MAX_LENGTH) is CommentOutcome.RECORDED
    async with db.session() as s:
        await s.execute(update(Round).where(Round.id == round_.id).values(closed_at=LATER))
    assert await write(db, round_.id, "U1", "After an early close") is CommentOutcome.CLOSED
    assert await texts(db) == ["x" * MAX_LENGTH]


async def test_the_table_holds_no_time_and_no_user_id(db: Database) -> None:
    async with db.engine.connect() as conn:
        columns = await conn.run_sync(lambda c: inspect(c).get_columns("comments"))
    assert {c["name"] for c in columns} == {"round_id", "respondent_key", "segment", "text"}
    assert not [c for c in columns if isinstance(c["type"], Date | DateTime | Time)]


async def test_released_only_from_closed_rounds_and_only_as_a_big_enough_batch(
    db: Database, banks: BankRegistry
) -> None:
    first = await new_round(db, banks, [TRUST])
    for i in range(9):
        await write(db, first.id, f"U{i}", f"first round remark {i}")
    # Still open: nothing released, nothing counted.
    open_now = await release(db, first.survey_id, now=LATER)
    assert (open_now.comments, open_now.held, open_now.threshold) == ([], 0, 10)
    # Closed but only 9: held.
    held = await release(db, first.survey_id)
    assert (held.comments, held.held) == ([], 9)
    second = await new_round(db, banks, [TRUST], survey_id=first.survey_id, now=AFTER)
    await write(db, second.id, "U0", "second round remark", now=AFTER)
    assert (await release(db, first.survey_id, now=AFTER + dt.timedelta(hours=1))).held == 9
    done = await release(db, first.survey_id, now=AFTER + dt.timedelta(hours=73))
    assert sorted(done.comments) == sorted([f"first round remark {i}" for i in range(9)] + ["second round remark"])
    assert done.held == 0


async def test_a_survey_with_a_larger_k_needs_a_larger_batch(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [TRUST])
    async with db.session() as s:
        await s.execute(update(Survey).where(Survey.id == round_.survey_id).values(k=12))
    for i in range(11):
        await write(db, round_.id, f"U{i}", f"remark {i}")
    assert (await release(db, round_.survey_id)).held == 11
    await write(db, round_.id, "U11", "remark 11")
    assert len((await release(db, round_.survey_id)).comments) == 12


async def test_released_order_does_not_follow_the_order_of_writing(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [TRUST])
    written = [f"remark {i:02d}" for i in range(12)]
    for i, text in enumerate(written):
        await write(db, round_.id, f"U{i}", text)
    forwards = (await release(db, round_.survey_id)).comments
    async with db.session() as s:
        await s.execute(delete(Comment))
    for i, text in reversed(list(enumerate(written))):
        await write(db, round_.id, f"U{i}", text)
    backwards = (await release(db, round_.survey_id)).comments
    assert sorted(forwards) == written
    assert forwards == backwards
    assert forwards not in (written, written[::-1])


def test_batches_seal_at_the_threshold_and_hold_the_rest() -> None:
    assert batches([(1, 4), (2, 0), (3, 7), (4, 3), (5, 10), (6, 2)], 10) == ([[1, 3], [4, 5]], 2)
    assert batches([], 10) == ([], 0)
    assert comment_threshold(3) == 10 and comment_threshold(15) == 15 and comment_threshold(1) == 10
