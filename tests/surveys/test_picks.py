"""The trust-behaviour exercise against a real database: stored anonymously, replaced on resubmit."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from storage.db import Database
from surveys.answers import Outcome
from surveys.banks import BankRegistry
from surveys.picks import TOOK_PART, PickSet, check_picks, picks_of, record_picks
from tests.surveys.helpers import NOW, SCHOOL, new_round, responses, seal_round, sealed

BANK = "leadership-trust-behaviours"
SECRET = b"picks-secret"


def ids(banks: BankRegistry) -> list[str]:
    return [i.id for i in banks[BANK].items]


async def submit(db: Database, banks: BankRegistry, round_id: int, user: str, picks: dict[str, PickSet], **kw):  # type: ignore[no-untyped-def]
    return await record_picks(
        db,
        banks,
        SECRET,
        round_id,
        BANK,
        picks,
        user_id=user,
        channel_id=kw.get("channel", SCHOOL),
        now=kw.get("now", NOW),
    )


async def test_picks_are_held_as_one_ballot_per_perspective_and_sealed_into_counts(
    db: Database, banks: BankRegistry
) -> None:
    b = ids(banks)
    round_ = await new_round(db, banks, [BANK])
    assert [(i["item"], i["bank"]) for i in round_.items] == [(BANK, BANK)]
    picks = {"self": PickSet(strong=tuple(b[:5]), weak=tuple(b[5:8])), "team": PickSet(strong=(b[0],), weak=(b[12],))}
    result = await submit(db, banks, round_.id, "U1", picks)
    assert result.outcome is Outcome.RECORDED
    assert result.counts == {"self": (5, 3), "team": (1, 1)}
    await submit(db, banks, round_.id, "U2", {"self": PickSet(strong=(b[0],))})

    held = await responses(db)
    assert sorted((r.item_id, r.facet, r.option, r.valence) for r in held) == [
        (BANK, "self", TOOK_PART, 0),
        (BANK, "self", TOOK_PART, 0),
        (BANK, "team", TOOK_PART, 0),
    ]
    ballots = {r.facet: json.loads(r.picks) for r in held if len(json.loads(r.picks)) > 1}
    assert {i for i, option, _, _ in ballots["self"] if option == "strong"} == set(b[:5])
    for r in held:
        assert "U1" not in repr([getattr(r, c) for c in ("item_id", "facet", "segment", "option", "respondent_key")])
        assert r.segment == SCHOOL and r.bank_version == banks[BANK].version

    await seal_round(db, round_.id)
    assert await responses(db) == []
    counts = {(c.item_id, c.facet, c.option, c.score, c.valence): c.n for c in await sealed(db)}
    assert counts == (
        {(BANK, "self", TOOK_PART, 0, 0): 2, (BANK, "team", TOOK_PART, 0, 0): 1}
        | {(i, "self", "strong", 1, 1): 1 for i in b[1:5]}
        | {(b[0], "self", "strong", 1, 1): 2}
        | {(i, "self", "weak", -1, -1): 1 for i in b[5:8]}
        | {(b[0], "team", "strong", 1, 1): 1, (b[12], "team", "weak", -1, -1): 1}
    )
    # Nothing of either ballot survives: not the picks together, not who made them.
    async with db.session() as session:
        assert await picks_of(session, banks, SECRET, round_.id, BANK, user_id="U1") == {}


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
    assert sorted(r.facet for r in rows) == ["self", "self", "team", "team"]


async def test_withdrawing_a_perspective_removes_its_picks_and_participation(db: Database, banks: BankRegistry) -> None:
    b = ids(banks)
    round_ = await new_round(db, banks, [BANK])
    await submit(db, banks, round_.id, "U1", {"self": PickSet(strong=(b[0],)), "team": PickSet(strong=(b[1],))})
    await submit(db, banks, round_.id, "U1", {"self": PickSet(strong=(b[2],)), "team": PickSet()})
    rows = await responses(db)
    assert [(r.item_id, r.facet, json.loads(r.picks)[0][0]) for r in rows] == [(BANK, "self", b[2])]


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
