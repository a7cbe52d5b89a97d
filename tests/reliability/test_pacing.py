"""The pacer and the retry policy, on a fake clock: no real waiting, exact instants."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.pacing import Pacer, Rate, RetryPolicy


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def _send_times(pacer: Pacer, t: FakeTime, keys: list[str | None]) -> list[float]:
    times = []
    for key in keys:
        await pacer.acquire(key)
        times.append(t.now)
    return times


async def test_a_channel_gets_its_burst_then_one_per_second() -> None:
    t = FakeTime()
    pacer = Pacer(per_key=Rate(1.0, 3), clock=t.clock, sleep=t.sleep)
    times = await _send_times(pacer, t, ["C1"] * 6)
    assert [round(x - 1000.0, 6) for x in times] == [0, 0, 0, 1, 2, 3]


async def test_channels_do_not_wait_for_each_other_but_share_the_workspace_budget() -> None:
    t = FakeTime()
    pacer = Pacer(per_key=Rate(1.0, 1), shared=Rate(4.0, 1), clock=t.clock, sleep=t.sleep)
    times = await _send_times(pacer, t, ["C1", "C2", "C3", "C4", "C1"])
    # Four channels at the workspace's 4/s; C1's second message also waits its own second.
    assert [round(x - 1000.0, 6) for x in times] == [0, 0.25, 0.5, 0.75, 1.0]


def test_callers_that_book_at_once_get_slots_at_the_budgeted_rate() -> None:
    t = FakeTime()
    pacer = Pacer(per_key=Rate(1.0, 2), shared=Rate(10.0, 1), clock=t.clock, sleep=t.sleep)
    # Twenty callers booking in the same instant (as concurrent senders do) get distinct slots.
    slots = [pacer.reserve(f"D{n}") - 1000.0 for n in range(20)]
    assert slots == pytest.approx([n / 10 for n in range(20)])
    # The same channel again: its own budget (burst 2, then 1/s) and the workspace's both hold.
    # A token bucket of two that refilled while the workspace was busy: two at once, then 1/s.
    assert [pacer.reserve("D0") - 1000.0 for _ in range(3)] == pytest.approx([2.0, 2.1, 3.0])


async def test_a_hold_is_honoured_to_the_instant_even_by_callers_already_waiting() -> None:
    t = FakeTime()
    pacer = Pacer(per_key=Rate(1.0, 1), clock=t.clock, sleep=t.sleep)
    await pacer.acquire("C1")
    pacer.hold("C1", 7.0)  # Slack said Retry-After: 7
    await pacer.acquire("C1")
    assert t.now - 1000.0 == pytest.approx(7.0)
    # Other channels are not held.
    await pacer.acquire("C2")
    assert t.now - 1000.0 == pytest.approx(7.0)


async def test_a_workspace_hold_stops_every_key() -> None:
    t = FakeTime()
    pacer = Pacer(per_key=Rate(1.0, 1), clock=t.clock, sleep=t.sleep)
    pacer.hold(None, 2.5)
    await pacer.acquire("C9")
    assert t.now - 1000.0 == pytest.approx(2.5)


def test_rates_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Rate(0)
    with pytest.raises(ValueError):
        Rate(1.0, 0)
    assert Rate.per_minute(60).per_second == pytest.approx(1.0)


@given(attempt=st.integers(min_value=0, max_value=10_000), seed=st.integers())
def test_backoff_is_full_jitter_within_the_cap(attempt: int, seed: int) -> None:
    policy = RetryPolicy(base=0.5, cap=30.0)
    wait = policy.backoff(attempt, random.Random(seed))
    assert 0.0 <= wait <= min(30.0, 0.5 * 2.0 ** min(attempt, 62))


def test_backoff_spreads_out_and_retry_after_wins() -> None:
    policy = RetryPolicy(base=1.0, cap=60.0)
    rng = random.Random(1)
    waits = {round(policy.wait(5, None, rng), 3) for _ in range(50)}
    assert len(waits) > 40  # jittered, not in step
    assert policy.wait(5, 3.0, rng) == 3.0


def test_giving_up_is_bounded_in_time() -> None:
    policy = RetryPolicy(give_up_after=dt.timedelta(minutes=10))
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    assert not policy.given_up(start, start + dt.timedelta(minutes=9, seconds=59))
    assert policy.given_up(start, start + dt.timedelta(minutes=10))
    assert not policy.given_up(None, start)


def test_a_slot_turned_away_is_given_back_to_the_shared_budget() -> None:
    t = FakeTime()
    pacer = Pacer(shared=Rate(10.0, 1), clock=t.clock, sleep=t.sleep)
    assert [pacer.reserve("D1") - 1000.0, pacer.reserve("D2") - 1000.0] == pytest.approx([0.0, 0.1])
    pacer.refund()  # D2's call came back 429: Slack did not count it
    assert pacer.reserve("D3") - 1000.0 == pytest.approx(0.1)
