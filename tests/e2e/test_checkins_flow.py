"""One pulse message of each kind, through the real Bolt app over signed HTTP against the Slack double:
it renders within Block Kit's limits, and a click (or a form) is recorded and scored correctly.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from bot.slack.blocks import COMMENT_ACTION
from storage.models import HeldAnswer, SealedCount
from surveys import operations
from surveys.closing import close_due_rounds
from surveys.picks import TOOK_PART
from surveys.scoring import Named, option_split, strand_summary
from tests.e2e.conftest import SCHOOL_A, STAFF_A, make_survey
from tests.harness import Harness
from tests.slack_double import SlackDouble, validate_blocks, validate_view

BEHAVIOURS = "leadership-trust-behaviours"


async def open_round(app: Harness, double: SlackDouble, **survey: Any) -> dict[str, Any]:
    created = await make_survey(app, audience=[SCHOOL_A], **survey)
    round_, report = await operations.open_and_send(
        app.db, app.ctx.banks, app.ctx.require_platform(), created.id, now=app.ctx.clock(), scheduled=False
    )
    assert round_ is not None and report.sent == 1
    message = double.messages_in(SCHOOL_A)[-1]
    assert validate_blocks(message["blocks"]) == []
    return message


def elements(message: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for block in message["blocks"]:
        for el in block.get("elements", []) + ([block["accessory"]] if "accessory" in block else []):
            # The round's "Add a comment" button is not an answer.
            if el.get("type") == "button" and el.get("action_id") != COMMENT_ACTION:
                out.append({**el, "block_id": block.get("block_id")})
    return out


def button(message: dict[str, Any], **match: str) -> dict[str, Any]:
    prefix = match.pop("prefix", "answer:")
    found = [
        el
        for el in elements(message)
        if el["action_id"].startswith(prefix) and all(json.loads(el["value"]).get(k) == v for k, v in match.items())
    ]
    assert len(found) == 1, (match, [e["action_id"] for e in elements(message)])
    return found[0]


async def rows(app: Harness) -> list[HeldAnswer]:
    async with app.db.session() as session:
        return list((await session.scalars(select(HeldAnswer))).all())


async def test_reverse_scored_statement(app: Harness, double: SlackDouble) -> None:
    message = await open_round(app, double, bank_ids=["staff-trust-in-one-another"], items_per_round=10)
    assert len([el for el in elements(message) if el["action_id"].startswith("answer:")]) == 40
    for user, option in zip(STAFF_A[:3], ["strongly-agree", "agree", "disagree"], strict=True):
        assert await app.click(user, SCHOOL_A, button(message, i="peer-reliability", o=option)) == 200
    await app.wait_for(lambda: len(double.ephemerals) == 3)
    stored = await rows(app)
    assert sorted((r.option, r.valence) for r in stored) == [("agree", -1), ("disagree", 1), ("strongly-agree", -1)]
    bank = app.ctx.banks["staff-trust-in-one-another"]
    item = bank.item("peer-reliability")
    assert item is not None
    split = option_split({r.option: 1 for r in stored}, bank.scale_of(item).valences(), reverse=item.reverse)
    assert (split.favourable, split.unfavourable) == (1, 2)


async def test_yes_no_not_sure(app: Harness, double: SlackDouble) -> None:
    message = await open_round(app, double, bank_ids=["student-trust-in-staff"], items_per_round=1)
    item = json.loads(elements(message)[0]["value"])["i"]
    assert [el["text"]["text"] for el in elements(message)] == ["Yes", "Not sure", "No"]
    choices = ["not-sure", "not-sure", "yes", "no", "not-sure"]
    for user, option in zip(STAFF_A, choices, strict=False):
        await app.click(user, SCHOOL_A, button(message, i=item, o=option))
    await app.wait_for(lambda: len(double.ephemerals) == len(choices))
    assert "recorded anonymously: *Not sure*" in double.ephemerals[0]["text"]
    stored = await rows(app)
    assert sorted(r.valence for r in stored) == [-1, 0, 0, 0, 1]
    bank = app.ctx.banks["student-trust-in-staff"]
    counts = {o: choices.count(o) for o in set(choices)}
    split = option_split(counts, bank.scales["yes-no-unsure"].valences())
    assert (split.favourable, split.neutral, split.unfavourable, split.neutral_pct) == (1, 3, 1, 60.0)


async def test_strand_check_in_levels_modal_and_both_halves(app: Harness, double: SlackDouble) -> None:
    message = await open_round(app, double, bank_ids=["maturity-strands"], items_per_round=1)
    assert len(message["blocks"]) == 6  # strand + now row + in-a-year + row, the footer and the comment button
    strand = json.loads(button(message, o="leading", f="now")["value"])["i"]
    bank = app.ctx.banks["maturity-strands"]
    item = bank.item(strand)
    assert item is not None and item.levels is not None
    assert item.levels.leading not in json.dumps(message)

    levels = button(message, prefix="levels:")
    assert await app.click(STAFF_A[0], SCHOOL_A, levels) == 200
    await app.wait_for(lambda: len(double.views) == 1)
    view = double.views[0]["view"]
    assert validate_view(view, surface="modal") == []
    assert all(json.dumps(text)[1:-1] in json.dumps(view) for _, text in item.levels.as_list())
    assert double.ephemerals == [] and len(double.messages_in(SCHOOL_A)) == 1

    await app.click(STAFF_A[0], SCHOOL_A, button(message, o="developing", f="now"))
    await app.wait_for(lambda: len(double.ephemerals) == 1)
    first = double.ephemerals[0]["text"]
    assert f"*{item.name}*, now: *Developing*" in first and "Still open: *in a year*" in first
    await app.click(STAFF_A[0], SCHOOL_A, button(message, o="leading", f="future"))
    await app.wait_for(lambda: len(double.ephemerals) == 2)
    assert "in a year: *Leading*" in double.ephemerals[1]["text"]
    assert "Both halves answered" in double.ephemerals[1]["text"]

    for user, now, future in [(STAFF_A[1], "beginning", "embedding"), (STAFF_A[2], "developing", "embedding")]:
        await app.click(user, SCHOOL_A, button(message, o=now, f="now"))
        await app.click(user, SCHOOL_A, button(message, o=future, f="future"))
    await app.wait_for(lambda: len(double.ephemerals) == 6)
    stored = await rows(app)
    assert {(r.facet, r.valence) for r in stored} == {("now", 0), ("future", 0)}
    by_facet: dict[str, dict[int, int]] = {"now": {}, "future": {}}
    for r in stored:
        by_facet[r.facet][r.score] = by_facet[r.facet].get(r.score, 0) + 1
    summary = strand_summary(by_facet["now"], by_facet["future"])
    assert (summary.now.counts, summary.future.counts) == ((1, 2, 0, 0), (0, 0, 2, 1))
    assert (summary.now.median, summary.future.median, summary.gap) == (2.0, 3.0, 1.0)


def _values(picks: dict[str, list[str]]) -> dict[str, Any]:
    return {
        block: {
            "behaviours": {
                "type": "multi_static_select",
                "selected_options": [{"text": {"type": "plain_text", "text": v}, "value": v} for v in values],
            }
        }
        for block, values in picks.items()
    }


async def test_trust_behaviour_picks_form(app: Harness, double: SlackDouble) -> None:
    message = await open_round(app, double, bank_ids=[BEHAVIOURS], items_per_round=1)
    ids = [i.id for i in app.ctx.banks[BEHAVIOURS].items]
    open_form = button(message, prefix="picks:")
    user = STAFF_A[0]

    assert await app.click(user, SCHOOL_A, open_form) == 200
    await app.wait_for(lambda: len(double.views) == 1)
    form = double.views[0]["view"]
    assert validate_view(form, surface="modal") == []
    assert user not in json.dumps(form)

    # invalid: the same behaviour strong and weak for oneself, too many for the team
    bad = _values({"self:strong": ids[:2], "self:weak": [ids[0]], "team:strong": ids[:6]})
    status, answer = await app.submit_view(user, form, bad)
    assert status == 200 and answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"self:weak", "team:strong"}
    assert await rows(app) == []

    good = _values({"self:strong": ids[:5], "self:weak": ids[5:8], "team:strong": ids[8:10], "team:weak": [ids[0]]})
    status, answer = await app.submit_view(user, form, good)
    assert (status, answer) == (200, {})
    await app.wait_for(lambda: len(double.ephemerals) == 1)
    assert double.ephemerals[0]["user"] == user
    assert "for yourself: 5 strongest, 3 weakest; for the team: 2 strongest, 1 weakest" in double.ephemerals[0]["text"]
    # One held ballot per perspective: the picks travel together until the round is sealed.
    assert len(await rows(app)) == 2

    # reopening shows the earlier picks; sending again replaces them
    await app.click(user, SCHOOL_A, open_form)
    await app.wait_for(lambda: len(double.views) == 2)
    again = double.views[1]["view"]
    initial = {
        b["block_id"]: [o["value"] for o in b["element"].get("initial_options", [])]
        for b in again["blocks"]
        if b["type"] == "input"
    }
    assert initial == {"self:strong": ids[:5], "self:weak": ids[5:8], "team:strong": ids[8:10], "team:weak": [ids[0]]}
    await app.submit_view(user, again, _values({"self:strong": [ids[12]], "team:weak": [ids[12]]}))
    await app.wait_for(lambda: len(double.ephemerals) == 2)
    assert "updated" in double.ephemerals[1]["text"]

    # four more people, so the counts can be checked as the digest will read them
    for other in STAFF_A[1:5]:
        await app.submit_view(other, form, _values({"self:strong": [ids[12]], "team:weak": [ids[12], ids[1]]}))
    await app.wait_for(lambda: len(double.ephemerals) == 6)
    assert len(await rows(app)) == 10
    # Sealed, the ballots become counts: took part, and each behaviour named.
    await close_due_rounds(app.db, now=app.ctx.clock() + dt.timedelta(days=30))
    assert await rows(app) == []
    async with app.db.session() as session:
        stored = list((await session.scalars(select(SealedCount))).all())
    people = {
        p: sum(r.n for r in stored if r.item_id == BEHAVIOURS and r.facet == p and r.option == TOOK_PART)
        for p in ("self", "team")
    }
    assert people == {"self": 5, "team": 5}

    def named(item: str, perspective: str) -> Named:
        mine = [r for r in stored if r.item_id == item and r.facet == perspective]
        return Named(
            sum(r.n for r in mine if r.option == "strong"),
            sum(r.n for r in mine if r.option == "weak"),
            people[perspective],
        )

    assert named(ids[12], "self") == Named(5, 0, 5) and named(ids[12], "team") == Named(0, 5, 5)
    assert named(ids[0], "self") == Named(0, 0, 5)
    assert {r.valence for r in stored if r.option == "strong"} == {1}
    assert {r.valence for r in stored if r.option == "weak"} == {-1}
