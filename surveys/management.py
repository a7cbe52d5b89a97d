"""Running surveys: create, change, pause, resume, delete, and the status coordinators see.

Each function works in the caller's session (one transaction); none talks to a chat platform.
A survey belongs to the workspace that created it; one made without a workspace (the CLI in
single-workspace mode) is visible from any.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Container, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storage import ballots, repo, rollups
from storage.models import Round, Survey
from surveys import calendar
from surveys.anonymity import coarse, counted_until, effective_k, too_small
from surveys.cadence import describe_schedule, due_for
from surveys.config import SurveyConfig
from surveys.operations import NotFound
from surveys.platform import ChatPlatform, PlatformError

# How many upcoming slots to look through for the next round (a long holiday of daily rounds).
MAX_LOOKAHEAD = 400


def visible_from(survey: Survey, workspace_id: str | None) -> bool:
    return workspace_id is None or survey.workspace_id is None or survey.workspace_id == workspace_id


async def surveys_in(session: AsyncSession, workspace_id: str | None) -> list[Survey]:
    return [s for s in await repo.list_surveys(session) if visible_from(s, workspace_id)]


async def find_survey(session: AsyncSession, survey_id: int, workspace_id: str | None) -> Survey | None:
    survey = await repo.get_survey(session, survey_id)
    return survey if survey is not None and visible_from(survey, workspace_id) else None


async def _require(session: AsyncSession, survey_id: int, workspace_id: str | None) -> Survey:
    survey = await find_survey(session, survey_id, workspace_id)
    if survey is None:
        raise NotFound(f"no survey {survey_id}")
    return survey


async def create_survey(session: AsyncSession, config: SurveyConfig, *, now: dt.datetime) -> Survey:
    survey = config.to_model()
    survey.cadence_anchor = now
    session.add(survey)
    await session.flush()
    return survey


async def update_survey(
    session: AsyncSession, survey_id: int, config: SurveyConfig, *, workspace_id: str | None, now: dt.datetime
) -> Survey:
    """Change a survey's settings; its seed (so its rotation), state and history stay."""
    survey = await _require(session, survey_id, workspace_id)
    before = (survey.schedule, survey.cadence, survey.timezone)
    labels = dict(survey.segment_labels or {})
    owner = survey.workspace_id
    config.apply(survey)
    if not config.segment_labels:
        survey.segment_labels = {k: v for k, v in labels.items() if k in config.audience}
    # A survey keeps the workspace it was made in, whoever edits it.
    survey.workspace_id = owner or config.workspace_id
    if (survey.schedule, survey.cadence, survey.timezone) != before:
        # Fortnightly weeks are counted afresh from the change.
        survey.cadence_anchor = now
    await session.flush()
    return survey


async def audience_problem(platform: ChatPlatform, config: SurveyConfig) -> str | None:
    """Why the survey's audience is too small to keep anyone anonymous, where the platform can say.

    Each channel is a segment of its own, so each must reach the size (surveys/anonymity.py); a
    user group is counted whole. A place whose size cannot be read is not refused.
    """
    if config.audience_kind == "channels":
        # Asked all at once: the Slack modal must be answered within three seconds.
        found = await asyncio.gather(
            *(platform.channel_members(channel) for channel in config.audience), return_exceptions=True
        )
        for channel, members in zip(config.audience, found, strict=True):
            if isinstance(members, BaseException):
                if isinstance(members, PlatformError):
                    continue
                raise members
            label = config.segment_labels.get(channel) or f"The channel {channel}"
            problem = too_small(label, len(members), config.k)
            if problem is not None:
                return problem
        return None
    try:
        size = await platform.audience_size(config.audience_kind, config.audience)
    except PlatformError:
        return None
    return too_small("That user group", size, config.k)


async def set_paused(session: AsyncSession, survey_id: int, paused: bool, *, workspace_id: str | None) -> bool:
    """Pause or resume; False when it was already so (asking twice is harmless)."""
    survey = await _require(session, survey_id, workspace_id)
    if survey.paused == paused:
        return False
    survey.paused = paused
    await session.flush()
    return True


async def delete_survey(session: AsyncSession, survey_id: int, *, workspace_id: str | None) -> str:
    """Delete a survey with its rounds, deliveries and answers (the database cascades); its name."""
    survey = await _require(session, survey_id, workspace_id)
    name = survey.name
    await session.delete(survey)
    await session.flush()
    return name


@dataclass(frozen=True)
class RoundStatus:
    seq: int
    opened_at: dt.datetime
    closes_at: dt.datetime
    open: bool
    audience_size: int
    # Mean answers per item; None when fewer than k answered (too few to show).
    answers_per_item: float | None
    too_few: bool


