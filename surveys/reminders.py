"""One reminder before a round closes, only to the people who have not answered.

Who has answered is worked out at the moment of sending, from the round's key alone: for each
person in the audience the keys they would have for the round's items are computed and looked up
among the round's held answers (a sealed round has no key, and reminds nobody). Nothing about
who was reminded is logged; the round keeps the time its reminder went out, and claiming that
marker is what makes the reminder go out once however often the clock fires. (A crash halfway
through a reminder leaves the rest unreminded rather than reminding anyone twice.)

A reminder that stays where it was sent (a Slack DM, a Teams 1:1 chat) says its reader had not
answered yet, so where it went is kept (`sent_reminders`) only until the round closes; then it
is deleted on the platform and here (surveys/withdrawal.py). Until then the database, like the
round's key, can tell who had not answered when the reminder went out.

When: `remind_hours` before closing, but never before half the round's window has passed, and
only outside quiet hours, weekends and holidays; a reminder that would fall in quiet time goes at
the first moment after it that is not quiet, if the round is still open then.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import ballots
from storage.db import Database
from storage.models import Round, SentReminder, Survey
from surveys.banks import BankRegistry
from surveys.calendar import QuietRules, holiday_on
from surveys.keys import RoundKey, round_key, subject
from surveys.platform import ChatPlatform, PlatformError, Reminder
from surveys.rounds import round_message
from surveys.schedule import zone

log = logging.getLogger(__name__)

# Tries per person: a rate limit or a passing failure is waited out, briefly; then that one is skipped.
ATTEMPTS = 3


def reminder_due(opened_at: dt.datetime, closes_at: dt.datetime, remind_hours: int) -> dt.datetime | None:
    """When a round's reminder falls due, before quiet hours are considered; None for no reminder."""
    if remind_hours <= 0:
        return None
    return max(closes_at - dt.timedelta(hours=remind_hours), opened_at + (closes_at - opened_at) / 2)


@dataclass(frozen=True)
class Person:
    """Someone to check, and where a reminder reaches them privately (None: by DM)."""

    user: str
    channel: str | None


async def _may_remind(session: AsyncSession, round_: Round, survey: Survey, now: dt.datetime) -> bool:
    due = reminder_due(round_.opened_at, round_.closes_at, survey.remind_hours)
    if due is None or now < due or now >= round_.closes_at or survey.paused:
        return False
    local = now.astimezone(zone(survey.timezone))
    if QuietRules.of(survey).is_quiet(local):
        return False
    return await holiday_on(session, survey.id, local.date()) is None


async def _people(platform: ChatPlatform, survey: Survey) -> list[Person]:
    """The audience now, each person once. Raises PlatformError if a transient failure means the
    audience cannot be known; a channel the bot can no longer read is left out."""
    if survey.audience_kind != "channels":
        recipients = await platform.audience(survey.audience_kind, survey.audience)
        return [Person(u, None) for u in dict.fromkeys(r.destination for r in recipients)]
    people: dict[str, Person] = {}
    for channel in survey.audience:
        try:
            members = await platform.channel_members(channel)
        except PlatformError as exc:
            if exc.transient:
                raise
            continue
        for user in members:
            # Someone in two schools' channels is reminded once, in the first.
            people.setdefault(user, Person(user, channel))
    return list(people.values())


async def _claim(session: AsyncSession, round_id: int, now: dt.datetime) -> bool:
    claimed = await session.scalar(
        update(Round)
        .where(
            Round.id == round_id,
            Round.reminded_at.is_(None),
            Round.closed_at.is_(None),
            Round.closes_at > now,
        )
        .values(reminded_at=now)
        .returning(Round.id)
        .execution_options(synchronize_session=False)
    )
    return claimed is not None


async def _remind_one(db: Database, platform: ChatPlatform, person: Person, reminder: Reminder) -> bool:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            ref = await platform.remind(person.user, person.channel, reminder)
        except PlatformError as exc:
            if not exc.transient or attempt == ATTEMPTS:
                return False
            await asyncio.sleep(exc.retry_after if exc.retry_after is not None else float(attempt))
            continue
        if ref is not None:
            # It stays where it was sent: kept until the round closes and it is taken back.
            async with db.session() as session:
                session.add(SentReminder(round_id=reminder.round.round_id, ref=ref))
        return True
    return False


def unanswered(key: RoundKey, subjects: Sequence[str], user: str, answered: set[str]) -> int:
    """How many of the round's items this person has not answered, from the keys alone."""
    return sum(1 for s in subjects if key.respondent(s, user) not in answered)


async def remind_round(
    db: Database,
    platform: ChatPlatform,
    registry: BankRegistry,
    secret: bytes,
    round_id: int,
    *,
    now: dt.datetime,
) -> int | None:
    """Send the round's one reminder now if it is due; None if it is not (or was already sent).

    Returns how many people were reminded, for the caller to report; it is never logged.
    """
    async with db.session() as session:
        round_ = await session.get(Round, round_id)
        survey = await session.get(Survey, round_.survey_id) if round_ is not None else None
        if round_ is None or survey is None or round_.reminded_at is not None:
            return None
        if not await _may_remind(session, round_, survey, now):
            return None
    # Ask for the audience before claiming: if the platform cannot say, the next tick tries again.
    try:
        people = await _people(platform, survey)
    except PlatformError as exc:
        log.warning("survey %s round %s: reminder postponed: %s", survey.id, round_.seq, exc)
        return None
    async with db.session() as session:
        if not await _claim(session, round_id, now):
            return None
        key = await round_key(session, secret, round_id)
        answered = await ballots.answered_keys(session, round_id) if key is not None else set()
    if key is None:
        return 0
    message = round_message(survey, round_, registry)
    subjects = [subject(str(ref["bank"]), str(ref["item"])) for ref in round_.items]
    reminded = failed = 0
    for person in people:
        missing = unanswered(key, subjects, person.user, answered)
        if not missing:
            continue
        if await _remind_one(db, platform, person, Reminder(message, missing)):
            reminded += 1
        else:
            failed += 1
    answered.clear()
    # Counts only, and not even those: the number reminded is the number who had not answered.
    log.info("survey %s round %s: reminder sent%s", survey.id, round_.seq, " (some failed)" if failed else "")
    return reminded


async def send_due_reminders(
    db: Database, platform: ChatPlatform, registry: BankRegistry, secret: bytes, *, now: dt.datetime
) -> int:
    """Send every reminder that is due; returns how many rounds were reminded."""
    async with db.session() as session:
        candidates = list(
            (
                await session.scalars(
                    select(Round.id)
                    .join(Survey, Survey.id == Round.survey_id)
                    .where(
                        Round.closed_at.is_(None),
                        Round.reminded_at.is_(None),
                        Round.closes_at > now,
                        Round.opened_at <= now,
                        Survey.remind_hours > 0,
                        Survey.paused.is_(False),
                    )
                    .order_by(Round.id)
                )
            ).all()
        )
    done = 0
    for round_id in candidates:
        if await remind_round(db, platform, registry, secret, round_id, now=now) is not None:
            done += 1
    return done
