"""What the clock, the CLI and the commands do: open a round and send it, post a digest."""

from __future__ import annotations

import datetime as dt
import logging

from storage import repo
from storage.db import Database
from storage.models import Round
from surveys.banks import BankRegistry
from surveys.cadence import due_for
from surveys.calendar import scheduled_slot
from surveys.closing import close_due_rounds
from surveys.digest import Digest, build_digest
from surveys.platform import ChatPlatform
from surveys.rounds import open_round
from surveys.schedule import latest_slot
from surveys.sending import SendOptions, SendReport, drain

log = logging.getLogger(__name__)


class NotFound(LookupError):
    pass


async def open_and_send(
    db: Database,
    banks: BankRegistry,
    platform: ChatPlatform,
    survey_id: int,
    *,
    now: dt.datetime,
    scheduled: bool = True,
    options: SendOptions | None = None,
) -> tuple[Round | None, SendReport]:
    """Open the round due now (scheduled) or a round right now (on demand), then drain the outbox.

    A scheduled round is keyed by its cron slot, so a double fire or a restart opens it once;
    quiet hours, weekends and holidays defer or skip it (surveys/calendar.py).
    """
    round_, _queued = await _open(db, banks, platform, survey_id, now=now, scheduled=scheduled)
    report = await drain(db, platform, banks, now=now, options=options)
    return round_, report


async def open_now(
    db: Database, banks: BankRegistry, platform: ChatPlatform, survey_id: int, *, now: dt.datetime
) -> tuple[Round | None, int]:
    """Open a round right now and queue its deliveries, without sending them: the outbox does
    (the clock drains it every few seconds). Returns the round (None if one was opened this very
    second) and how many deliveries were queued. For callers that must answer quickly."""
    return await _open(db, banks, platform, survey_id, now=now, scheduled=False)


async def _open(
    db: Database, banks: BankRegistry, platform: ChatPlatform, survey_id: int, *, now: dt.datetime, scheduled: bool
) -> tuple[Round | None, int]:
    async with db.session() as session:
        survey = await repo.get_survey(session, survey_id)
        if survey is None:
            raise NotFound(f"no survey {survey_id}")
        slot = await scheduled_slot(session, survey, now) if scheduled else now.replace(microsecond=0)
        if scheduled and slot is not None and not due_for(survey, slot):
            slot = None  # a fortnightly survey's week off (surveys/cadence.py)
        round_ = None
        queued = 0
        if slot is not None and not (scheduled and survey.paused):
            round_ = await open_round(session, survey, banks, platform, slot=slot, now=now)
            if round_ is not None:
                queued = await repo.unfinished_deliveries(session, round_.id)
    if round_ is not None:
        log.info("survey %s: opened round %s with %s item(s)", survey_id, round_.seq, len(round_.items))
    return round_, queued


async def digest_for(db: Database, banks: BankRegistry, survey_id: int, *, now: dt.datetime) -> Digest:
    # A digest reads sealed counts only: rounds whose time is up are sealed first.
    await close_due_rounds(db, now=now)
    async with db.session() as session:
        survey = await repo.get_survey(session, survey_id)
        if survey is None:
            raise NotFound(f"no survey {survey_id}")
        return await build_digest(session, survey, banks, now=now)


async def post_digest(
    db: Database,
    banks: BankRegistry,
    platform: ChatPlatform,
    survey_id: int,
    *,
    now: dt.datetime,
    scheduled: bool = False,
) -> Digest | None:
    """Build and post the digest; a scheduled one is posted once per slot, however often it fires."""
    await close_due_rounds(db, now=now)
    async with db.session() as session:
        survey = await repo.get_survey(session, survey_id)
        if survey is None:
            raise NotFound(f"no survey {survey_id}")
        slot = latest_slot(survey.digest_schedule, survey.timezone, now) if scheduled else None
        if scheduled and (slot is None or not await repo.claim_digest_slot(session, survey.id, slot)):
            return None
        digest = await build_digest(session, survey, banks, now=now)
        destination = survey.digest_channel
    await platform.post_digest(destination, digest)
    if slot is not None:
        async with db.session() as session:
            await repo.mark_digest_posted(session, survey_id, slot, now)
    return digest
