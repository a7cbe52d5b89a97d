"""Recording clicks in a busy web process: the round's facts kept in memory, answers written together.

Measured in bench/ingestion, two things made a click cost several times the Slack work it causes:
reading its round and survey again for every click, and a transaction of its own for every answer
(a pooled connection, BEGIN, a read, a write, COMMIT; on SQLite also a turn at the one writer's
lock, so many answers at once mostly waited on each other). `AnswerRecorder` does both once for
many clicks:

* **Round facts in memory.** What a click needs of its round (`RoundFacts`: items, `closes_at`, the
  survey's time zone and audience) is read once and kept for `ttl` seconds (5 by default). Items
  and `closes_at` never change once a round is open, and a click at or after `closes_at` is refused
  with the kept value, to the second, so rounds close on time whatever the cache holds. The rest
  can change: a survey's time zone or audience edited, a survey deleted. Those are honoured within
  `ttl` seconds, the price of not reading them per click. A round closed early is exact all the
  same: sealing erases its key, and a write finds it gone and stores nothing.
* **Group commit.** Clicks that arrive while a batch is being written wait for the next one, and
  each batch is one transaction: one query for the rounds' keys (locked, so none is sealed
  meanwhile), one for everyone's held answers, one executemany for the new ones. Under light load
  a batch is a single click, so nothing waits for company. Should a batch fail, its clicks are
  written again one by one, so one bad answer cannot sink the rest.

Each click's result is exactly what `record_answer` would give. Two clicks by one person on one
item never share a batch (the second waits for the next). Order needs no lock: each click carries
the time it was made (`seq`), and a held answer is only ever replaced by a later click, whichever
process or batch stores it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from storage.db import Database
from surveys.answers import (
    Answer,
    AnswerResult,
    Plan,
    RoundFacts,
    click_seq,
    plan_answer,
    round_facts,
    write_answers,
)
from surveys.banks import BankRegistry

log = logging.getLogger(__name__)

# Seconds a round's facts are trusted before they are read again.
FACTS_TTL = 5.0
# Answers written in one transaction at most.
MAX_BATCH = 128
# Rounds whose facts are kept at once (a process rarely sees more than a handful open).
MAX_ROUNDS = 1024


@dataclass
class _Job:
    plan: Plan
    done: asyncio.Future[AnswerResult]


@dataclass
class AnswerRecorder:
    """One per process (per web app): records clicks as `record_answer` does, sharing the work.

    `database` is asked for the database at each use, so the owner may swap it (tests do, to
    stand for an outage).
    """

    database: Callable[[], Database]
    registry: BankRegistry
    secret: bytes
    ttl: float = FACTS_TTL
    max_batch: int = MAX_BATCH
    monotonic: Callable[[], float] = time.monotonic
    _facts: dict[int, tuple[float, RoundFacts]] = field(default_factory=dict, repr=False)
    _reading: dict[int, asyncio.Future[RoundFacts | None]] = field(default_factory=dict, repr=False)
    _queue: list[_Job] = field(default_factory=list, repr=False)
    _writer: asyncio.Task[None] | None = field(default=None, repr=False)
    _taken: asyncio.Event | None = field(default=None, repr=False)

    @property
    def backlog(self) -> int:
        """Clicks waiting for a batch."""
        return len(self._queue)

    async def room(self, limit: int) -> None:
        """Wait until fewer than `limit` clicks wait for a batch (the caller bounds the wait).

        Backpressure for an overloaded process: acks are cheaper than writes, so a caller that
        acked without waiting here could take clicks faster than they can be stored, for ever.
        """
        while len(self._queue) >= limit:
            if self._taken is None:
                self._taken = asyncio.Event()
            self._taken.clear()
            await self._taken.wait()

    async def record(
        self, answer: Answer, *, user_id: str, channel_id: str | None, now: dt.datetime, seq: int | None = None
    ) -> AnswerResult:
        """The click's result once it is stored (or known to need no storing); raises if it was not.

        `seq`: when the click was made (surveys/answers.py); the receipt time `now` without one.
        """
        facts = await self.facts(answer.round_id)
        seq = click_seq(now) if seq is None else seq
        plan = plan_answer(facts, self.registry, answer, user_id=user_id, channel_id=channel_id, now=now, seq=seq)
        if isinstance(plan, AnswerResult):
            return plan
        job = _Job(plan, asyncio.get_running_loop().create_future())
        self._queue.append(job)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        return await job.done

    async def facts(self, round_id: int) -> RoundFacts | None:
        """The round's facts, read at most once per `ttl` however many clicks want them at once."""
        kept = self._facts.get(round_id)
        if kept is not None and self.monotonic() - kept[0] < self.ttl:
            return kept[1]
        reading = self._reading.get(round_id)
        if reading is None:
            reading = asyncio.get_running_loop().create_future()
            self._reading[round_id] = reading
            try:
                async with self.database().session() as session:
                    found = await round_facts(session, round_id)
            except Exception as exc:
                reading.set_exception(exc)
                reading.exception()  # retrieved here, so a reading nobody else awaited is not reported
                raise
            except BaseException:
                reading.cancel()
                raise
            else:
                reading.set_result(found)
            finally:
                del self._reading[round_id]
            if found is not None:
                if len(self._facts) >= MAX_ROUNDS:
                    self._facts.clear()
                self._facts[round_id] = (self.monotonic(), found)
            return found
        return await asyncio.shield(reading)

    def forget(self, round_id: int) -> None:
        """Read this round's facts afresh on its next click."""
        self._facts.pop(round_id, None)

    def _next_batch(self) -> list[_Job]:
        """Up to `max_batch` queued clicks in arrival order, at most one per person and item."""
        batch: list[_Job] = []
        left: list[_Job] = []
        people: set[tuple[int, str, str, str]] = set()
        for job in self._queue:
            if len(batch) < self.max_batch and job.plan.person not in people:
                people.add(job.plan.person)
                batch.append(job)
            else:
                left.append(job)
        self._queue = left
        return batch

    async def _write_all(self) -> None:
        batch: list[_Job] = []
        try:
            while self._queue:
                batch = self._next_batch()
                if self._taken is not None:
                    self._taken.set()  # room in the queue for clicks waiting to be acked
                try:
                    results = await self._write(batch)
                except Exception:
                    # Not logged: the line's time would date these clicks. Each is written alone,
                    # and its own outcome is counted by the listener.
                    for job in batch:
                        await self._write_alone(job)
                else:
                    for job, result in zip(batch, results, strict=True):
                        if not job.done.done():
                            job.done.set_result(result)
                batch = []
        except BaseException as exc:
            # Cancelled (the process is stopping) or a bug: no click may be left waiting for ever.
            for job in (*batch, *self._queue):
                if not job.done.done():
                    job.done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("stopped"))
            self._queue = []
            raise

    async def _write(self, batch: list[_Job]) -> list[AnswerResult]:
        async with self.database().writing() as session:
            return await write_answers(session, self.secret, [j.plan for j in batch])

    async def _write_alone(self, job: _Job) -> None:
        try:
            [result] = await self._write([job])
        except Exception as exc:
            # Perhaps the round or its survey has gone since its facts were read: read them again next time.
            self.forget(job.plan.round_id)
            if not job.done.done():
                job.done.set_exception(exc)
        else:
            if not job.done.done():
                job.done.set_result(result)
