"""Running a parsed command: check the caller's role, call the domain, say what happened.

Platform-neutral: Slack and Teams each supply a Directory (who is who) and a ChatPlatform (how
to send), then draw the Outcome their own way. Nothing here changes anything before the role
check has passed, and a refusal changes nothing at all.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.commands import parser as p
from bot.commands.forms import FormErrors, SurveyForm
from bot.commands.jpd import ExchangeCommands, scope_of
from bot.context import Context
from storage.models import Holiday, Round, Survey
from surveys import calendar, management, operations, round_control
from surveys.digest import Digest
from surveys.jpd.notices import ExchangePlatform
from surveys.platform import ChatPlatform, PlatformError
from surveys.roles import POLICY, Action, Facts, Need, may, refusal

log = logging.getLogger(__name__)

ACTIONS: dict[type[p.Command], Action] = {
    p.Help: Action.HELP,
    p.ListSurveys: Action.LIST_SURVEYS,
    p.NewSurvey: Action.CREATE,
    p.EditSurvey: Action.EDIT,
    p.Pause: Action.PAUSE,
    p.Resume: Action.RESUME,
    p.Delete: Action.DELETE,
    p.SendNow: Action.SEND,
    p.Close: Action.CLOSE,
    p.DigestNow: Action.POST_DIGEST,
    p.ListBanks: Action.LIST_BANKS,
    p.Status: Action.STATUS,
    p.Results: Action.RESULTS,
    p.HolidaysAdd: Action.CHANGE_HOLIDAYS,
    p.HolidaysList: Action.VIEW_HOLIDAYS,
    p.HolidaysRemove: Action.CHANGE_HOLIDAYS,
    p.JpdOpen: Action.EXCHANGES,
    p.JpdClose: Action.EXCHANGES,
    p.JpdStatus: Action.EXCHANGES,
    p.JpdSummary: Action.EXCHANGES,
    p.JpdDelete: Action.EXCHANGES,
    p.JpdTopics: Action.EXCHANGES,
    p.JpdTopicAdd: Action.EXCHANGES,
    p.JpdTopicRemove: Action.EXCHANGES,
}


@dataclass(frozen=True)
class Caller:
    user_id: str
    # The Slack workspace (team id) or Teams tenant the request came from.
    workspace_id: str | None
    # Where the command was typed (a JPD invitation is posted there).
    channel: str | None = None


class Directory(Protocol):
    """What a platform knows about people: their role facts and their time zone."""

    # Who the coordinators are, in this platform's terms, for refusals ("ask one of them").
    coordinators: str

    async def facts(self, caller: Caller, surveys: Sequence[Survey]) -> Facts:
        """Role facts; `leads` need only cover `surveys`."""
        ...

    async def timezone(self, caller: Caller) -> str | None: ...


# -- outcomes: what the platform should show --------------------------------------------------


@dataclass(frozen=True)
class Reply:
    text: str
    refused: bool = False


@dataclass(frozen=True)
class OpenForm:
    form: SurveyForm
    survey_id: int | None


@dataclass(frozen=True)
class ConfirmDelete:
    survey_id: int
    name: str


@dataclass(frozen=True)
class ConfirmClose:
    """Ask before sealing: the round is named, so a new round opened meanwhile is not the one closed."""

    survey_id: int
    name: str
    round_id: int
    seq: int


@dataclass(frozen=True)
class ShowDigest:
    digest: Digest


Outcome = Reply | OpenForm | ConfirmDelete | ConfirmClose | ShowDigest


@dataclass(frozen=True)
class Saved:
    survey_id: int
    name: str
    created: bool
    summary: str


def local(at: dt.datetime | None, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y, %H:%M") if at is not None else "—"


class Commands:
    def __init__(
        self,
        ctx: Context,
        directory: Directory,
        platform: ChatPlatform | None,
        *,
        prefix: str = "/pulse",
        escape: Callable[[str], str] = str,
        exchanges: ExchangePlatform | None = None,
    ) -> None:
        self.ctx = ctx
        self.directory = directory
        self.platform = platform
        self.exchanges = ExchangeCommands(ctx, exchanges, prefix=prefix, escape=escape)
        self.prefix = prefix
        # What a typed name needs before it goes into the platform's markup (Slack: <, >, &).
        self.escape = escape

    # -- the entry points ---------------------------------------------------------------------

    async def run(self, command: p.Command, caller: Caller) -> Outcome:
        action = ACTIONS[type(command)]
        survey_id = getattr(command, "survey_id", None)
        survey: Survey | None = None
        if survey_id is not None:
            async with self.ctx.db.session() as session:
                survey = await management.find_survey(session, survey_id, caller.workspace_id)
        facts = await self._facts(caller, action, survey)
        if not may(facts, action, survey_id):
            log.info("command %s refused", command.verb)
            return Reply(refusal(action, self.directory.coordinators), refused=True)
        if survey_id is not None and survey is None:
            return Reply(self._no_survey(survey_id))
        log.info("command %s", command.verb)
        return await self._dispatch(command, caller, facts, survey)

    async def delete_confirmed(self, survey_id: int, caller: Caller) -> Reply:
        """The second step of `delete`: the coordinator pressed the confirm button."""
        outcome = await self.run(p.Delete(survey_id=survey_id), caller)
        if not isinstance(outcome, ConfirmDelete):
            return outcome if isinstance(outcome, Reply) else Reply("Nothing was deleted.")
        try:
            async with self.ctx.db.session() as session:
                name = await management.delete_survey(session, survey_id, workspace_id=caller.workspace_id)
        except operations.NotFound:
            return Reply(f"Survey {survey_id} was already deleted.")
        return Reply(f"Deleted survey {survey_id}, _{name}_, with its rounds and results.")

    async def close_confirmed(self, survey_id: int, round_id: int, caller: Caller) -> Reply:
        """The second step of `close`: the coordinator confirmed sealing that round now."""
        outcome = await self.run(p.Close(survey_id=survey_id), caller)
        if isinstance(outcome, Reply) and outcome.refused:
            return outcome
        async with self.ctx.db.session() as session:
            survey = await management.find_survey(session, survey_id, caller.workspace_id)
            round_ = await session.get(Round, round_id)
        if survey is None or round_ is None or round_.survey_id != survey_id:
            return Reply("That button is out of date; nothing was closed.")
        result = await round_control.close_now(self.ctx.db, round_id, now=self.ctx.clock())
        name = self.escape(survey.name)
        if result.outcome is round_control.Closed.ALREADY:
            return Reply(f"Round {round_.seq} of _{name}_ was already closed; nothing changed.")
        return Reply(
            f"Closed round {round_.seq} of _{name}_: it is sealed and takes no more answers. "
            f"`{self.prefix} results {survey_id}` shows it now."
        )

    def check_form(self, form: SurveyForm, survey_id: int | None) -> None:
        """The form's own mistakes (FormErrors), found without the database or the platform, so
        that they can be shown on their fields in the answer that must reach Slack within 3 s."""
        if survey_id is not None:
            # What "keep the current schedule" keeps is read at saving; any schedule stands in here.
            form = form.model_copy(
                update={
                    "custom_schedule": form.custom_schedule or "0 9 * * 1",
                    "custom_digest_schedule": form.custom_digest_schedule or "0 8 * * 5",
                }
            )
        form.to_config(self.ctx.banks, workspace_id=None)

    async def save_form(
        self, form: SurveyForm, survey_id: int | None, caller: Caller, *, labels: dict[str, str] | None = None
    ) -> Saved | Reply:
        """Create or change a survey from a submitted form; FormErrors for the fields at fault.

        `labels` names channels the platform knows by name (Teams: the team a key stands for);
        a survey being changed keeps the names it has."""
        action = Action.CREATE if survey_id is None else Action.EDIT
        facts = await self._facts(caller, action, None)
        if not may(facts, action, survey_id):
            return Reply(refusal(action, self.directory.coordinators), refused=True)
        now = self.ctx.clock()
        async with self.ctx.db.session() as session:
            existing = None
            if survey_id is not None:
                existing = await management.find_survey(session, survey_id, caller.workspace_id)
                if existing is None:
                    return Reply(self._no_survey(survey_id))
                # "Keep the current schedule" keeps what the form could not show.
                form = form.model_copy(
                    update={"custom_schedule": existing.schedule, "custom_digest_schedule": existing.digest_schedule}
                )
            config = form.to_config(
                self.ctx.banks,
                workspace_id=caller.workspace_id,
                platform=self.platform.name if self.platform is not None else "slack",
                segment_labels={**(labels or {}), **(dict(existing.segment_labels) if existing is not None else {})},
            )
            if self.platform is not None:
                problem = await management.audience_problem(self.platform, config)
                if problem is not None:
                    raise FormErrors({"usergroup" if config.audience_kind == "usergroup" else "channels": problem})
            if existing is None:
                survey = await management.create_survey(session, config, now=now)
            else:
                survey = await management.update_survey(
                    session, existing.id, config, workspace_id=caller.workspace_id, now=now
                )
            status = await management.status_of(session, survey, now=now, loaded=self.ctx.banks)
            saved = Saved(survey.id, survey.name, existing is None, self._status_line(survey, status))
        log.info("survey %s %s", saved.survey_id, "created" if saved.created else "changed")
        return saved

    # -- role facts -------------------------------------------------------------------------

    async def _facts(self, caller: Caller, action: Action, survey: Survey | None) -> Facts:
        if POLICY[action] is Need.ANYONE:
            return Facts()
        candidates: list[Survey] = []
        if POLICY[action] is Need.LEADER:
            if survey is not None:
                candidates = [survey]
            else:
                async with self.ctx.db.session() as session:
                    candidates = await management.surveys_in(session, caller.workspace_id)
        return await self.directory.facts(caller, candidates)

    # -- the commands ------------------------------------------------------------------------

    async def _dispatch(self, command: p.Command, caller: Caller, facts: Facts, survey: Survey | None) -> Outcome:
        match command:
            case p.Help(topic=topic):
                if topic:
                    return Reply(p.usage_of(topic, self.prefix))
                return Reply(p.help_text(self.prefix))
            case p.ListSurveys():
                return await self._list(caller, facts)
            case p.ListBanks():
                return Reply(self._banks())
            case p.NewSurvey():
                tz = await self.directory.timezone(caller)
                return OpenForm(SurveyForm(timezone=tz or "Europe/London"), None)
            case p.EditSurvey():
                assert survey is not None
                return OpenForm(SurveyForm.from_survey(survey), survey.id)
            case p.Pause(survey_id=sid) | p.Resume(survey_id=sid):
                return await self._pause(sid, isinstance(command, p.Pause), caller)
            case p.Delete():
                assert survey is not None
                return ConfirmDelete(survey.id, survey.name)
            case p.SendNow():
                assert survey is not None
                return await self._send_now(survey)
            case p.Close():
                return await self._close(caller, survey)
            case p.DigestNow():
                assert survey is not None
                return await self._digest_now(survey)
            case p.Status(survey_id=sid):
                return await self._status(caller, survey if sid is not None else None)
            case p.Results():
                assert survey is not None
                return ShowDigest(
                    await operations.digest_for(self.ctx.db, self.ctx.banks, survey.id, now=self.ctx.clock())
                )
            case p.HolidaysAdd() | p.HolidaysList() | p.HolidaysRemove():
                return await self._holidays(command, caller)
            case (
                p.JpdOpen()
                | p.JpdClose()
                | p.JpdStatus()
                | p.JpdSummary()
                | p.JpdDelete()
                | p.JpdTopics()
                | p.JpdTopicAdd()
                | p.JpdTopicRemove()
            ):
                tz = await self.directory.timezone(caller) if isinstance(command, p.JpdOpen) else None
                said = await self.exchanges.run(
                    command,
                    scope=scope_of(self.ctx, caller.workspace_id),
                    user=caller.user_id,
                    channel=caller.channel,
                    timezone=tz,
                )
                return Reply(said.text)
        return Reply(p.help_text(self.prefix))

    async def _close(self, caller: Caller, survey: Survey | None) -> Outcome:
        """Which round `close` would seal, to confirm; or why there is none."""
        if survey is None:
            async with self.ctx.db.session() as session:
                candidates = await management.surveys_in(session, caller.workspace_id)
            open_ = [s for s in candidates if await round_control.open_round_of(self.ctx.db, s.id) is not None]
            if not open_:
                return Reply("No survey has an open round; nothing to close.")
            if len(open_) > 1:
                which = ", ".join(f"{s.id} (_{self.escape(s.name)}_)" for s in open_)
                return Reply(f"Several surveys have an open round: {which}. Say which: `{self.prefix} close ID`.")
            survey = open_[0]
        round_ = await round_control.open_round_of(self.ctx.db, survey.id)
        if round_ is None:
            return Reply(f"Survey {survey.id} has no open round; nothing to close.")
        return ConfirmClose(survey.id, survey.name, round_.id, round_.seq)

    def _no_survey(self, survey_id: int) -> str:
        return f"There is no survey {survey_id} here. `{self.prefix} surveys` lists them."

    async def _list(self, caller: Caller, facts: Facts) -> Reply:
        now = self.ctx.clock()
        async with self.ctx.db.session() as session:
            surveys = await management.surveys_in(session, caller.workspace_id)
            if not facts.is_coordinator:
                surveys = [s for s in surveys if s.id in facts.leads]
            statuses = [await management.status_of(session, s, now=now, loaded=self.ctx.banks) for s in surveys]
            lines = [self._status_line(s, st) for s, st in zip(surveys, statuses, strict=True)]
        if not lines:
            return Reply(f"No surveys yet. `{self.prefix} new` sets one up.")
        return Reply("*Surveys*\n" + "\n".join(lines))

    def _status_line(self, survey: Survey, status: management.SurveyStatus) -> str:
        state = "paused" if survey.paused else "active"
        upcoming = f" · next round {local(status.next_run, survey.timezone)}" if status.next_run else ""
        return (
            f"`{survey.id}` *{self.escape(survey.name)}* — {state} · {status.schedule_text} ({survey.timezone})"
            f"{upcoming} · banks: {', '.join(survey.bank_ids)}"
            + (f"\n⚠️ {status.missing_banks_text}" if status.missing_banks_text else "")
        )

    def _banks(self) -> str:
        lines = [
            f"`{bank.id}` — {bank.title} ({len(bank.items)} items, version {bank.version})" for bank in self.ctx.banks
        ]
        return "*Question banks*\n" + "\n".join(lines) if lines else "No question banks are loaded."

    async def _pause(self, survey_id: int, pause: bool, caller: Caller) -> Reply:
        async with self.ctx.db.session() as session:
            changed = await management.set_paused(session, survey_id, pause, workspace_id=caller.workspace_id)
        if pause:
            text = "paused: no rounds go out until it is resumed" if changed else "was already paused"
            return Reply(f"Survey {survey_id} {text}. Answers and results are kept.")
        text = "resumed: rounds go out on its schedule again" if changed else "was already active"
        return Reply(f"Survey {survey_id} {text}.")

    async def _send_now(self, survey: Survey) -> Reply:
        if survey.paused:
            return Reply(f"Survey {survey.id} is paused. `{self.prefix} resume {survey.id}` first, then send.")
        if self.platform is None:
            return Reply("Sending is not set up in this process.")
        # Only the round and its outbox rows are written here: the clock's outbox job sends them
        # within seconds, paced and retried, so a command never waits on a whole fan-out.
        try:
            round_, queued = await operations.open_now(
                self.ctx.db, self.ctx.banks, self.platform, survey.id, now=self.ctx.clock()
            )
        except PlatformError as exc:
            return Reply(f"Nothing was sent: {exc}. Is the app in each of the survey's channels?")
        if round_ is None:
            return Reply("A round of this survey was opened this very second; nothing more was sent.")
        return Reply(
            f"Opened round {round_.seq} of survey {survey.id}: {queued} message(s) queued, going out "
            f"within seconds. `{self.prefix} status {survey.id}` shows any that could not be delivered."
        )

    async def _digest_now(self, survey: Survey) -> Reply:
        if self.platform is None:
            return Reply("Posting is not set up in this process.")
        try:
            await operations.post_digest(self.ctx.db, self.ctx.banks, self.platform, survey.id, now=self.ctx.clock())
        except PlatformError as exc:
            return Reply(f"The digest could not be posted ({exc}). Is the app in the leaders' channel?")
        return Reply(f"Posted the digest of survey {survey.id} to its leaders' channel.")

    async def _status(self, caller: Caller, survey: Survey | None) -> Reply:
        now = self.ctx.clock()
        async with self.ctx.db.session() as session:
            surveys = [survey] if survey is not None else await management.surveys_in(session, caller.workspace_id)
            statuses = [(s, await management.status_of(session, s, now=now, loaded=self.ctx.banks)) for s in surveys]
        if not statuses:
            return Reply(f"No surveys yet. `{self.prefix} new` sets one up.")
        blocks = [self._status_text(s, st) for s, st in statuses]
        return Reply("\n\n".join(blocks))

    def _status_text(self, survey: Survey, st: management.SurveyStatus) -> str:
        lines = [
            f"`{survey.id}` *{self.escape(survey.name)}* — {st.state}",
            f"Schedule: {st.schedule_text} ({survey.timezone})",
        ]
        lines.append(
            f"Next round: {local(st.next_run, survey.timezone)}" if st.next_run else "Next round: none while paused"
        )
        r = st.latest_round
        if r is None:
            lines.append("No rounds yet.")
        else:
            state = f"open until {local(r.closes_at, survey.timezone)}" if r.open else "closed"
            if r.too_few:
                answered = f"fewer than {st.k} answers per item so far"
            else:
                answered = f"{r.answers_per_item:.0f} answers per item of {r.audience_size} people"
            lines.append(f"Round {r.seq}: {state} · {answered}")
        if st.failed_deliveries:
            reasons = "; ".join(st.failed_reasons[:5])
            lines.append(
                f"⚠️ {st.failed_deliveries} message(s) could not be delivered; check the app is in each channel."
            )
            lines.append(f"Not delivered: {reasons}")
        if st.missing_banks_text:
            lines.append(f"⚠️ {self.escape(st.missing_banks_text[0].upper() + st.missing_banks_text[1:])}.")
        return "\n".join(lines)

    async def _holidays(self, command: p.HolidaysAdd | p.HolidaysList | p.HolidaysRemove, caller: Caller) -> Reply:
        async with self.ctx.db.session() as session:
            visible = {s.id: s for s in await management.surveys_in(session, caller.workspace_id)}
            match command:
                case p.HolidaysList(survey_id=sid):
                    if sid is not None and sid not in visible:
                        return Reply(self._no_survey(sid))
                    rows = [h for h in await calendar.list_holidays(session, sid) if self._holiday_visible(h, visible)]
                    if not rows:
                        example = f"{self.prefix} holidays add all 2026-10-26 2026-10-30 Half term"
                        return Reply(f"No holidays yet. `{example}` adds one.")
                    return Reply(
                        "*Holidays* (no rounds go out on these days)\n" + "\n".join(_holiday_line(h) for h in rows)
                    )
                case p.HolidaysRemove(holiday_id=hid):
                    holiday = await session.get(Holiday, hid)
                    if holiday is None or not self._holiday_visible(holiday, visible):
                        return Reply(f"There is no holiday {hid}. `{self.prefix} holidays list` shows their numbers.")
                    await calendar.remove_holiday(session, hid)
                    return Reply(f"Removed holiday {hid} ({holiday.label or 'holiday'}).")
                case p.HolidaysAdd(survey_id=sid, starts=starts, ends=ends, label=label):
                    if sid is not None and sid not in visible:
                        return Reply(self._no_survey(sid))
                    # One workspace's "all" must not reach another's surveys.
                    targets: list[int | None] = [sid] if sid is not None or not self._shared_db() else list(visible)
                    if not targets:
                        return Reply(f"No surveys yet. `{self.prefix} new` sets one up.")
                    try:
                        added = [
                            await calendar.add_holiday(session, survey_id=t, starts=starts, ends=ends, label=label)
                            for t in targets
                        ]
                    except calendar.HolidayError as exc:
                        return Reply(f"That holiday cannot be added: {exc}.")
                    scope = f"survey {sid}" if sid is not None else "every survey"
                    numbers = ", ".join(str(h.id) for h in added)
                    return Reply(
                        f"Added holiday {numbers}: {label}, {starts:%a %d %b %Y} to {ends:%a %d %b %Y}, for {scope}. "
                        "Rounds due then are skipped, not sent later."
                    )
        return Reply(p.usage_of("holidays", self.prefix))

    def _shared_db(self) -> bool:
        """Several workspaces share this database (OAuth installs)."""
        return self.ctx.settings.slack_oauth_enabled

    def _holiday_visible(self, holiday: Holiday, visible: dict[int, Survey]) -> bool:
        if holiday.survey_id is None:
            return True
        return holiday.survey_id in visible


def _holiday_line(h: Holiday) -> str:
    scope = f"survey {h.survey_id}" if h.survey_id is not None else "every survey"
    days = f"{h.starts:%a %d %b %Y}" if h.starts == h.ends else f"{h.starts:%a %d %b %Y} to {h.ends:%a %d %b %Y}"
    return f"`{h.id}` {h.label or 'Holiday'}: {days} ({scope})"


__all__ = [
    "Caller",
    "Commands",
    "ConfirmClose",
    "ConfirmDelete",
    "Directory",
    "FormErrors",
    "OpenForm",
    "Outcome",
    "Reply",
    "Saved",
    "ShowDigest",
]
