"""Free-text comments on a real database (both backends): one per person per round, held until a batch."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Time, inspect, select, update

from storage.ballots import comment_order
from storage.db import Database
from storage.models import HeldComment, Round, SealedComment, Survey
from surveys.banks import BankRegistry
from surveys.closing import close_due_rounds
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
    return (await record_comment(db, SECRET, round_id, user, SCHOOL, text, now)).outcome


async def texts(db: Database) -> list[str]:
    async with db.session() as s:
        held = (await s.scalars(select(HeldComment.text))).all()
        sealed = (await s.scalars(select(SealedComment.text))).all()
    return sorted([*held, *sealed])


async def release(db: Database, survey_id: int, now: dt.datetime = AFTER):  # type: ignore[no-untyped-def]
    """What a digest at `now` releases: rounds whose time is up are sealed first, as the digest does."""
    await close_due_rounds(db, now=now)
    async with db.session() as s:
        survey = await s.get(Survey, survey_id)
        assert survey is not None
        rounds = list((await s.scalars(select(Round).where(Round.survey_id == survey_id))).all())
        return await released_comments(s, survey, rounds)


async def test_one_comment_per_person_per_round_and_an_edit_replaces_it(db: Database, banks: BankRegistry) -> None:
    first = await new_round(db, banks, [TRUST])
    assert await write(db, first.id, "U1", "  Meetings run long  ") is CommentOutcome.RECORDED
    assert await write(db, first.id, "U1", "Meetings start late") is CommentOutcome.CHANGED
    assert await write(db, first.id, "U2", "More time to plan") is CommentOutcome.RECORDED
    second = await new_round(db, banks, [TRUST], survey_id=first.survey_id, now=AFTER)
    assert await write(db, second.id, "U1", "Better now", now=AFTER) is CommentOutcome.RECORDED
    assert await texts(db) == ["Better now", "Meetings start late", "More time to plan"]
    async with db.session() as s:
        keys = (await s.scalars(select(HeldComment.respondent_key))).all()
    assert len(set(keys)) == 3 and not any("U1" in k or "U2" in k for k in keys)
    # Sealed: the texts stay, with no key and no segment.
    await close_due_rounds(db, now=AFTER + dt.timedelta(hours=73))
    assert await texts(db) == ["Better now", "Meetings start late", "More time to plan"]
    async with db.session() as s:
        assert (await s.scalars(select(HeldComment))).all() == []


async def test_bad_or_late_comments_change_nothing(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [TRUST])
    assert await write(db, round_.id, "U1", "   \n ") is CommentOutcome.EMPTY
    assert await write(db, round_.id, "U1", "x" * (MAX_LENGTH + 1)) is CommentOutcome.TOO_LONG
    assert await write(db, round_.id + 99, "U1", "No such round") is CommentOutcome.INVALID
    outside = await record_comment(db, SECRET, round_.id, "U1", "C0ELSEWHERE", "Not in the audience", LATER)
    assert outside.outcome is CommentOutcome.INVALID
    assert await write(db, round_.id, "U1", "At the close", now=round_.closes_at) is CommentOutcome.CLOSED
    assert await write(db, round_.id, "U1", "x" * MAX_LENGTH) is CommentOutcome.RECORDED
    async with db.session() as s:
        await s.execute(update(Round).where(Round.id == round_.id).values(closed_at=LATER))
    assert await write(db, round_.id, "U1", "After an early close") is CommentOutcome.CLOSED
    assert await texts(db) == ["x" * MAX_LENGTH]


async def test_the_tables_hold_no_time_and_no_user_id(db: Database) -> None:
    async with db.engine.connect() as conn:
        held = await conn.run_sync(lambda c: inspect(c).get_columns("held_comments"))
        sealed = await conn.run_sync(lambda c: inspect(c).get_columns("sealed_comments"))
    # `seq` orders one person's edits while the round is open; sealing drops it with the key.
    assert {c["name"] for c in held} == {"round_id", "respondent_key", "segment", "text", "seq"}
    assert {c["name"] for c in sealed} == {"round_id", "ordinal", "text"}
    assert not [c for c in held + sealed if isinstance(c["type"], Date | DateTime | Time)]


async def test_released_only_from_closed_rounds_and_only_as_a_big_enough_batch(
    db: Database, banks: BankRegistry
) -> None:
    first = await new_round(db, banks, [TRUST])
    for i in range(9):
        await write(db, first.id, f"U{i}", f"first round remark {i}")
    # Still open: nothing released, nothing said to wait.
    open_now = await release(db, first.survey_id, now=LATER)
    assert (open_now.comments, open_now.waiting, open_now.threshold) == ([], False, 10)
    # Closed but only 9 people: held, and only said to wait (never how many).
    held = await release(db, first.survey_id)
    assert (held.comments, held.waiting) == ([], True)
    # A second round of 10 people: it alone has enough different people, so both are released.
    second = await new_round(db, banks, [TRUST], survey_id=first.survey_id, now=AFTER)
    for i in range(10):
        await write(db, second.id, f"U{i}", f"second round remark {i}", now=AFTER)
    assert (await release(db, first.survey_id, now=AFTER + dt.timedelta(hours=1))).waiting
    done = await release(db, first.survey_id, now=AFTER + dt.timedelta(hours=73))
    everything = [f"first round remark {i}" for i in range(9)] + [f"second round remark {i}" for i in range(10)]
    assert sorted(done.comments) == sorted(everything)
    assert not done.waiting


async def test_many_rounds_of_the_same_few_people_never_make_a_batch(db: Database, banks: BankRegistry) -> None:
    """Twelve comments from three people over four rounds: not twelve people, so nothing is shown."""
    survey_id = None
    start = NOW
    for _ in range(4):
        round_ = await new_round(db, banks, [TRUST], survey_id=survey_id, now=start)
        survey_id = round_.survey_id
        for user in ("U1", "U2", "U3"):
            await write(db, round_.id, user, f"{user} in round {round_.seq}", now=start + dt.timedelta(hours=1))
        start += dt.timedelta(hours=73)
    assert survey_id is not None
    released = await release(db, survey_id, now=start)
    assert (released.comments, released.waiting) == ([], True)


async def test_a_survey_with_a_larger_k_needs_a_larger_batch(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [TRUST])
    async with db.session() as s:
        await s.execute(update(Survey).where(Survey.id == round_.survey_id).values(k=12))
    for i in range(11):
        await write(db, round_.id, f"U{i}", f"remark {i}")
    assert (await release(db, round_.survey_id)).waiting
    other = await new_round(db, banks, [TRUST])
    async with db.session() as s:
        await s.execute(update(Survey).where(Survey.id == other.survey_id).values(k=12))
    for i in range(12):
        await write(db, other.id, f"U{i}", f"remark {i}")
    assert len((await release(db, other.survey_id)).comments) == 12


async def test_k_lowered_after_a_round_closed_does_not_lower_its_batch(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [TRUST])
    async with db.session() as s:
        await s.execute(update(Round).where(Round.id == round_.id).values(k=12))
    for i in range(11):
        await write(db, round_.id, f"U{i}", f"remark {i}")
    async with db.session() as s:
        await s.execute(update(Survey).where(Survey.id == round_.survey_id).values(k=3))
    released = await release(db, round_.survey_id)
    assert (released.comments, released.waiting, released.threshold) == ([], True, 12)


async def test_released_order_does_not_follow_the_order_of_writing(db: Database, banks: BankRegistry) -> None:
    written = [f"remark {i:02d}" for i in range(12)]
    forwards_round = await new_round(db, banks, [TRUST])
    for i, text in enumerate(written):
        await write(db, forwards_round.id, f"U{i}", text)
    backwards_round = await new_round(db, banks, [TRUST])
    for i, text in reversed(list(enumerate(written))):
        await write(db, backwards_round.id, f"U{i}", text)
    forwards = (await release(db, forwards_round.survey_id)).comments
    backwards = (await release(db, backwards_round.survey_id)).comments
    assert sorted(forwards) == sorted(backwards) == written
    assert forwards not in (written, written[::-1]) and backwards not in (written, written[::-1])
    # Nor does the order the sealed rows sit in: set by the words, the same whichever came first.
    for round_ in (forwards_round, backwards_round):
        async with db.session() as s:
            stored = (await s.scalars(select(SealedComment.text).where(SealedComment.round_id == round_.id))).all()
        assert list(stored) == sorted(written, key=lambda t, r=round_.id: comment_order(r, t))


def test_batches_close_at_a_round_with_enough_people() -> None:
    assert batches([(1, 4), (2, 0), (3, 7), (4, 3), (5, 10), (6, 2)], 10) == ([[1, 3, 4, 5]], True)
    assert batches([(1, 12), (2, 9)], 10) == ([[1]], True)
    assert batches([(1, 10)], 10) == ([[1]], False)
    assert batches([], 10) == ([], False)
    assert comment_threshold(3) == 10 and comment_threshold(15) == 15 and comment_threshold(1) == 10
    assert comment_threshold(5, 12) == 12
