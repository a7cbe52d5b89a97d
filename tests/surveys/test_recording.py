"""The answer recorder of a busy web process: round facts kept for seconds, answers written together.

Real database (both backends), real banks; the only stand-in is the recorder's own monotonic
clock, so that "a few seconds later" needs no waiting.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import delete, event, update

from storage import ballots
from storage.db import Database
from storage.models import Round, Survey
from surveys.answers import Answer, AnswerResult, Outcome, record_answer
from surveys.banks import BankRegistry
from surveys.keys import new_nonce
from surveys.recording import AnswerRecorder
from tests.surveys.helpers import NOW, SCHOOL, new_round, responses, seal_round, sealed

SECRET = b"recording-secret"
TRUST = "staff-trust-in-leadership"
STRANDS = "maturity-strands"


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def recorder(db: Database, banks: BankRegistry, ticks: Ticks | None = None) -> AnswerRecorder:
    return AnswerRecorder(lambda: db, banks, SECRET, monotonic=ticks or Ticks())


def click(round_: Round, option: str, facet: str = "", item: str | None = None) -> Answer:
    return Answer.model_validate({"r": round_.id, "i": item or round_.items[0]["item"], "o": option, "f": facet})


async def record(
    rec: AnswerRecorder, answer: Answer, user: str, now: dt.datetime = NOW, channel: str = SCHOOL
) -> AnswerResult:
    return await rec.record(answer, user_id=user, channel_id=channel, now=now)


def count_transactions(db: Database) -> list[int]:
    begun = [0]

    def on_begin(_conn: Any) -> None:
        begun[0] += 1

    event.listen(db.engine.sync_engine, "begin", on_begin)
    return begun


async def test_clicks_arriving_together_share_a_transaction_and_each_is_stored_once(
    db: Database, banks: BankRegistry
) -> None:
    round_ = await new_round(db, banks, [TRUST])
    rec = recorder(db, banks)
    begun = count_transactions(db)
    people = [f"U{n:03d}" for n in range(60)]
    results = await asyncio.gather(*(record(rec, click(round_, "agree"), user) for user in people))
    assert {r.outcome for r in results} == {Outcome.RECORDED}
    assert len(await responses(db)) == 60
    # One read of the round's facts and a handful of batches, not sixty transactions.
    assert begun[0] < 60 / 4


async def test_a_quick_second_click_by_the_same_person_is_applied_after_the_first(
    db: Database, banks: BankRegistry
) -> None:
    round_ = await new_round(db, banks, [TRUST])
    rec = recorder(db, banks)
    first, second, other = await asyncio.gather(
        record(rec, click(round_, "agree"), "U1"),
        record(rec, click(round_, "strongly-disagree"), "U1"),
        record(rec, click(round_, "agree"), "U2"),
    )
    assert (first.outcome, second.outcome, other.outcome) == (Outcome.RECORDED, Outcome.CHANGED, Outcome.RECORDED)
    assert second.previous_label == first.option_label
    assert sorted(r.option for r in await responses(db)) == ["agree", "strongly-disagree"]


async def test_results_are_those_of_record_answer(db: Database, banks: BankRegistry) -> None:
    """The same clicks, one round through the recorder and one through record_answer."""
    first = await new_round(db, banks, [STRANDS])
    async with db.session() as session:
        # A twin of the first round (same survey, same item), for record_answer.
        twin = Round(
            survey_id=first.survey_id,
            seq=2,
            slot=first.slot + dt.timedelta(seconds=1),
            opened_at=first.opened_at,
            closes_at=first.closes_at,
            items=first.items,
            audience_size=20,
        )
        session.add(twin)
        await session.flush()
        await ballots.add_round_key(session, twin.id, new_nonce())
    rounds, item = [first, twin], first.items[0]["item"]
    rec = recorder(db, banks)
    steps = [("U1", "developing", "now"), ("U1", "leading", "future"), ("U1", "embedding", "now")]
    steps += [("U1", "embedding", "now"), ("U2", "leading", "future"), ("U2", "nonsense", "now")]
    for user, option, facet in steps:
        batched = await record(rec, click(rounds[0], option, facet, item), user)
        alone = await record_answer(
            db, banks, SECRET, click(rounds[1], option, facet, item), user_id=user, channel_id=SCHOOL, now=NOW
        )
        assert batched == alone
    outside = await record(rec, click(rounds[0], "leading", "now", item), "U3", channel="C0ELSE")
    assert outside.outcome is Outcome.INVALID
    stored = await responses(db)
    assert sorted((r.facet, r.option) for r in stored if r.round_id == rounds[0].id) == sorted(
        (r.facet, r.option) for r in stored if r.round_id == rounds[1].id
    )


async def test_a_round_closes_on_time_whatever_is_kept(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [TRUST], hours=1)
    rec = recorder(db, banks)
    assert (await record(rec, click(round_, "agree"), "U1")).outcome is Outcome.RECORDED
    # The facts are kept; their closes_at alone refuses a click at the minute the round closes.
    late = await record(rec, click(round_, "disagree"), "U2", now=NOW + dt.timedelta(hours=1))
    assert late.outcome is Outcome.CLOSED
    assert [r.option for r in await responses(db)] == ["agree"]


async def test_a_round_closed_or_a_survey_edited_is_honoured_within_the_ttl(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [TRUST])
    ticks = Ticks()
    rec = recorder(db, banks, ticks)
    assert (await record(rec, click(round_, "agree"), "U1")).timezone == "Europe/London"
    async with db.session() as session:
        await session.execute(update(Survey).where(Survey.id == round_.survey_id).values(timezone="Asia/Tokyo"))
    # Closed before its time, and sealed: even a click checked against the kept facts stores nothing.
    await seal_round(db, round_.id, now=NOW + dt.timedelta(minutes=5))
    early = await record(rec, click(round_, "disagree"), "U2", now=NOW + dt.timedelta(minutes=6))
    assert early.outcome is Outcome.CLOSED
    ticks.now += rec.ttl
    later = NOW + dt.timedelta(minutes=10)
    assert (await record(rec, click(round_, "disagree"), "U2", now=later)).outcome is Outcome.CLOSED
    assert await responses(db) == []
    assert [(c.option, c.n) for c in await sealed(db)] == [("agree", 1)]


async def test_one_answer_that_cannot_be_written_does_not_sink_the_others(db: Database, banks: BankRegistry) -> None:
    kept, gone = await new_round(db, banks, [TRUST]), await new_round(db, banks, [TRUST])
    rec = recorder(db, banks)
    for round_ in (kept, gone):
        assert (await record(rec, click(round_, "agree"), "U0")).outcome is Outcome.RECORDED

    # A fault in the database for the one round's rows (here injected at the driver) fails the batch.
    def fail_gone(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        rows = parameters if many else [parameters]
        if "INSERT INTO held_answers" in statement and any(gone.id in tuple(r) for r in rows):
            raise RuntimeError("disk I/O error")

    event.listen(db.engine.sync_engine, "before_cursor_execute", fail_gone)
    results = await asyncio.gather(
        *(record(rec, click(kept, "agree"), f"U{n}") for n in range(1, 6)),
        record(rec, click(gone, "agree"), "U9"),
        return_exceptions=True,
    )
    assert [r.outcome for r in results[:5] if isinstance(r, AnswerResult)] == [Outcome.RECORDED] * 5
    assert isinstance(results[5], Exception)
    event.remove(db.engine.sync_engine, "before_cursor_execute", fail_gone)
    assert sorted({r.round_id for r in await responses(db)}) == [kept.id, gone.id]
    assert len(await responses(db)) == 7
    async with db.session() as session:
        await session.execute(delete(Round).where(Round.id == gone.id))
    # The failure made the recorder read that round again: it is gone, so the click is invalid.
    assert (await record(rec, click(gone, "agree"), "U9")).outcome is Outcome.INVALID


async def test_room_holds_a_caller_while_the_backlog_is_full_and_lets_it_go_once_a_batch_is_taken(
    db: Database, banks: BankRegistry
) -> None:
    round_ = await new_round(db, banks, [TRUST])
    rec = AnswerRecorder(lambda: db, banks, SECRET, monotonic=Ticks(), max_batch=4)
    await rec.room(1)  # nothing queued: no wait at all
    await rec.facts(round_.id)  # kept, so the clicks below queue at once
    clicks = [asyncio.create_task(record(rec, click(round_, "agree"), f"U{n:03d}")) for n in range(12)]
    await asyncio.sleep(0)  # queued; the writer has not run yet
    assert rec.backlog == 12
    waiting = asyncio.create_task(rec.room(5))
    await asyncio.sleep(0)  # the writer takes its first batch of 4 while it writes
    assert rec.backlog == 8 and not waiting.done()
    await asyncio.wait_for(waiting, 5)  # once the first is written it takes the next: 4 left, room
    assert rec.backlog < 5
    await asyncio.gather(*clicks)
    assert len(await responses(db)) == 12