@dataclass(frozen=True)
class SurveyStatus:
    survey_id: int
    name: str
    paused: bool
    timezone: str
    schedule_text: str
    next_run: dt.datetime | None
    latest_round: RoundStatus | None
    failed_deliveries: int
    k: int
    # Why sends were given up, e.g. "C0123: slack: not_in_channel" (a person's DM is not named).
    failed_reasons: tuple[str, ...] = ()
    # Banks the survey draws on that this process has not loaded: its next round cannot be opened.
    missing_banks: tuple[str, ...] = ()

    @property
    def missing_banks_text(self) -> str | None:
        return missing_banks_text(self.missing_banks)

    @property
    def state(self) -> str:
        return "paused" if self.paused else "active"


def missing_banks_text(missing: Sequence[str]) -> str | None:
    """What a coordinator must hear when a survey's bank has gone (a file removed or refused)."""
    if not missing:
        return None
    names = ", ".join(f"'{b}'" for b in missing)
    return (
        f"bank {names} is not loaded, so no round can go out: put its file back in PULSE_BANKS_DIR "
        "(`pulse banks validate` says what is wrong with it) or edit the survey to use another bank"
    )


def missing_banks(survey: Survey, loaded: Container[str]) -> tuple[str, ...]:
    return tuple(b for b in survey.bank_ids if b not in loaded)


async def status_of(
    session: AsyncSession, survey: Survey, *, now: dt.datetime, loaded: Container[str] | None = None
) -> SurveyStatus:
    """`loaded`: the ids of the banks this process has, to warn of any the survey needs and lacks."""
    k = effective_k(survey.k)
    failed = await repo.failed_deliveries(session, survey.id)
    failed_count = await repo.count_failed_deliveries(session, survey.id) if failed else 0
    latest = await repo.latest_round(session, survey.id)
    round_status = None
    if latest is not None:
        k = max(k, latest.k)
        per_item = await answers_per_item(session, latest, now=now)
        if per_item is not None and latest.closed_at is None:
            per_item = coarse(per_item, k)
        too_few = per_item is None or per_item < k
        round_status = RoundStatus(
            seq=latest.seq,
            opened_at=latest.opened_at,
            closes_at=latest.closes_at,
            open=latest.closed_at is None and now < latest.closes_at,
            audience_size=latest.audience_size,
            answers_per_item=None if too_few else per_item,
            too_few=too_few,
        )
    upcoming = None if survey.paused else await next_round_at(session, survey, now)
    return SurveyStatus(
        survey_id=survey.id,
        name=survey.name,
        paused=survey.paused,
        timezone=survey.timezone,
        schedule_text=describe_schedule(survey.schedule, survey.cadence),
        next_run=upcoming,
        latest_round=round_status,
        failed_deliveries=failed_count,
        k=k,
        failed_reasons=tuple(dict.fromkeys(_reason(f) for f in failed)),
        missing_banks=missing_banks(survey, loaded) if loaded is not None else (),
    )


async def next_round_at(session: AsyncSession, survey: Survey, now: dt.datetime) -> dt.datetime | None:
    """When the next scheduled round goes out: quiet hours, weekends, holidays and fortnights heeded."""
    sends = calendar.round_trigger(survey).sends_from(now + dt.timedelta(seconds=1))
    for _ in range(MAX_LOOKAHEAD):
        found = next(sends, None)
        if found is None:
            return None
        slot, at = found
        if not due_for(survey, slot):
            continue
        if await calendar.holiday_on(session, survey.id, calendar.local_day(slot, survey.timezone)) is None:
            return at
    return None


async def answers_per_item(session: AsyncSession, round_: Round, *, now: dt.datetime) -> float | None:
    """How many people answered each of a round's items, on average (SQL counts, not rows): from
    its sealed counts once closed, from what it held at the start of the hour while open (then
    `coarse` before showing; surveys/anonymity.py)."""
    if round_.closed_at is not None:
        counts: Sequence[rollups.AnswerCount | ballots.HeldCount] = await rollups.answer_counts(session, [round_.id])
    else:
        counts = await ballots.held_counts(session, [round_.id], before_seq=counted_until(now))
    # A strand or behaviour item has several facets per person: count the busiest one.
    by_item: dict[str, dict[str, int]] = {}
    for c in counts:
        facets = by_item.setdefault(c.item_id, {})
        facets[c.facet] = facets.get(c.facet, 0) + c.n
    items = [ref["item"] for ref in round_.items]
    if not items:
        return None
    return sum(max(by_item.get(i, {"": 0}).values()) for i in items) / len(items)


def _reason(failed: repo.FailedDelivery) -> str:
    # A channel is named so the coordinator can fix it; a person's DM is not.
    where = "a direct message" if failed.destination[:1] in ("U", "W") else failed.destination
    return f"{where}: {failed.error}"
