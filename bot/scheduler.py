"""The clock: APScheduler 3 jobs that open rounds, post digests, drain the outbox, remind and close.

Exactly one process schedules: `LeadingClock` runs a `Clock` only while it holds the clock lock
(storage/leadership.py), so a second `clock` started by mistake, or for standby, waits and takes
over within seconds of the first one's death. The database, not the scheduler, still makes sure
a double fire sends nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.context import Context
from bot.jpd_wiring import exchange_platform
from storage import repo
from storage.leadership import ClockLock
from surveys import operations
from surveys.calendar import round_trigger
from surveys.closing import awaiting_scrub, close_due_rounds
from surveys.jpd.exchange import close_due as close_due_exchanges
from surveys.jpd.notices import send_due_notices
from surveys.management import missing_banks, missing_banks_text
from surveys.reminders import send_due_reminders
from surveys.schedule import trigger
from surveys.sending import drain

log = logging.getLogger(__name__)

SYNC_SECONDS = 60
OUTBOX_SECONDS = 5
# Closing and reminding look at the database each minute; claims there make a double fire harmless.
CALENDAR_SECONDS = 60
# How often a waiting clock tries the lock, and a leading one checks it still holds it.
LEAD_POLL_SECONDS = 2.0


class Clock:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        # Surveys already warned of for a missing bank, so the log says it once, not every sync.
        self._missing: dict[int, tuple[str, ...]] = {}

    def start(self) -> None:
        self.scheduler.add_job(
            self.sync,
            "interval",
            seconds=SYNC_SECONDS,
            id="sync",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
        # Finishes whatever an earlier process left pending, and retries what failed for now.
        self.scheduler.add_job(
            self.drain,
            "interval",
            seconds=OUTBOX_SECONDS,
            id="outbox",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
        # A JPD exchange past its deadline is closed, and its introductions sent, within seconds.
        self.scheduler.add_job(
            self.exchanges,
            "interval",
            seconds=OUTBOX_SECONDS,
            id="jpd",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
        for job_id, func in (("close-rounds", self.close_rounds), ("reminders", self.remind)):
            self.scheduler.add_job(
                func,
                "interval",
                seconds=CALENDAR_SECONDS,
                id=job_id,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
            )
        self.scheduler.start()
        self.scheduler.add_job(self.sync, id="sync-now", replace_existing=True)
        self.scheduler.add_job(self.drain, id="outbox-now", replace_existing=True)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def sync(self) -> None:
        """Make the jobs match the surveys in the database (new, changed, paused, deleted)."""
        async with self.ctx.db.session() as session:
            surveys = await repo.list_surveys(session, include_paused=False)
        wanted: set[str] = set()
        for s in surveys:
            self._warn_of_missing_banks(s.id, missing_banks(s, self.ctx.banks))
            # Rounds fire at their send times: quiet hours and weekends defer or drop a slot.
            for kind, when, func in (
                ("round", round_trigger(s), self.open_round),
                ("digest", trigger(s.digest_schedule, s.timezone), self.digest),
            ):
                job_id = f"{kind}:{s.id}"
                wanted.add(job_id)
                self.scheduler.add_job(
                    func,
                    when,
                    args=[s.id],
                    id=job_id,
                    replace_existing=True,
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=3600,
                )
        for job in self.scheduler.get_jobs():
            if job.id.split(":")[0] in ("round", "digest") and job.id not in wanted:
                job.remove()

    def _warn_of_missing_banks(self, survey_id: int, missing: tuple[str, ...]) -> None:
        if missing and self._missing.get(survey_id) != missing:
            log.warning("survey %s: %s", survey_id, missing_banks_text(missing))
        self._missing[survey_id] = missing

    async def open_round(self, survey_id: int) -> None:
        ctx = self.ctx
        try:
            await operations.open_and_send(
                ctx.db,
                ctx.banks,
                ctx.require_platform(),
                survey_id,
                now=ctx.clock(),
                options=ctx.settings.send_options(),
            )
        except Exception:
            log.exception("survey %s: opening a round failed", survey_id)

    async def digest(self, survey_id: int) -> None:
        ctx = self.ctx
        try:
            await operations.post_digest(
                ctx.db, ctx.banks, ctx.require_platform(), survey_id, now=ctx.clock(), scheduled=True
            )
        except Exception:
            log.exception("survey %s: posting the digest failed", survey_id)

    async def drain(self) -> None:
        try:
            await drain(
                self.ctx.db, self.ctx.require_platform(), self.ctx.banks, options=self.ctx.settings.send_options()
            )
        except Exception:
            log.exception("draining the outbox failed")

    async def close_rounds(self) -> None:
        try:
            await close_due_rounds(self.ctx.db, now=self.ctx.clock(), platform=self.ctx.platform)
            # A scrub that keeps being postponed (SQLite readers block it) shows in the counters.
            if await awaiting_scrub(self.ctx.db):
                self.ctx.counters.add("scrub", "postponed")
        except Exception:
            log.exception("closing rounds failed")

    async def exchanges(self) -> None:
        ctx = self.ctx
        try:
            for closed in await close_due_exchanges(ctx.db, ctx.clock()):
                log.info("exchange %s closed: %s groups", closed.exchange_id, closed.groups)
            await send_due_notices(ctx.db, partial(exchange_platform, ctx), ctx.clock())
        except Exception:
            log.exception("closing JPD exchanges or sending their notices failed")

    async def remind(self) -> None:
        ctx = self.ctx
        try:
            await send_due_reminders(ctx.db, ctx.require_platform(), ctx.banks, ctx.secret, now=ctx.clock())
        except Exception:
            log.exception("sending reminders failed")


class LeadingClock:
    """A Clock that schedules only while this process holds the clock lock."""

    def __init__(self, ctx: Context, *, poll: float = LEAD_POLL_SECONDS) -> None:
        self.ctx = ctx
        self.poll = poll
        self.lock = ClockLock(ctx.db)
        self.clock: Clock | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        return self.clock is not None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._lead())

    async def _lead(self) -> None:
        waiting_said = False
        while True:
            try:
                if self.clock is None:
                    if await self.lock.try_take():
                        self.clock = Clock(self.ctx)
                        self.clock.start()
                        log.info("this clock now schedules")
                    elif not waiting_said:
                        log.info("another clock schedules; this one waits to take over")
                        waiting_said = True
                elif not await self.lock.held():
                    self.clock.shutdown()
                    self.clock = None
                    waiting_said = False
                    log.warning("this clock lost its lock (the database connection dropped); it stopped scheduling")
            except Exception as exc:
                log.warning("the clock lock could not be checked: %s", type(exc).__name__)
            await asyncio.sleep(self.poll)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.clock is not None:
            self.clock.shutdown()
            self.clock = None
        await self.lock.release()
