"""The trust-behaviour exercise against a real database: stored anonymously, replaced on resubmit."""

from __future__ import annotations

import asyncio
import datetime as dt

from storage.db import Database
from surveys.anonymity import respondent_key
from surveys.answers import Outcome
from surveys.banks import BankRegistry
from surveys.picks import TOOK_PART, PickSet, check_picks, picks_of, record_picks
from tests.surveys.helpers import NOW, SCHOOL, new_round, responses

BANK = "leadership-trust-behaviours"
SECRET = b"picks-secret"


def ids(banks: BankRegistry) -> list[str]:
    return [i.id for i in banks[BANK].items]


async def submit(db: Database, banks: BankRegistry, round_id: int, user: str, picks: dict[str, PickSet], **kw):  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return await record_picks(
            session,
            banks,
            SECRET,
            round_id,
            BANK,
            picks,
            user_id=user,
            channel_id=kw.get("channel", SCHOOL),
            now=kw.get("now", NOW),
        )


async def test_picks_stored_one_row_per_behaviour_plus_participation(db: Database, banks: BankRegistry) -> None:
    b = ids(banks)
    round_ = await new_round(db, banks, [BANK])
    assert [(i["item"], i["bank"]) for i in round_.items] == [(BANK, BANK)]
    picks = {"self": PickSet(strong=tuple(b[:5]), weak=tuple(b[5:8])), "team": PickSet(strong=(b[0],), weak=(b[12],))}
    result = await submit(db, banks, round_.id, "U1", picks)
    assert result.outcome is Outcome.RECORDED
    assert result.counts == {"self": (5, 3), "team": (1, 1)}

    rows = await responses(db)
    picked = {(r.item_id, r.facet, r.option, r.score, r.valence) for r in rows if r.item_id != BANK}
    assert picked == (
        {(i, "self", "strong", 1, 1) for i in b[:5]}
        | {(i, "self", "weak", -1, -1) for i in b[5:8]}
        | {(b[0], "team", "strong", 1, 1), (b[12], "team", "weak", -1, -1)}
    )
    took_part = [(r.facet, r.option, r.valence) for r in rows if r.item_id == BANK]
    assert sorted(took_part) == [("self", TOOK_PART, 0), ("team", TOOK_PART, 0)]
    # anonymous: every key is the per-round-and-item HMAC, no user id anywhere in the row
    for r in rows:
        assert r.respondent_key == respondent_key(SECRET, round_.id, r.item_id, "U1")
        assert "U1" not in repr([getattr(r, c) for c in ("item_id", "facet", "segment", "option", "respondent_key")])
        assert r.segment == SCHOOL and r.bank_version == banks[BANK].version and r.day == NOW.date()


async def test_resubmitting_replaces_that_persons_picks_only(db: Database, banks: BankRegistry) -> None:
    b = ids(banks)
    round_ = await new_round(db, banks, [BANK])
    await submit(
        db, banks, round_.id, "U1", {"self": PickSet(strong=tuple(b[:5]), weak=tuple(b[5:8])), "team": PickSet()}
    )
    await submit(db, banks, round_.id, "U2", {"self": PickSet(strong=(b[0],)), "team": PickSet(weak=(b[1],))})

    again = await submit(db, banks, round_.id, "U1", {"self": PickSet(strong=(b[9],)), "team": PickSet(weak=(b[0],))})
    assert again.outcome is Outcome.CHANGED

    async with db.session() as session:
        mine = await picks_of(session, banks, SECRET, round_.id, BANK, user_id="U1")
        theirs = await picks_of(session, banks, SECRET, round_.id, BANK, user_id="U2")
    assert mine == {"self": PickSet(strong=(b[9],)), "team": PickSet(weak=(b[0],))}
    assert theirs == {"self": PickSet(strong=(b[0],)), "team": PickSet(weak=(b[1],))}
    rows = await responses(db)
    assert len([r for r in rows if r.item_id != BANK]) == 4
    assert sorted(r.facet for r in rows if r.item_id == BANK) == ["self", "self", "team", "team"]


async def test_withdrawing_a_perspective_removes_its_picks_and_participation(db: Database, banks: BankRegistry) -> None:
    b = ids(banks)
    round_ = await new_round(db, banks, [BANK])
    await submit(db, banks, round_.id, "U1", {"self": PickSet(strong=(b[0],)), "team": PickSet(strong=(b[1],))})
    await submit(db, banks, round_.id, "U1", {"self": PickSet(strong=(b[2],)), "team": PickSet()})
    rows = await responses(db)
    assert {(r.item_id, r.facet) for r in rows} == {(b[2], "self"), (BANK, "self")}


async def test_invalid_picks_store_nothing(db: Database, banks: BankRegistry) -> None:
    b = ids(banks)
    bank = banks[BANK]
    round_ = await new_round(db, banks, [BANK])
    cases = [
        {"self": PickSet(strong=tuple(b[:6]))},  # too many strongest
        {"self": PickSet(weak=tuple(b[:4]))},  # too many weakest
        {"self": PickSet(strong=(b[0],), weak=(b[0],))},  # both strong and weak
        {"self": PickSet(strong=("not-a-behaviour",))},
        {"self": PickSet(strong=(b[0], b[0]))},
        {"boss": PickSet(strong=(b[0],))},
        {"self": PickSet(), "team": PickSet()},
    ]
    for picks in cases:
        assert check_picks(bank, picks), picks
        assert (await submit(db, banks, round_.id, "U1", picks)).outcome is Outcome.INVALID
    # a segment outside the survey's audience, and a bank the round did not ask
    ok = {"self": PickSet(strong=(b[0],))}
    assert check_picks(bank, ok) == {}
    assert (await submit(db, banks, round_.id, "U1", ok, channel="C0ELSEWHERE")).outcome is Outcome.INVALID
    other = await new_round(db, banks, ["staff-trust-in-leadership"])
    assert (await submit(db, banks, other.id, "U1", ok)).outcome is Outcome.INVALID
    assert await responses(db) == []


async def test_closed_round_refuses_picks(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [BANK], hours=1)
    later = NOW + dt.timedelta(hours=2)
    result = await submit(db, banks, round_.id, "U1", {"self": PickSet(strong=(ids(banks)[0],))}, now=later)
    assert result.outcome is Outcome.CLOSED
    assert await responses(db) == []


async def test_two_submissions_at_once_leave_one_whole_set_not_a_mix(db: Database, banks: BankRegistry) -> None:
    b = ids(banks)
    round_ = await new_round(db, banks, [BANK])
    first = {"self": PickSet(strong=tuple(b[:5]), weak=tuple(b[5:8]))}
    second = {"self": PickSet(strong=tuple(b[8:13]), weak=tuple(b[:3]))}
    await asyncio.gather(*(submit(db, banks, round_.id, "U1", p) for p in (first, second)))
    async with db.session() as session:
        final = await picks_of(session, banks, SECRET, round_.id, BANK, user_id="U1")
    assert final in ({"self": first["self"]}, {"self": second["self"]})
    assert len([r for r in await responses(db) if r.item_id == BANK]) == 1
