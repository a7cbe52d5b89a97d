"""The JPD exchange on a real database (both backends): topics, opening, answering, closing once."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.models import JpdEntry, JpdExchange, JpdNotice, JpdTopic
from surveys.jpd import exchange as ex
from surveys.jpd import topics as tp
from surveys.jpd.summary import summary_of

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
DEADLINE = NOW + dt.timedelta(days=7)
AFTER = DEADLINE + dt.timedelta(minutes=1)


async def rows(db: Database, model: type) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def opened(db: Database, scope: str = "", kind: str = "staff", deadline: dt.datetime = DEADLINE) -> int:
    async with db.session() as s:
        topics = await tp.topics_of(s, scope)
        exchange = await ex.open_exchange(
            s,
            scope=scope,
            platform="slack",
            channel="C0STAFF",
            opened_by="UCOORD",
            deadline=deadline,
            topics=topics,
            now=NOW,
            kind=kind,
        )
        return exchange.id


def choice(offers: str, wants: str, note: str = "", unit: str = "") -> ex.Choice:
    return ex.Choice(tuple(offers.split()), tuple(wants.split()), note, unit)


# -- topics -----------------------------------------------------------------------------------


async def test_a_scope_starts_with_the_starter_list_and_keeps_what_the_coordinator_changes(db: Database) -> None:
    async with db.session() as s:
        assert [t.slug for t in await tp.topics_of(s, "T1")] == [slug for slug, _ in tp.STARTERS]
        added = await tp.add_topic(s, "T1", "  Retrieval   quizzes ")
        removed = await tp.remove_topic(s, "T1", "FEEDBACK")
    assert (added.slug, added.label, removed.slug) == ("retrieval-quizzes", "Retrieval quizzes", "feedback")
    async with db.session() as s:
        slugs = [t.slug for t in await tp.topics_of(s, "T1")]
        other = [t.slug for t in await tp.topics_of(s, "T2")]
    assert "retrieval-quizzes" in slugs and "feedback" not in slugs and len(slugs) == len(tp.STARTERS)
    assert other == [slug for slug, _ in tp.STARTERS]  # another workspace is untouched


async def test_an_emptied_list_stays_empty_and_a_removed_topic_can_come_back(db: Database) -> None:
    async with db.session() as s:
        for slug, _ in tp.STARTERS:
            await tp.remove_topic(s, "", slug)
    async with db.session() as s:
        assert await tp.topics_of(s, "") == []
        await tp.add_topic(s, "", "feedback")
    async with db.session() as s:
        assert [(t.slug, t.label) for t in await tp.topics_of(s, "")] == [("feedback", "feedback")]


@pytest.mark.parametrize(
    ("change", "label", "why"),
    [
        ("add", "Feedback", "already a topic"),
        ("add", "x" * 61, "at most 60"),
        ("add", "!!!", "letter or digit"),
        ("add", "   ", "Give the topic a name"),
        ("remove", "knitting", "no topic 'knitting'"),
    ],
)
async def test_a_bad_topic_change_is_refused_and_changes_nothing(
    db: Database, change: str, label: str, why: str
) -> None:
    async with db.session() as s:
        await tp.add_topic(s, "", "Coaching conversations")  # the list is written down
    before = await rows(db, JpdTopic)
    with pytest.raises(tp.TopicError, match=why):
        async with db.session() as s:
            await (tp.add_topic if change == "add" else tp.remove_topic)(s, "", label)
    assert await rows(db, JpdTopic) == before


# -- opening ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deadline", "why"),
    [
        (NOW - dt.timedelta(minutes=1), "already passed"),
        (NOW, "already passed"),
        (NOW + dt.timedelta(days=61), "within 60 days"),
    ],
)
async def test_a_bad_deadline_opens_nothing(db: Database, deadline: dt.datetime, why: str) -> None:
    with pytest.raises(ex.ExchangeError, match=why):
        await opened(db, deadline=deadline)
    assert await rows(db, JpdExchange) == 0


async def test_a_second_open_exchange_is_refused_but_another_workspace_may_open_one(db: Database) -> None:
    first = await opened(db, "T1")
    with pytest.raises(ex.ExchangeError, match=f"Exchange {first} is still open"):
        await opened(db, "T1")
    await opened(db, "T2")
    assert await rows(db, JpdExchange) == 2


async def test_two_exchanges_opened_at_once_leave_one(db: Database) -> None:
    results = await asyncio.gather(opened(db), opened(db), return_exceptions=True)
    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, ex.ExchangeError) for r in results) == 1
    assert await rows(db, JpdExchange) == 1


async def test_an_exchange_needs_topics_to_choose_from(db: Database) -> None:
    async with db.session() as s:
        for slug, _ in tp.STARTERS[1:]:
            await tp.remove_topic(s, "", slug)
    with pytest.raises(ex.ExchangeError, match="at least 2 topics"):
        await opened(db)
    assert await rows(db, JpdExchange) == 0


# -- answering ------------------------------------------------------------------------------------


async def entry(db: Database, exchange_id: int, person: str) -> JpdEntry | None:
    async with db.session() as s:
        return await ex.entry_of(s, exchange_id, person)


async def test_a_person_opts_in_changes_and_withdraws(db: Database) -> None:
    xid = await opened(db)
    assert await ex.answer(db, xid, "U1", choice("feedback reading", "oracy", " Year 7 "), NOW) is True
    assert await ex.answer(db, xid, "U1", choice("questioning", "oracy behaviour", "", "Maths"), NOW) is False
    stored = await entry(db, xid, "U1")
    assert stored is not None
    assert (stored.offers, stored.wants, stored.note, stored.unit) == (
        ["questioning"],
        ["behaviour", "oracy"],
        "",
        "Maths",
    )
    assert await ex.withdraw(db, xid, "U1", NOW) is True
    assert await ex.withdraw(db, xid, "U1", NOW) is False
    assert await entry(db, xid, "U1") is None


@pytest.mark.parametrize(
    ("given", "why"),
    [
        (choice("knitting", "oracy"), "no topic 'knitting'"),
        (choice("feedback", "latin"), "no topic 'latin'"),
        (choice("", "oracy"), "could offer"),
        (choice("feedback", ""), "like to gain"),
        (choice("feedback", "oracy", "x" * 301), "at most 300"),
    ],
)
async def test_a_bad_answer_is_refused_and_keeps_the_earlier_one(db: Database, given: ex.Choice, why: str) -> None:
    xid = await opened(db)
    await ex.answer(db, xid, "U1", choice("feedback", "reading"), NOW)
    with pytest.raises(ex.ExchangeError, match=why):
        await ex.answer(db, xid, "U1", given, NOW)
    stored = await entry(db, xid, "U1")
    assert stored is not None and (stored.offers, stored.wants) == (["feedback"], ["reading"])


async def test_a_school_must_say_which_school(db: Database) -> None:
    xid = await opened(db, kind="schools")
    with pytest.raises(ex.ExchangeError, match="which school"):
        await ex.answer(db, xid, "U1", choice("feedback", "reading"), NOW)
    assert await ex.answer(db, xid, "U1", choice("feedback", "reading", unit="Oakfield Primary"), NOW)


async def test_past_the_deadline_nothing_changes(db: Database) -> None:
    xid = await opened(db)
    await ex.answer(db, xid, "U1", choice("feedback", "reading"), NOW)
    late = DEADLINE + ex.GRACE + dt.timedelta(seconds=1)
    with pytest.raises(ex.ExchangeError, match="has closed"):
        await ex.answer(db, xid, "U1", choice("oracy", "reading"), late)
    with pytest.raises(ex.ExchangeError, match="has closed"):
        await ex.withdraw(db, xid, "U1", late)
    stored = await entry(db, xid, "U1")
    assert stored is not None and stored.offers == ["feedback"]


async def test_a_double_click_stores_one_entry(db: Database) -> None:
    xid = await opened(db)
    await asyncio.gather(*(ex.answer(db, xid, "U1", choice("feedback", "reading"), NOW) for _ in range(4)))
    assert await rows(db, JpdEntry) == 1


# -- closing ------------------------------------------------------------------------------------


async def test_closing_forms_groups_once_and_queues_every_notice(db: Database) -> None:
    xid = await opened(db)
    async with db.session() as s:
        (await s.get(JpdExchange, xid)).invitation_ref = "1700000000.000100"  # type: ignore[union-attr]
    await ex.answer(db, xid, "UANA", choice("feedback", "reading", "Happy to host"), NOW)
    await ex.answer(db, xid, "UBEN", choice("reading", "feedback"), NOW)
    await ex.answer(db, xid, "UCAL", choice("questioning", "oracy"), NOW)  # nobody offers oracy
    closed = await asyncio.gather(*(ex.close(db, xid, AFTER) for _ in range(3)))
    done = [c for c in closed if c is not None]
    assert len(done) == 1 and (done[0].took_part, done[0].grouped, done[0].groups) == (3, 2, 1)
    async with db.session() as s:
        exchange = await s.get(JpdExchange, xid)
        notices = (await s.scalars(select(JpdNotice).order_by(JpdNotice.id))).all()
    assert exchange is not None and exchange.closed_at == AFTER
    assert exchange.result is not None and [g["members"] for g in exchange.result["groups"]] == [["UANA", "UBEN"]]
    assert [(n.kind, n.to) for n in notices] == [
        ("group", ["UANA", "UBEN"]),
        ("unmatched", ["UCAL"]),
        ("summary", ["UCOORD"]),
        ("invitation", ["C0STAFF"]),
    ]
    assert notices[0].body["notes"] == {"UANA": "Happy to host"}
    with pytest.raises(ex.ExchangeError, match="has closed"):
        await ex.answer(db, xid, "UDEE", choice("oracy", "questioning"), AFTER)
    assert await ex.close_due(db, AFTER + dt.timedelta(hours=1)) == []


async def test_close_due_closes_only_what_is_due_and_close_now_brings_the_deadline_forward(db: Database) -> None:
    xid = await opened(db)
    assert await ex.close_due(db, DEADLINE - dt.timedelta(seconds=1)) == []
    closed = await ex.close_now(db, "", NOW + dt.timedelta(hours=1))
    assert closed.exchange_id == xid
    with pytest.raises(ex.ExchangeError, match="No exchange is open"):
        await ex.close_now(db, "", NOW + dt.timedelta(hours=2))
    assert await opened(db) != xid  # a new one may open once the last has closed


async def test_the_summary_counts_topics_groups_and_gaps(db: Database) -> None:
    first = await opened(db)
    await ex.answer(db, first, "UANA", choice("feedback", "reading"), NOW)
    await ex.answer(db, first, "UBEN", choice("reading", "feedback"), NOW)
    await ex.close(db, first, AFTER)
    xid = await opened(db, deadline=AFTER + dt.timedelta(days=7))
    await ex.answer(db, xid, "UANA", choice("feedback", "reading"), NOW)
    await ex.answer(db, xid, "UBEN", choice("reading", "feedback"), NOW)
    await ex.answer(db, xid, "UCAL", choice("feedback questioning", "oracy"), NOW)
    await ex.close(db, xid, AFTER)
    async with db.session() as s:
        exchange = await s.get(JpdExchange, xid)
        assert exchange is not None
        summary = await summary_of(s, exchange)
    assert (summary.took_part, summary.grouped, summary.pairs, summary.threes) == (3, 2, 1, 0)
    assert summary.most_offered[0] == ("Feedback pupils act on", 2)
    assert summary.gaps == (("Talk and oracy in lessons", 1),)
    assert summary.offered_by_nobody == ("Talk and oracy in lessons",)
    assert [(p.exchange_id, p.took_part, p.grouped) for p in summary.earlier] == [(first, 2, 2)]


async def test_deleting_an_exchange_removes_every_name_and_answer_but_only_once_closed(db: Database) -> None:
    xid = await opened(db, "T1")
    await ex.answer(db, xid, "UANA", choice("feedback", "reading"), NOW)
    await ex.answer(db, xid, "UBEN", choice("reading", "feedback"), NOW)
    with pytest.raises(ex.ExchangeError, match="still open"):
        await ex.delete_exchange(db, "T1", xid)
    await ex.close(db, xid, AFTER)
    with pytest.raises(ex.ExchangeError, match=f"no exchange {xid} here"):
        await ex.delete_exchange(db, "T2", xid)  # another workspace's cannot be reached
    assert (await rows(db, JpdEntry), await rows(db, JpdNotice)) == (2, 2)  # the group, the summary
    await ex.delete_exchange(db, "T1", xid)
    assert [await rows(db, m) for m in (JpdExchange, JpdEntry, JpdNotice)] == [0, 0, 0]
