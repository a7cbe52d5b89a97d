"""Answers to strands, yes / no / not sure and reverse-scored items; banks edited between rounds."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import Database
from storage.models import Round
from surveys.answers import Answer, AnswerResult, Outcome, record_answer
from surveys.banks import BankRegistry
from surveys.scoring import Split, mean_score, option_split
from tests.surveys.helpers import NOW, SCHOOL, new_round, responses

SECRET = b"answers-secret"
STRANDS = "maturity-strands"


async def answer(
    db: Database, banks: BankRegistry, round_id: int, item: str, option: str, facet: str = "", user: str = "U1"
) -> AnswerResult:
    return await record_answer(
        db,
        banks,
        SECRET,
        Answer.model_validate({"r": round_id, "i": item, "o": option, "f": facet}),
        user_id=user,
        channel_id=SCHOOL,
        now=NOW,
    )


async def test_strand_now_and_future_are_two_answers_with_levels_as_scores(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, [STRANDS])
    item = round_.items[0]["item"]
    first = await answer(db, banks, round_.id, item, "developing", "now")
    assert (first.outcome, first.facet, first.open_facets) == (Outcome.RECORDED, "now", ("future",))
    assert first.item_name == banks[STRANDS].item(item).name  # type: ignore[union-attr]
    second = await answer(db, banks, round_.id, item, "leading", "future")
    assert (second.outcome, second.open_facets) == (Outcome.RECORDED, ())
    again = await answer(db, banks, round_.id, item, "embedding", "now")
    assert (again.outcome, again.previous_label, again.open_facets) == (Outcome.CHANGED, "Developing", ())
    rows = await responses(db)
    assert [(r.facet, r.option, r.score, r.valence) for r in rows] == [
        ("future", "leading", 4, 0),
        ("now", "embedding", 3, 0),
    ]


async def test_facets_must_fit_the_bank(db: Database, banks: BankRegistry) -> None:
    strands = await new_round(db, banks, [STRANDS])
    trust = await new_round(db, banks, ["staff-trust-in-leadership"])
    picks = await new_round(db, banks, ["leadership-trust-behaviours"])
    strand = strands.items[0]["item"]
    assert (await answer(db, banks, strands.id, strand, "leading")).outcome is Outcome.INVALID
    assert (await answer(db, banks, strands.id, strand, "leading", "self")).outcome is Outcome.INVALID
    assert (await answer(db, banks, trust.id, trust.items[0]["item"], "agree", "now")).outcome is Outcome.INVALID
    # a picks exercise is never answered by a button
    exercise = picks.items[0]["item"]
    assert (await answer(db, banks, picks.id, exercise, "strong", "self")).outcome is Outcome.INVALID
    assert await responses(db) == []


async def test_not_sure_is_stored_neutral_and_scored_on_its_own(db: Database, banks: BankRegistry) -> None:
    round_ = await new_round(db, banks, ["student-trust-in-staff"])
    item = round_.items[0]["item"]
    for user, option in [("U1", "yes"), ("U2", "not-sure"), ("U3", "not-sure"), ("U4", "no")]:
        assert (await answer(db, banks, round_.id, item, option, user=user)).outcome is Outcome.RECORDED
    rows = await responses(db)
    assert sorted((r.option, r.valence) for r in rows) == [("no", -1), ("not-sure", 0), ("not-sure", 0), ("yes", 1)]
    assert Split.from_valences({v: sum(1 for r in rows if r.valence == v) for v in (1, 0, -1)}) == Split(1, 2, 1)


async def test_reverse_item_stores_flipped_valence_and_raw_score(db: Database, banks: BankRegistry) -> None:
    bank = banks["staff-trust-in-one-another"]
    reverse = [i for i in bank.items if i.reverse]
    round_ = await new_round(db, banks, [bank.id], items=10)
    assert {i.id for i in reverse} <= {ref["item"] for ref in round_.items}
    await answer(db, banks, round_.id, reverse[0].id, "strongly-agree", user="U1")
    await answer(db, banks, round_.id, reverse[0].id, "disagree", user="U2")
    rows = await responses(db)
    assert sorted((r.option, r.score, r.valence) for r in rows) == [("disagree", 2, 1), ("strongly-agree", 4, -1)]
    # the digest's view: stored valences already reverse-scored; the mean mirrored within the scale
    assert Split.from_valences({1: 1, -1: 1}) == option_split(
        {"strongly-agree": 1, "disagree": 1}, bank.scale_of(reverse[0]).valences(), reverse=True
    )
    assert mean_score(sum(r.score for r in rows), 2, reverse=True, bounds=bank.scale_of(reverse[0]).bounds) == 2.0


async def test_editing_a_bank_never_rewrites_answers_and_new_rounds_use_the_new_version(
    db: Database, banks: BankRegistry
) -> None:
    bank = banks["staff-trust-in-leadership"]
    round_ = await new_round(db, banks, [bank.id])
    item_id = round_.items[0]["item"]
    await answer(db, banks, round_.id, item_id, "agree", user="U1")
    await answer(db, banks, round_.id, item_id, "strongly-disagree", user="U2")
    before = [(r.item_id, r.option, r.score, r.valence, r.bank_version) for r in await responses(db)]

    # version 2: the item reworded, every score doubled, "agree" now counted unfavourable
    scale = bank.scales["agreement"]
    options = [
        o.model_copy(update={"score": o.score * 2, "valence": "unfavourable" if o.value == "agree" else o.valence})
        for o in scale.options
    ]
    edited = bank.model_copy(
        update={
            "version": bank.version + 1,
            "scales": {"agreement": scale.model_copy(update={"options": options})},
            "items": [i.model_copy(update={"text": "Reworded."}) if i.id == item_id else i for i in bank.items],
        }
    )
    registry = BankRegistry([edited])

    assert [(r.item_id, r.option, r.score, r.valence, r.bank_version) for r in await responses(db)] == before
    assert before == [(item_id, "agree", 3, 1, 1), (item_id, "strongly-disagree", 1, -1, 1)]

    later = await new_round(db, registry, [bank.id], survey_id=round_.survey_id)
    assert {ref["version"] for ref in later.items} == {bank.version + 1}
    async with db.session() as session:
        first = await session.scalar(select(Round).where(Round.id == round_.id))
    assert first is not None and {ref["version"] for ref in first.items} == {bank.version}
    # a new answer is scored by the version that is loaded; the old ones keep theirs
    later_item = later.items[0]["item"]
    await answer(db, registry, later.id, later_item, "agree", user="U1")
    new_row = [r for r in await responses(db) if r.round_id == later.id]
    assert [(r.score, r.valence, r.bank_version) for r in new_row] == [(6, -1, bank.version + 1)]
    assert [
        (r.item_id, r.option, r.score, r.valence, r.bank_version)
        for r in await responses(db)
        if r.round_id == round_.id
    ] == before
