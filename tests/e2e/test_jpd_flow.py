"""A JPD exchange through the real Slack app (signed HTTP, the Slack double): a coordinator opens
it, people opt in, change and withdraw, the deadline passes, and the clock closes it, introduces
the groups in group DMs, tells the one left out why, and sends the coordinator's summary. Bad
input gets a clear sentence and changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from bot.scheduler import Clock
from bot.slack.jpd_blocks import NOTE, OFFERS, TAKE_PART, UNIT, WANTS, WITHDRAW
from storage.models import JpdEntry, JpdNotice
from surveys.jpd import exchange as ex
from tests.e2e.conftest import LEADERS, SCHOOL_A, STAFF_A, STAFF_B
from tests.e2e.pulse_support import ADMIN, pulse, snapshot
from tests.harness import Harness, SimClock
from tests.slack_double import SlackDouble, validate_blocks, validate_view

# The clock starts on Monday 7 Sep 2026, 09:00 in London; the exchange closes that Friday.
DEADLINE_TEXT = "jpd open 2026-09-11 15:00"
ANA, BEN, CAL, DEE, EVE, FAY, GUS = STAFF_A[:7]


def invitation(double: SlackDouble, channel: str = SCHOOL_A) -> dict[str, Any]:
    [message] = [m for m in double.messages_in(channel) if "exchange" in m["text"].lower()]
    return message


def button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in message["blocks"]:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return {**element, "block_id": block["block_id"]}
    raise AssertionError(f"no {action_id} button")


def state(offers: list[str], wants: list[str], note: str = "", unit: str = "") -> dict[str, Any]:
    def picked(slugs: list[str]) -> dict[str, Any]:
        return {"value": {"type": "multi_static_select", "selected_options": [{"value": s} for s in slugs]}}

    return {
        OFFERS: picked(offers),
        WANTS: picked(wants),
        UNIT: {"value": {"type": "plain_text_input", "value": unit}},
        NOTE: {"value": {"type": "plain_text_input", "value": note}},
    }


async def take_part(
    app: Harness,
    user: str,
    offers: list[str],
    wants: list[str],
    note: str = "",
    *,
    unit: str = "",
    channel: str = SCHOOL_A,
) -> dict[str, Any]:
    """Press "Take part or change", fill the form that opens, send it; the modal it ends as."""
    before = len(app.double.views)
    assert await app.click(user, channel, button(invitation(app.double, channel), TAKE_PART)) == 200
    await app.wait_for(lambda: any(v["kind"] == "open" for v in app.double.views[before:]))
    opened = next(v for v in app.double.views[before:] if v["kind"] == "open")
    assert validate_view(opened["view"], surface="modal") == []
    filled = state(offers, wants, note, unit)
    status, answer = await app.submit_view(user, {**opened["view"], "id": opened["view_id"]}, filled)
    assert status == 200 and answer["response_action"] == "update"
    await app.wait_for(lambda: any(v["kind"] == "update" for v in app.double.views[before:]))
    return next(v for v in app.double.views[before:] if v["kind"] == "update")["view"]


async def run_clock(app: Harness) -> None:
    await Clock(app.ctx).exchanges()


def dm(double: SlackDouble, members: set[str]) -> list[dict[str, Any]]:
    [channel] = [cid for cid, users in double.dms.items() if set(users) == members]
    return double.messages_in(channel)


def dm_text(double: SlackDouble, members: set[str]) -> str:
    return "\n".join(str(m["blocks"]) for m in dm(double, members))


async def test_people_opt_in_change_withdraw_and_are_introduced_at_the_deadline(
    app: Harness, double: SlackDouble, clock: SimClock
) -> None:
    reply = await pulse(app, ADMIN, DEADLINE_TEXT, channel=SCHOOL_A)
    assert reply["text"].startswith("Opened exchange 1") and "Fri 11 Sep 2026, 15:00" in reply["text"]
    posted = invitation(double)
    assert validate_blocks(posted["blocks"]) == []
    assert "not anonymous" in str(posted["blocks"])

    saved = await take_part(app, ANA, ["feedback"], ["reading"], note="Happy to host in Room 12")
    assert saved["title"]["text"] == "You're in" and "Feedback pupils act on" in str(saved["blocks"])
    await take_part(app, BEN, ["oracy"], ["feedback"])
    changed = await take_part(app, BEN, ["reading"], ["feedback"])  # changes his mind
    assert changed["title"]["text"] == "Answer changed"
    await take_part(app, CAL, ["reading"], ["feedback"])
    assert await app.click(CAL, SCHOOL_A, button(posted, WITHDRAW)) == 200  # and withdraws
    await app.wait_for(lambda: any("withdrawn" in r["body"].get("text", "") for r in double.responses))
    # A ring of three: Dee gives Fay, Fay gives Eve, Eve gives Dee; nobody could pair.
    await take_part(app, DEE, ["behaviour"], ["questioning"])
    await take_part(app, EVE, ["questioning"], ["modelling"])
    await take_part(app, FAY, ["modelling"], ["behaviour"])
    await take_part(app, GUS, ["families"], ["wellbeing"])  # nobody wants what Gus offers

    async with app.db.session() as session:
        people = sorted((await session.scalars(select(JpdEntry.person))).all())
    assert people == sorted([ANA, BEN, DEE, EVE, FAY, GUS])

    await run_clock(app)  # before the deadline: nothing happens
    assert double.dms == {}
    clock.advance(dt.timedelta(days=5))  # Saturday
    await run_clock(app)

    pair = dm_text(double, {ANA, BEN})
    assert f"<@{ANA}> could offer <@{BEN}>: *Feedback pupils act on*" in pair
    assert f"<@{BEN}> could offer <@{ANA}>: *Reading across the curriculum*" in pair
    assert "Happy to host in Room 12" in pair
    three = dm_text(double, {DEE, EVE, FAY})
    assert "group of three" in three and f"<@{FAY}> could offer <@{EVE}>: *Modelling and worked examples*" in three
    [left] = dm(double, {GUS})
    assert "nobody wanted what they offer" in left["text"] and "Pupil wellbeing and pastoral care" in left["text"]
    [summary] = dm(double, {ADMIN})
    summary_text = str(summary["blocks"])
    assert "Took part: 6 people" in summary_text and "holding 5 of 6" in summary_text
    assert "(1 of two, 1 of three)" in summary_text
    assert all(validate_blocks(m["blocks"]) == [] for m in double.messages)
    [update] = double.updates
    assert "closed" in str(update["blocks"]) and TAKE_PART not in str(update["blocks"])

    sent = len(double.messages)
    await run_clock(app)  # again: nothing is sent twice
    assert len(double.messages) == sent
    after = await pulse(app, ADMIN, "jpd summary", channel=SCHOOL_A)
    [wanted] = [line for line in after["text"].splitlines() if line.startswith("Most wanted:")]
    assert "Feedback pupils act on (1)" in wanted and "Pupil wellbeing and pastoral care (1)" in wanted


async def test_bad_input_gets_a_clear_sentence_and_changes_nothing(app: Harness, double: SlackDouble) -> None:
    before = await snapshot(app)
    for text, says in [
        ("jpd open 2026-09-01", "already passed"),
        ("jpd open 2027-09-01", "within 60 days"),
        ("jpd open 2026-09-11 25:00", "not a time of day"),
        ("jpd topics remove knitting", "There is no topic 'knitting'"),
        ("jpd close", "No exchange is open"),
    ]:
        reply = await pulse(app, ADMIN, text, channel=SCHOOL_A)
        assert says in reply["text"], text
    from_a_dm = await pulse(app, ADMIN, DEADLINE_TEXT, channel="D0ADMINDM")
    assert "not a direct message" in from_a_dm["text"]
    assert await snapshot(app) == before and double.messages == []

    await pulse(app, ADMIN, DEADLINE_TEXT, channel=SCHOOL_A)
    opened = await snapshot(app)
    reply = await pulse(app, ADMIN, "jpd open 2026-09-12", channel=SCHOOL_A)
    assert "Exchange 1 is still open" in reply["text"]
    assert await snapshot(app) == opened and len(double.messages) == 1

    # A form sent with a topic the exchange does not have (a stale or forged form).
    saved = await take_part(app, ANA, ["knitting"], ["reading"])
    assert saved["title"]["text"] == "Not saved" and "no topic 'knitting'" in str(saved["blocks"])
    assert await snapshot(app) == opened


async def test_a_form_sent_after_the_deadline_changes_nothing(app: Harness, clock: SimClock) -> None:
    await pulse(app, ADMIN, DEADLINE_TEXT, channel=SCHOOL_A)
    await take_part(app, ANA, ["feedback"], ["reading"])
    closed_at = await snapshot(app)
    clock.advance(dt.timedelta(days=5))
    opened = await _open_form(app, ANA)
    assert opened is None  # the button says it has closed instead of opening the form
    reply = app.double.responses[-1]["body"]
    assert "has closed" in reply["text"]
    assert await snapshot(app) == closed_at


async def _open_form(app: Harness, user: str) -> dict[str, Any] | None:
    before_views, before_replies = len(app.double.views), len(app.double.responses)
    assert await app.click(user, SCHOOL_A, button(invitation(app.double), TAKE_PART)) == 200
    await app.wait_for(lambda: len(app.double.views) > before_views or len(app.double.responses) > before_replies)
    return app.double.views[-1]["view"] if len(app.double.views) > before_views else None


async def test_an_invitation_that_cannot_be_posted_opens_no_exchange(app: Harness, double: SlackDouble) -> None:
    double.channels["C0NOBOT"] = {"name": "no-bot", "members": [ADMIN], "is_member": False}
    before = await snapshot(app)
    reply = await pulse(app, ADMIN, DEADLINE_TEXT, channel="C0NOBOT")
    assert "could not be posted" in reply["text"] and "no exchange was opened" in reply["text"]
    assert await snapshot(app) == before


@pytest.mark.parametrize("user", [STAFF_A[0], "UOUTSIDE"])
async def test_only_coordinators_run_exchanges(app: Harness, user: str) -> None:
    before = await snapshot(app)
    reply = await pulse(app, user, DEADLINE_TEXT, channel=SCHOOL_A)
    assert reply["text"].startswith("Sorry, only Pulse coordinators can run JPD exchanges")
    assert await snapshot(app) == before


async def test_schools_of_a_partnership_are_paired_and_the_result_posted_to_its_leaders(
    app: Harness, double: SlackDouble, clock: SimClock
) -> None:
    oakfield, elmwood, hillside = STAFF_A[0], STAFF_B[0], "UL001"
    reply = await pulse(app, ADMIN, "jpd open schools 2026-09-11", channel=LEADERS)
    assert reply["text"].startswith("Opened exchange 1") and "17:00" in reply["text"]
    assert "your school" in str(invitation(double, LEADERS)["blocks"])

    unsaid = await take_part(app, oakfield, ["feedback"], ["reading"], channel=LEADERS)
    assert unsaid["title"]["text"] == "Not saved" and "which school" in str(unsaid["blocks"])
    await take_part(app, oakfield, ["feedback"], ["reading"], unit="Oakfield Primary", channel=LEADERS)
    await take_part(app, elmwood, ["reading"], ["feedback"], unit="Elmwood Academy", channel=LEADERS)
    await take_part(app, hillside, ["families"], ["oracy"], unit="Hillside", channel=LEADERS)
    clock.advance(dt.timedelta(days=5))
    await run_clock(app)

    intro = dm_text(double, {oakfield, elmwood})
    assert f"<@{oakfield}> (Oakfield Primary) could offer <@{elmwood}> (Elmwood Academy)" in intro
    [result] = [m for m in double.messages_in(LEADERS) if "between schools" in m["text"]]
    posted = str(result["blocks"])
    assert "Oakfield Primary" in posted and "Elmwood Academy" in posted
    assert f"<@{hillside}> (Hillside): nobody wanted what they offer" in posted
    assert validate_blocks(result["blocks"]) == []


async def test_a_group_with_someone_who_cannot_be_reached_is_still_introduced_to_the_rest(
    app: Harness, double: SlackDouble, clock: SimClock
) -> None:
    gone = "UBAD0001"  # the double refuses this id, as Slack does an account deactivated since
    await pulse(app, ADMIN, DEADLINE_TEXT, channel=SCHOOL_A)
    await take_part(app, ANA, ["feedback"], ["reading"])
    await ex.answer(app.db, 1, gone, ex.Choice(("reading",), ("feedback",)), app.ctx.clock())
    clock.advance(dt.timedelta(days=5))
    await run_clock(app)
    [intro] = dm(double, {ANA})
    assert f"<@{ANA}> could offer <@{gone}>: *Feedback pupils act on*" in str(intro["blocks"])
    async with app.db.session() as session:
        notices = (await session.scalars(select(JpdNotice).where(JpdNotice.kind == "group"))).all()
    assert [n.sent_at is not None for n in notices] == [True]


async def test_an_outage_at_the_deadline_delays_an_introduction_and_loses_none(
    app: Harness, double: SlackDouble, clock: SimClock
) -> None:
    await pulse(app, ADMIN, DEADLINE_TEXT, channel=SCHOOL_A)
    await take_part(app, ANA, ["feedback"], ["reading"])
    await take_part(app, BEN, ["reading"], ["feedback"])
    double.faults.fail_next("conversations.open", 1, 200, error="fatal_error")  # Slack has a bad minute
    clock.advance(dt.timedelta(days=5))
    await run_clock(app)
    assert not any(set(users) == {ANA, BEN} for users in double.dms.values())
    await run_clock(app)  # a pass a few seconds later waits its turn: no hammering
    assert len(double.calls_to("conversations.open")) == 1
    clock.advance(dt.timedelta(minutes=2))
    await run_clock(app)
    [intro] = dm(double, {ANA, BEN})
    assert f"<@{ANA}> could offer <@{BEN}>" in str(intro["blocks"])
    await run_clock(app)
    assert len(dm(double, {ANA, BEN})) == 1
