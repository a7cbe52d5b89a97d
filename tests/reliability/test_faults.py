"""Sending through the Slack double's faults: each person ends with exactly one message.

Real pieces throughout: migrated database, the real sender and Slack adapter, slack_sdk talking
HTTP to the double. The double's faults stand for Slack's bad days.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict

import pytest

from storage import repo
from storage.db import Database
from surveys.banks import BankRegistry
from surveys.pacing import Rate, RetryPolicy
from surveys.sending import drain
from tests.reliability.conftest import (
    add_survey,
    assert_exactly_once,
    assert_rows_match_messages,
    deliveries,
    now,
    open_only,
    options,
    platform_for,
    round_messages,
    staff,
    statuses,
)
from tests.slack_double import SlackDouble

USERS = staff(60)


async def _fan_out(db: Database, banks: BankRegistry, double: SlackDouble, **opts: object):  # type: ignore[no-untyped-def]
    platform = platform_for(double)
    await open_only(db, banks, platform, await add_survey(db))
    return await drain(db, platform, banks, options=options(**opts))


def _opened(double: SlackDouble) -> int:
    """DMs opened with conversations.open (Slack's Tier 3: about 50 a minute)."""
    return sum(1 for call in double.calls_to("conversations.open") if call.ok)


async def test_a_dm_audience_gets_one_message_each_without_opening_a_single_dm(
    db: Database, banks: BankRegistry, dm_double: SlackDouble
) -> None:
    dm_double.faults.slow("chat.postMessage", 0.05)
    platform = platform_for(dm_double)
    await open_only(db, banks, platform, await add_survey(db))
    report = await drain(db, platform, banks, options=options())
    assert (report.sent, report.failed, report.recovered) == (60, 0, 0)
    assert_exactly_once(dm_double, USERS)
    await assert_rows_match_messages(db, dm_double)
    # Posted by user id, so chat.postMessage's pace is the only limit on a DM fan-out.
    assert {call.args["channel"] for call in dm_double.calls_to("chat.postMessage")} == set(USERS)
    assert _opened(dm_double) == 0
    # Sent concurrently across DMs, not one after another.
    assert dm_double.max_in_flight > 8
    # The DMs' ids came back with the posts: looking a delivery up in one needs no open either.
    [row] = [d for d in await deliveries(db) if d.destination == USERS[7]]
    assert await platform.find_delivery(USERS[7], row.id) == row.message_ref
    assert _opened(dm_double) == 0
    assert [call.args["channel"] for call in dm_double.calls_to("conversations.history")] == [
        SlackDouble.dm_id([USERS[7]])
    ]


async def test_a_fresh_process_opens_a_dm_only_to_look_a_delivery_up(
    db: Database, banks: BankRegistry, dm_double: SlackDouble
) -> None:
    await _fan_out(db, banks, dm_double)
    rows = {d.destination: d for d in await deliveries(db)}
    # A restarted sender knows no DM ids: a look-up opens the DM, once, paced at Tier 3.
    fresh = platform_for(dm_double, tier3=Rate(20.0, 1))
    for user in USERS[:3] * 2:
        assert await fresh.find_delivery(user, rows[user].id) == rows[user].message_ref
    opens = [call for call in dm_double.calls_to("conversations.open") if call.ok]
    assert [call.args["users"] for call in opens] == USERS[:3]
    assert all(b.at - a.at >= 1 / 20 - 0.01 for a, b in itertools.pairwise(opens))
    # A channel needs no opening at all.
    assert await fresh.find_delivery("C0LEADERS", rows[USERS[0]].id) is None
    assert len(opens) == _opened(dm_double)


async def test_a_429_storm_is_ridden_out_and_retry_after_is_honoured(
    db: Database, banks: BankRegistry, dm_double: SlackDouble
) -> None:
    dm_double.faults.rate_limit_next("chat.postMessage", 15, retry_after=1)
    dm_double.faults.random_429("chat.postMessage", 0.2, seed=11, retry_after=1)
    report = await _fan_out(db, banks, dm_double)
    assert report.sent == 60 and report.retried >= 15
    assert_exactly_once(dm_double, USERS)
    await assert_rows_match_messages(db, dm_double)
    # Nobody knocked again on a channel before Slack's Retry-After was up.
    by_channel: dict[str, list[tuple[float, int | None]]] = defaultdict(list)
    for call in dm_double.calls_to("chat.postMessage"):
        by_channel[call.args["channel"]].append((call.at, call.retry_after))
    checked = 0
    for calls in by_channel.values():
        for (at, retry_after), (next_at, _) in itertools.pairwise(calls):
            if retry_after is not None:
                assert next_at - at >= retry_after - 0.05
                checked += 1
    assert checked >= 15


async def test_server_errors_are_retried_without_doubling(
    db: Database, banks: BankRegistry, dm_double: SlackDouble
) -> None:
    dm_double.faults.fail_next("chat.postMessage", 10, 500)
    dm_double.faults.fail_next("conversations.open", 3, 503)
    report = await _fan_out(db, banks, dm_double)
    assert report.sent == 60 and report.failed == 0
    assert_exactly_once(dm_double, USERS)
    # A 500 on a post may hide an accepted message: each was looked for before posting again.
    assert len(dm_double.calls_to("conversations.history")) >= 10
    # Those look-ups are the only reason to open a DM (its id came back with no post), at most
    # once each; the 503s on opening were retried like any other error.
    assert 0 < _opened(dm_double) <= 10


async def test_a_lost_acknowledgement_is_found_not_posted_again(
    db: Database, banks: BankRegistry, dm_double: SlackDouble
) -> None:
    # Slack accepts these posts, but the answers are lost on the way back.
    dm_double.faults.drop_after_accept_next("chat.postMessage", 5)
    dm_double.faults.fail_next("conversations.history", 2, 500)  # and the first look-ups fail too
    report = await _fan_out(db, banks, dm_double)
    assert report.recovered == 5 and report.sent == 55
    assert len(round_messages(dm_double)) == 60
    assert_exactly_once(dm_double, USERS)
    await assert_rows_match_messages(db, dm_double)
    # The lost answers carried the DMs' ids, so those five, and only those, were opened to look.
    assert _opened(dm_double) == 5


async def test_timeouts_and_slow_answers(db: Database, banks: BankRegistry, dm_double: SlackDouble) -> None:
    platform = platform_for(dm_double, timeout=1.0)
    await open_only(db, banks, platform, await add_survey(db))
    # Held past the client's timeout (and never posted), then merely slow.
    dm_double.faults.timeout_next("chat.postMessage", 3, seconds=4.0)
    dm_double.faults.slow("chat.postMessage", 0.1)
    report = await drain(db, platform, banks, options=options())
    assert report.sent == 60 and report.retried >= 3
    assert_exactly_once(dm_double, USERS)
    await assert_rows_match_messages(db, dm_double)


async def test_a_long_wait_hands_the_row_back_and_a_later_drain_finishes_it(
    db: Database, banks: BankRegistry, dm_double: SlackDouble
) -> None:
    dm_double.faults.rate_limit_next("chat.postMessage", 1, retry_after=120)
    report = await _fan_out(db, banks, dm_double)
    assert report.sent == 59
    assert await statuses(db) == {"sent": 59, "pending": 1}
    # Two minutes later (a fresh process: the old one's pacer would still be waiting them out).
    later = await drain(db, platform_for(dm_double), banks, now=now() + dt.timedelta(seconds=121), options=options())
    assert later.sent == 1
    assert_exactly_once(dm_double, USERS)


async def test_a_maybe_posted_row_handed_back_is_looked_up_after_its_claim_lapses(
    db: Database, banks: BankRegistry, dm_double: SlackDouble
) -> None:
    dm_double.faults.drop_after_accept_next("chat.postMessage", 1)
    # No waiting in place: the row keeps its 'sending' state and is left to lapse.
    first = await _fan_out(db, banks, dm_double, inline_wait=0.0, retry=RetryPolicy(base=600.0, cap=600.0))
    assert first.sent == 59
    left = await statuses(db)
    # Still claimed, unless its (jittered) wait was so short that this drain took it back already.
    assert left in ({"sent": 59, "sending": 1}, {"sent": 60})
    later = await drain(db, platform_for(dm_double), banks, now=now() + dt.timedelta(hours=1), options=options())
    assert first.recovered + later.recovered == 1 and later.sent == 0
    assert_exactly_once(dm_double, USERS)
    await assert_rows_match_messages(db, dm_double)
    assert _opened(dm_double) == 1  # the one DM looked in


async def test_refusals_fail_at_once_and_coordinators_can_see_them(
    db: Database, banks: BankRegistry, dm_double: SlackDouble
) -> None:
    platform = platform_for(dm_double)
    survey = await add_survey(db, audience_kind="channels", audience=["C0SCHOOLA", "CBAD00001"])
    await open_only(db, banks, platform, survey)
    report = await drain(db, platform, banks, options=options())
    assert (report.sent, report.failed) == (1, 1)
    async with db.session() as session:
        failed = await repo.failed_deliveries(session, survey)
    assert [(f.destination, f.error, f.round_seq) for f in failed] == [("CBAD00001", "slack: channel_not_found", 1)]


async def test_a_delivery_that_keeps_failing_is_given_up_after_a_bounded_time(
    db: Database, banks: BankRegistry, dm_double: SlackDouble
) -> None:
    platform = platform_for(dm_double)
    survey = await add_survey(db, audience_kind="channels", audience=["C0SCHOOLA", "C0SCHOOLB"])
    await open_only(db, banks, platform, survey)
    dm_double.faults.fail_next("chat.postMessage", 10_000, 503)
    dm_double.faults.fail_next("conversations.history", 10_000, 503)
    quick = RetryPolicy(base=0.02, cap=0.1, give_up_after=dt.timedelta(seconds=1))
    report = await drain(db, platform, banks, options=options(retry=quick))
    assert (report.sent, report.failed) == (0, 2)
    assert await statuses(db) == {"failed": 2}
    async with db.session() as session:
        failed = await repo.failed_deliveries(session, survey)
    assert {f.destination for f in failed} == {"C0SCHOOLA", "C0SCHOOLB"}
    assert all(f.error.startswith("gave up after") for f in failed)


async def test_a_closed_round_is_not_sent(db: Database, banks: BankRegistry, dm_double: SlackDouble) -> None:
    platform = platform_for(dm_double)
    survey = await add_survey(db, round_hours=1)
    await open_only(db, banks, platform, survey, at=now() - dt.timedelta(hours=2))
    report = await drain(db, platform, banks, options=options())
    assert (report.sent, report.failed) == (0, 60)
    assert round_messages(dm_double) == []


async def test_a_refused_token_pauses_sending_instead_of_failing_everyone(
    db: Database, banks: BankRegistry, dm_double: SlackDouble
) -> None:
    platform = platform_for(dm_double, app_wide_pause=0.3)
    await open_only(db, banks, platform, await add_survey(db))
    # The token is refused for a moment (rotated, say), then works again.
    dm_double.faults.fail_next("chat.postMessage", 3, 200, error="invalid_auth")
    report = await drain(db, platform, banks, options=options())
    assert (report.sent, report.failed) == (60, 0)
    assert_exactly_once(dm_double, USERS)


async def test_a_wait_longer_than_the_claim_keeps_it_renewed_and_posts_once(
    db: Database, banks: BankRegistry, dm_double: SlackDouble
) -> None:
    platform = platform_for(dm_double, post_per_channel=Rate(1.0, 1))
    # Two surveys, so two rounds owe the same channel a message each.
    for _ in range(2):
        await open_only(db, banks, platform, await add_survey(db, audience_kind="channels", audience=["C0SCHOOLA"]))
    # Slack holds the channel for longer than a claim lasts. The delivery waiting its turn in the
    # pacer keeps its claim renewed (a live sender), so nobody else can take it, and posts once the
    # channel opens; the one told to wait 6 s hands its row back, as any wait past the claim does.
    dm_double.faults.rate_limit_next("chat.postMessage", 1, retry_after=6)
    short = options(lease=dt.timedelta(seconds=4), lease_margin=dt.timedelta(seconds=2), inline_wait=30.0)
    report = await drain(db, platform, banks, options=short)
    assert (report.sent, report.failed) == (1, 0)
    assert await statuses(db) == {"sent": 1, "pending": 1}
    later = await drain(db, platform_for(dm_double), banks, now=now() + dt.timedelta(hours=1), options=options())
    assert (later.sent, later.recovered, later.failed) == (1, 0, 0)
    rounds = sorted(m["metadata"]["event_payload"]["delivery"] for m in dm_double.messages_in("C0SCHOOLA"))
    assert rounds == [1, 2]
    await assert_rows_match_messages(db, dm_double)


async def test_a_claim_that_cannot_be_renewed_lapses_and_is_looked_up_before_posting(
    db: Database, banks: BankRegistry, dm_double: SlackDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = platform_for(dm_double, post_per_channel=Rate(1.0, 1))
    for _ in range(2):
        await open_only(db, banks, platform, await add_survey(db, audience_kind="channels", audience=["C0SCHOOLA"]))

    async def unreachable(*args: object, **kwargs: object) -> set[int]:
        raise ConnectionError("the database is gone")

    # The database cannot be reached to renew: the sender must give the claim up rather than
    # post under a lapsed one.
    monkeypatch.setattr(repo, "renew_claims", unreachable)
    dm_double.faults.rate_limit_next("chat.postMessage", 1, retry_after=20)
    short = options(lease=dt.timedelta(seconds=4), lease_margin=dt.timedelta(seconds=2), inline_wait=30.0)
    await drain(db, platform, banks, options=short)
    assert dm_double.messages_in("C0SCHOOLA") == []
    # The first is due again after Retry-After; the second gave up waiting and is left to lapse.
    assert await statuses(db) == {"pending": 1, "sending": 1}
    monkeypatch.undo()
    later = await drain(db, platform_for(dm_double), banks, now=now() + dt.timedelta(hours=1), options=options())
    assert later.failed == 0
    rounds = sorted(m["metadata"]["event_payload"]["delivery"] for m in dm_double.messages_in("C0SCHOOLA"))
    assert rounds == [1, 2]
    await assert_rows_match_messages(db, dm_double)
