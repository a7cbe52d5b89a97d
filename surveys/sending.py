"""Draining the outbox: claim due deliveries, post them through the platform, settle them.

A delivery row is one message owed to one place in one round (unique per round, kind and
destination, so opening a round twice cannot queue anything twice). Its life:

    pending --claim--> sending --posted--> sent
       ^                  |  \\--permanent error or retries exhausted--> failed
       |                  |
       +-- certainly not  +-- may have been posted: stays 'sending' and its claim is left to
           posted (429,       lapse; whoever claims it next looks first (see below)
           refused): retry
           at next_attempt_at

Claims are leases: a sender owns a row until `claimed_until` and settles it only while it still
holds it (the claim's `attempts` is its token). Leases are short (20 s by default) and renewed
every quarter lease while the sender lives and can reach the database, so a sender that dies
(SIGKILL, a lost machine) holds its rows for seconds, not minutes: whoever drains next recovers
them. It starts no post in the last `lease_margin` of a claim and cancels any call (pacing waits
included) still running halfway through that margin, so nothing of its own is under way when
another sender may take the row over; a sender that cannot renew (the database gone) therefore
stops by itself. Several senders
(two clock processes by mistake, `pulse rounds open` next to the clock) therefore never hold one
row at once; on PostgreSQL they skip each other's rows (FOR UPDATE SKIP LOCKED) rather than
queue behind them.

A crash between posting and marking. The post and the database write cannot be one
transaction, so a sender can die (or lose Slack's answer, or the database) after the platform
accepted a message and before the row says 'sent'. We choose look-before-you-repost over blind
retry: every message carries its delivery id invisibly (Slack: message metadata), and a row
whose claim lapsed, or whose last attempt ended in a timeout, a 5xx or a dropped connection, is
looked for on the platform (`find_delivery`) before it is posted again. Found, it is marked sent
with the message found; not found, it is posted. The look-ups cost a call or two for each row in
flight at the moment of the crash (a few dozen at most: see `SendOptions.concurrency`), nothing
otherwise. What could still double a message: a platform that hides an accepted message from its
own history for longer than the claim, or a channel so busy that the message is further back
than the look-up reads. A delivery that cannot be sent within `RetryPolicy.give_up_after` of its
first attempt is marked 'failed' with the last error, which `/pulse status` shows
(`storage.repo.failed_deliveries`).

Rate limits are the platform adapter's business (it paces its calls with `surveys.pacing` and
says how long to wait); this module waits exactly that long when the platform gave a time, or
backs off with full jitter when it did not, holding the claim for short waits and handing the
row back for long ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from storage import repo
from storage.db import Database
from storage.models import Round, Survey
from storage.repo import Claim
from surveys.banks import BankRegistry
from surveys.pacing import RetryPolicy
from surveys.platform import ChatPlatform, PlatformError, RoundMessage
from surveys.rounds import round_message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendOptions:
    # Deliveries in flight at once, across destinations (pacing decides the actual rate).
    concurrency: int = 32
    # Renewed every quarter lease while the sender lives: this is how long a dead sender's rows wait.
    lease: dt.timedelta = dt.timedelta(seconds=20)
    # No post starts this close to the end of a claim, so it cannot cross with the sender that
    # recovers the row after the claim lapses.
    lease_margin: dt.timedelta = dt.timedelta(seconds=10)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Waits up to this many seconds happen in place, holding the claim; longer ones hand it back.
    inline_wait: float = 30.0

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.lease <= self.lease_margin:
            raise ValueError("the lease must be longer than its margin")


@dataclass
class SendReport:
    sent: int = 0
    # Found already posted by an earlier attempt (a crash, a lost response): not posted again.
    recovered: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempt: int, retry_after: float | None = None) -> dt.timedelta:
    """Exponential backoff with full jitter, or exactly what the platform asked for."""
    return dt.timedelta(seconds=RetryPolicy().wait(attempt, retry_after))


@dataclass(frozen=True)
class _Target:
    """What a claimed delivery needs from its round: the message, or why there is none."""

    message: RoundMessage | None
    refusal: str = ""


@dataclass
class _Held:
    claim: Claim
    # Monotonic time after which no post may start under this claim.
    post_by: float


class _Settler:
    """Writes outcomes in small batches, retrying through database outages.

    A sender that cannot write keeps trying until its claims would lapse; after that the rows
    are recovered (looked up, not re-posted) by whoever claims them next.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.queue: list[tuple[_Held, dict[str, Any]]] = []
        self.wake = asyncio.Event()
        self.closing = False

    def put(self, held: _Held, values: dict[str, Any]) -> None:
        self.queue.append((held, values))
        self.wake.set()

    async def run(self) -> None:
        attempt = 0
        while True:
            if not self.queue:
                if self.closing:
                    return
                self.wake.clear()
                await self.wake.wait()
                continue
            batch = self.queue[:500]
            try:
                async with self.db.session() as session:
                    await repo.settle_deliveries(session, [(held.claim, values) for held, values in batch])
            except Exception as exc:
                attempt += 1
                # Rows whose claims have lapsed are someone else's now; keep the rest.
                now = time.monotonic()
                self.queue = [(h, v) for h, v in self.queue if h.post_by + _MARGIN_SLACK > now]
                log.warning("writing delivery outcomes failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(RetryPolicy(base=0.2, cap=5.0).backoff(attempt))
                continue
            attempt = 0
            del self.queue[: len(batch)]

    @property
    def backlog(self) -> int:
        return len(self.queue)


# A settlement may still be written a little after posting stopped being allowed.
_MARGIN_SLACK = 30.0


class _Drain:
    def __init__(
        self,
        db: Database,
        platform: ChatPlatform,
        registry: BankRegistry,
        options: SendOptions,
        fixed_now: dt.datetime | None,
    ) -> None:
        self.db = db
        self.platform = platform
        self.registry = registry
        self.options = options
        self.fixed_now = fixed_now
        self.started = time.monotonic()
        self.report = SendReport()
        self.targets: dict[int, _Target] = {}
        self.settler = _Settler(db)
        self.rng = random.Random()
        # Claims being worked on now, by delivery id: renewed until they are settled.
        self.held: dict[int, _Held] = {}

    def now(self) -> dt.datetime:
        if self.fixed_now is None:
            return dt.datetime.now(dt.UTC)
        # A pinned start, from which time runs on: claims made late in a long fan-out must not
        # carry leases that have already lapsed for everyone else.
        return self.fixed_now + dt.timedelta(seconds=time.monotonic() - self.started)

    async def run(self) -> SendReport:
        writer = asyncio.create_task(self.settler.run())
        renewer = asyncio.create_task(self._renew_all())
        tasks: set[asyncio.Task[None]] = set()
        failure: Exception | None = None
        more = True
        limit = self.options.concurrency
        try:
            while True:
                room = limit - len(tasks)
                # Claim in chunks, not one row per finished send; hold back while outcomes wait to be
                # written, which keeps the rows a crash can leave posted-but-unmarked to a few dozen.
                if more and (not tasks or room >= max(1, limit // 4)) and self.settler.backlog < limit:
                    try:
                        claims = await self._claim(room)
                    except Exception as exc:
                        # Typically the database going away: finish what is in flight, then report.
                        failure, more, claims = exc, False, []
                    more = more and len(claims) == room
                    for held in claims:
                        tasks.add(asyncio.create_task(self._deliver(held)))
                if not tasks:
                    if more:
                        await asyncio.sleep(0.02)  # outcomes are being written; claim again after
                        continue
                    break
                done, tasks = await asyncio.wait(tasks, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if not task.cancelled() and task.exception() is not None:
                        log.error("a delivery task failed: %r", task.exception())
            self.settler.closing = True
            self.settler.wake.set()
            await writer
        finally:
            for task in (*tasks, writer, renewer):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, writer, renewer, return_exceptions=True)
        if failure is not None:
            raise failure
        return self.report

    async def _claim(self, room: int) -> list[_Held]:
        at = self.now()
        async with self.db.session() as session:
            claims = await repo.claim_deliveries(session, now=at, lease=self.options.lease, limit=room)
            for c in claims:
                if c.round_id not in self.targets:
                    self.targets[c.round_id] = await self._target(session, c.round_id, at)
        post_by = time.monotonic() + (self.options.lease - self.options.lease_margin).total_seconds()
        return [_Held(c, post_by) for c in claims]

    async def _renew_all(self) -> None:
        """Every quarter lease, extend the claims in hand; a failed renewal leaves them to lapse."""
        lease = self.options.lease.total_seconds()
        while True:
            await asyncio.sleep(lease / 4)
            held = list(self.held.values())
            if not held:
                continue
            started = time.monotonic()
            try:
                async with self.db.session() as session:
                    renewed = await repo.renew_claims(
                        session, [h.claim for h in held], until=self.now() + self.options.lease
                    )
            except Exception as exc:
                log.warning("renewing delivery claims failed (%s); they may lapse", type(exc).__name__)
                continue
            post_by = started + (self.options.lease - self.options.lease_margin).total_seconds()
            for h in held:
                if h.claim.id in renewed:
                    h.post_by = max(h.post_by, post_by)

    def _lease_end(self, held: _Held) -> float:
        """When a call still under way for this claim is cancelled (it follows renewals)."""
        return held.post_by + self.options.lease_margin.total_seconds() / 2

    async def _within_lease(self, held: _Held, call: Any) -> Any:
        """Await `call`, cancelling it if the claim runs out first (TimeoutError)."""
        task = asyncio.ensure_future(call)
        try:
            while True:
                left = self._lease_end(held) - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                done, _ = await asyncio.wait({task}, timeout=left)
                if done:
                    return task.result()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def _target(self, session: Any, round_id: int, at: dt.datetime) -> _Target:
        round_ = await session.get(Round, round_id)
        survey = await session.get(Survey, round_.survey_id) if round_ is not None else None
        if round_ is None or survey is None:
            return _Target(None, "round or survey no longer exists")
        if round_.closed_at is not None or at >= round_.closes_at:
            return _Target(None, "the round closed before this could be sent")
        return _Target(round_message(survey, round_, self.registry))

    def _settle(self, held: _Held, values: dict[str, Any]) -> None:
        self.settler.put(held, values)

    def _fail(self, held: _Held, error: str) -> None:
        self.report.failed += 1
        self.report.errors.append(error)
        log.warning("delivery %s failed for good: %s", held.claim.id, error)
        self._settle(held, {"status": "failed", "claimed_until": None, "error": error[:2000]})

    async def _deliver(self, held: _Held) -> None:
        self.held[held.claim.id] = held
        try:
            await self._deliver_held(held)
        finally:
            self.held.pop(held.claim.id, None)

    async def _deliver_held(self, held: _Held) -> None:
        c = held.claim
        target = self.targets[c.round_id]
        if target.message is None:
            self._fail(held, target.refusal)
            return
        look_first = c.recovered
        attempt = max(0, c.attempts - 1)
        # Nothing may still be under way when the claim lapses (pacing waits included).
        while True:
            try:
                if look_first:
                    found = await self._within_lease(held, self.platform.find_delivery(c.destination, c.id))
                    if found is not None:
                        self.report.recovered += 1
                        self._settle(held, _sent(found))
                        return
                    look_first = False
                if time.monotonic() > held.post_by:
                    # Too late to post under this claim; it lapses and is recovered by a later claim.
                    return
                ref = await self._within_lease(
                    held, self.platform.post_round(c.destination, target.message, delivery_id=c.id)
                )
            except Exception as error:
                # Anything but the platform's own errors is a bug or an unexpected fault (or the
                # claim running out mid-call): "may have arrived", so looked up, never posted blind.
                exc = (
                    error
                    if isinstance(error, PlatformError)
                    else PlatformError(f"unexpected {type(error).__name__}", transient=True, maybe_delivered=True)
                )
                maybe_posted = look_first or exc.maybe_delivered
                if not exc.transient:
                    self._fail(held, str(exc))
                    return
                now = self.now()
                if self.options.retry.given_up(c.first_attempt_at, now):
                    note = " (an earlier attempt may have arrived)" if maybe_posted else ""
                    self._fail(held, f"gave up after {self.options.retry.give_up_after}: {exc}{note}")
                    return
                wait = self.options.retry.wait(attempt, exc.retry_after, self.rng)
                attempt += 1
                self.report.retried += 1
                if wait <= self.options.inline_wait and time.monotonic() + wait < held.post_by:
                    await asyncio.sleep(wait)
                    look_first = maybe_posted
                    continue
                until = now + dt.timedelta(seconds=wait)
                if maybe_posted:
                    # Stay 'sending': when this claim lapses, the next one looks before posting.
                    self._settle(held, {"claimed_until": until, "error": str(exc)})
                else:
                    self._settle(
                        held, {"status": "pending", "next_attempt_at": until, "claimed_until": None, "error": str(exc)}
                    )
                return
            else:
                self.report.sent += 1
                self._settle(held, _sent(ref))
                return


def _sent(ref: str) -> dict[str, Any]:
    return {"status": "sent", "message_ref": ref[:64], "claimed_until": None, "error": None}


async def drain(
    db: Database,
    platform: ChatPlatform,
    registry: BankRegistry,
    *,
    now: dt.datetime | None = None,
    options: SendOptions | None = None,
) -> SendReport:
    """Send everything due now, concurrently across destinations; returns when none is left.

    `now` pins the time sending starts at (the caller's clock: tests and the demo simulate
    one), from which it runs on in real time; by default the real time is read throughout.
    Retries that are due later are left for the next drain (the clock runs one every few
    seconds).
    """
    return await _Drain(db, platform, registry, options or SendOptions(), now).run()
