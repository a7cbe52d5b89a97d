"""`/pulse ...` (Slack) and `pulse ...` (Teams) text, parsed into one pydantic model per command.

Pure: no I/O and no chat platform here, so Slack and Teams share it and it can be fuzzed.
`parse` returns a Command or raises UsageError, whose message carries the right usage line;
`unparse` turns a Command back into text (buttons and tests use it).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SurveyId = Annotated[int, Field(ge=1, le=2**31 - 1)]
MAX_LABEL = 100


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Help(_Command):
    verb: Literal["help"] = "help"
    topic: str | None = None


class ListSurveys(_Command):
    verb: Literal["surveys"] = "surveys"


class NewSurvey(_Command):
    verb: Literal["new"] = "new"


class EditSurvey(_Command):
    verb: Literal["edit"] = "edit"
    survey_id: SurveyId


class Pause(_Command):
    verb: Literal["pause"] = "pause"
    survey_id: SurveyId


class Resume(_Command):
    verb: Literal["resume"] = "resume"
    survey_id: SurveyId


class Delete(_Command):
    verb: Literal["delete"] = "delete"
    survey_id: SurveyId


class Close(_Command):
    verb: Literal["close"] = "close"
    # None: the one survey with an open round (asked which when there are several).
    survey_id: SurveyId | None = None


class SendNow(_Command):
    verb: Literal["send-now"] = "send-now"
    survey_id: SurveyId


class DigestNow(_Command):
    verb: Literal["digest-now"] = "digest-now"
    survey_id: SurveyId


class ListBanks(_Command):
    verb: Literal["banks"] = "banks"


class Status(_Command):
    verb: Literal["status"] = "status"
    survey_id: SurveyId | None = None


class Results(_Command):
    verb: Literal["results"] = "results"
    survey_id: SurveyId


class HolidaysAdd(_Command):
    verb: Literal["holidays add"] = "holidays add"
    # None: every survey in the workspace.
    survey_id: SurveyId | None
    starts: dt.date
    ends: dt.date
    label: Annotated[str, Field(min_length=1, max_length=MAX_LABEL)] = "Holiday"


class HolidaysList(_Command):
    verb: Literal["holidays list"] = "holidays list"
    survey_id: SurveyId | None = None


class HolidaysRemove(_Command):
    verb: Literal["holidays remove"] = "holidays remove"
    holiday_id: SurveyId


class JpdOpen(_Command):
    verb: Literal["jpd open"] = "jpd open"
    kind: Literal["staff", "schools"] = "staff"
    day: dt.date
    # None: the end of the school day (JPD_DEFAULT_TIME) in the coordinator's time zone.
    at: dt.time | None = None


class JpdClose(_Command):
    verb: Literal["jpd close"] = "jpd close"


class JpdStatus(_Command):
    verb: Literal["jpd status"] = "jpd status"


class JpdSummary(_Command):
    verb: Literal["jpd summary"] = "jpd summary"
    exchange_id: SurveyId | None = None


class JpdDelete(_Command):
    verb: Literal["jpd delete"] = "jpd delete"
    exchange_id: SurveyId


class JpdTopics(_Command):
    verb: Literal["jpd topics"] = "jpd topics"


class JpdTopicAdd(_Command):
    verb: Literal["jpd topics add"] = "jpd topics add"
    label: Annotated[str, Field(min_length=1, max_length=MAX_LABEL)]


class JpdTopicRemove(_Command):
    verb: Literal["jpd topics remove"] = "jpd topics remove"
    name: Annotated[str, Field(min_length=1, max_length=MAX_LABEL)]


JpdCommand = JpdOpen | JpdClose | JpdStatus | JpdSummary | JpdDelete | JpdTopics | JpdTopicAdd | JpdTopicRemove

Command = (
    Help
    | ListSurveys
    | NewSurvey
    | EditSurvey
    | Pause
    | Resume
    | Delete
    | Close
    | SendNow
    | DigestNow
    | ListBanks
    | Status
    | Results
    | HolidaysAdd
    | HolidaysList
    | HolidaysRemove
    | JpdCommand
)

# (syntax, what it does): one line each in `help`, and the usage shown after a mistake.
COMMANDS: dict[str, tuple[str, str]] = {
    "help": ("help [COMMAND]", "this list, or how to use one command"),
    "surveys": ("surveys", "the surveys and whether each is active or paused"),
    "new": ("new", "set up a new survey in a form"),
    "edit": ("edit ID", "change a survey in the same form"),
    "pause": ("pause ID", "stop sending a survey's rounds; answers and results are kept"),
    "resume": ("resume ID", "start sending a paused survey again"),
    "delete": ("delete ID", "delete a survey and all its results, once you confirm"),
    "send-now": ("send-now ID", "open a round of a survey now and send it"),
    "close": ("close [ID]", "close a survey's open round now, once you confirm: sealed, no more answers"),
    "digest-now": ("digest-now ID", "post a survey's digest to its leaders' channel now"),
    "banks": ("banks", "the question banks a survey can use"),
    "status": ("status [ID]", "next run, open round, participation and failed sends"),
    "results": ("results ID", "a survey's latest results, shown only to you"),
    "holidays": (
        "holidays add ID|all FROM [TO] [LABEL] · holidays list [ID] · holidays remove N",
        "term breaks, when no rounds are sent (dates as YYYY-MM-DD)",
    ),
    "jpd": (
        "jpd open [schools] YYYY-MM-DD [HH:MM] · jpd status · jpd close · jpd summary [N] · jpd delete N · "
        "jpd topics [add NAME | remove NAME]",
        "a joint practice development exchange (named, not anonymous): who could offer what, who would "
        "like to gain what, introduced in groups of two or three at the deadline",
    ),
}
ALIASES = {"list": "surveys", "survey": "surveys", "bank": "banks", "holiday": "holidays", "?": "help"}


class UsageError(ValueError):
    """A mistake in what was typed; `usage` is the line that shows how to type it."""

    def __init__(self, problem: str, verb: str | None = None, prefix: str = "/pulse") -> None:
        self.problem = problem
        self.verb = verb
        self.prefix = prefix
        super().__init__(self.message)

    @property
    def usage(self) -> str:
        if self.verb in COMMANDS:
            return f"Usage: `{self.prefix} {COMMANDS[self.verb][0]}`"
        return f"`{self.prefix} help` lists the commands."

    @property
    def message(self) -> str:
        return f"{self.problem} {self.usage}"


def help_text(prefix: str = "/pulse") -> str:
    lines = ["*Pulse Audit*: anonymous trust pulses. Commands:"]
    lines += [f"`{prefix} {syntax}` — {what}" for syntax, what in COMMANDS.values()]
    return "\n".join(lines)


def usage_of(verb: str, prefix: str = "/pulse") -> str:
    syntax, what = COMMANDS[verb]
    return f"`{prefix} {syntax}` — {what}"


_ID = re.compile(r"^#?(\d{1,9})$")


def _number(token: str, verb: str, what: str = "survey") -> int:
    match = _ID.match(token)
    if match is None or int(match.group(1)) < 1:
        article = "an" if what[:1] in "aeiou" else "a"
        raise UsageError(f"'{_clip(token)}' is not {article} {what} number.", verb)
    return int(match.group(1))


def _date(token: str, verb: str) -> dt.date:
    try:
        return dt.date.fromisoformat(token)
    except ValueError:
        raise UsageError(f"'{_clip(token)}' is not a date; write it as YYYY-MM-DD.", verb) from None


def _clip(text: str, n: int = 40) -> str:
    text = text.replace("`", "'")
    return text if len(text) <= n else text[: n - 1] + "…"


def _verb(token: str) -> str:
    verb = token.lower().replace("_", "-")
    verb = {"sendnow": "send-now", "digestnow": "digest-now"}.get(verb, verb)
    return ALIASES.get(verb, verb)


def parse(text: str) -> Command:
    tokens = text.split()
    if tokens and tokens[0].lower() in ("pulse", "/pulse"):
        tokens = tokens[1:]
    if not tokens:
        return Help()
    verb, args = _verb(tokens[0]), tokens[1:]
    if verb not in COMMANDS:
        close = difflib.get_close_matches(verb, list(COMMANDS), n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        raise UsageError(f"There is no command '{_clip(tokens[0])}'.{hint}")
    if verb == "holidays":
        return _holidays(args)
    if verb == "jpd":
        return _jpd(args)
    if verb == "surveys" and args and args[0].lower() == "list":
        args = args[1:]
    if verb == "help":
        _at_most(args, 1, verb)
        topic = _verb(args[0]) if args else None
        return Help(topic=topic if topic in COMMANDS else None)
    if verb in ("surveys", "new", "banks"):
        _at_most(args, 0, verb)
        simple: dict[str, ListSurveys | NewSurvey | ListBanks] = {
            "surveys": ListSurveys(),
            "new": NewSurvey(),
            "banks": ListBanks(),
        }
        return simple[verb]
    if verb == "status":
        _at_most(args, 1, verb)
        return Status(survey_id=_number(args[0], verb) if args else None)
    if verb == "close":
        _at_most(args, 1, verb)
        return Close(survey_id=_number(args[0], verb) if args else None)
    if not args:
        raise UsageError("Which survey? Give its number.", verb)
    _at_most(args, 1, verb)
    survey_id = _number(args[0], verb)
    by_verb: dict[str, type[EditSurvey | Pause | Resume | Delete | SendNow | DigestNow | Results]] = {
        "edit": EditSurvey,
        "pause": Pause,
        "resume": Resume,
        "delete": Delete,
        "send-now": SendNow,
        "digest-now": DigestNow,
        "results": Results,
    }
    return by_verb[verb](survey_id=survey_id)


def _at_most(args: list[str], n: int, verb: str) -> None:
    if len(args) > n:
        raise UsageError(f"Too many words after `{verb}`.", verb)


def _holidays(args: list[str]) -> Command:
    verb = "holidays"
    action = args[0].lower() if args else "list"
    rest = args[1:]
    if action == "list":
        _at_most(rest, 1, verb)
        return HolidaysList(survey_id=_number(rest[0], verb) if rest and rest[0].lower() != "all" else None)
    if action in ("remove", "delete"):
        if len(rest) != 1:
            raise UsageError("Say which holiday to remove, by the number `holidays list` shows.", verb)
        return HolidaysRemove(holiday_id=_number(rest[0], verb, "holiday"))
    if action == "add":
        if len(rest) < 2:
            raise UsageError("Say which survey (or `all`) and the first day.", verb)
        survey_id = None if rest[0].lower() == "all" else _number(rest[0], verb)
        starts = _date(rest[1], verb)
        ends, label_words = starts, rest[2:]
        if label_words and re.match(r"^\d{4}-\d{2}-\d{2}$", label_words[0]):
            ends, label_words = _date(label_words[0], verb), label_words[1:]
        if ends < starts:
            raise UsageError("The last day comes before the first.", verb)
        label = " ".join(label_words) or "Holiday"
        if len(label) > MAX_LABEL:
            raise UsageError(f"The label is too long (at most {MAX_LABEL} characters).", verb)
        return HolidaysAdd(survey_id=survey_id, starts=starts, ends=ends, label=label)
    raise UsageError(f"`holidays` does not know '{_clip(action)}'.", verb)


_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def _time(token: str, verb: str) -> dt.time:
    match = _TIME.match(token)
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise UsageError(f"'{_clip(token)}' is not a time of day; write it as HH:MM, e.g. 15:30.", verb)
    return dt.time(int(match.group(1)), int(match.group(2)))


def _jpd(args: list[str]) -> Command:
    verb = "jpd"
    action = args[0].lower() if args else "status"
    rest = args[1:]
    if action == "open":
        kind: Literal["staff", "schools"] = "staff"
        if rest and rest[0].lower() in ("schools", "staff"):
            kind = "schools" if rest[0].lower() == "schools" else "staff"
            rest = rest[1:]
        if not rest:
            raise UsageError("Say when it closes: the deadline's date, and a time if not the end of the day.", verb)
        _at_most(rest, 2, verb)
        return JpdOpen(kind=kind, day=_date(rest[0], verb), at=_time(rest[1], verb) if len(rest) > 1 else None)
    if action in ("close", "status"):
        _at_most(rest, 0, verb)
        return JpdClose() if action == "close" else JpdStatus()
    if action == "delete":
        if len(rest) != 1:
            raise UsageError("Say which exchange to delete, by its number.", verb)
        return JpdDelete(exchange_id=_number(rest[0], verb, "exchange"))
    if action in ("summary", "results"):
        _at_most(rest, 1, verb)
        return JpdSummary(exchange_id=_number(rest[0], verb, "exchange") if rest else None)
    if action in ("topics", "topic"):
        sub = rest[0].lower() if rest else "list"
        words = " ".join(rest[1:])
        if sub == "list":
            _at_most(rest, 1, verb)
            return JpdTopics()
        if sub not in ("add", "remove", "delete"):
            raise UsageError(f"`jpd topics` does not know '{_clip(sub)}': use `add` or `remove`.", verb)
        if not words:
            raise UsageError("Say which topic, by its name.", verb)
        if len(words) > MAX_LABEL:
            raise UsageError(f"A topic's name is at most {MAX_LABEL} characters.", verb)
        return JpdTopicAdd(label=words) if sub == "add" else JpdTopicRemove(name=words)
    raise UsageError(f"`jpd` does not know '{_clip(action)}'.", verb)


def unparse(command: Command) -> str:
    """The text that parses back to `command`."""
    match command:
        case Help(topic=topic):
            return f"help {topic}" if topic else "help"
        case Status(survey_id=None):
            return "status"
        case Close(survey_id=None):
            return "close"
        case HolidaysAdd(survey_id=sid, starts=starts, ends=ends, label=label):
            target = str(sid) if sid is not None else "all"
            return f"holidays add {target} {starts.isoformat()} {ends.isoformat()} {label}"
        case HolidaysList(survey_id=sid):
            return f"holidays list {sid}" if sid is not None else "holidays list"
        case HolidaysRemove(holiday_id=hid):
            return f"holidays remove {hid}"
        case ListSurveys() | NewSurvey() | ListBanks() | JpdClose() | JpdStatus() | JpdTopics():
            return command.verb
        case JpdOpen(kind=kind, day=day, at=at):
            words = ["jpd open"] + (["schools"] if kind == "schools" else []) + [day.isoformat()]
            return " ".join(words + ([at.strftime("%H:%M")] if at is not None else []))
        case JpdSummary(exchange_id=eid):
            return f"jpd summary {eid}" if eid is not None else "jpd summary"
        case JpdDelete(exchange_id=eid):
            return f"jpd delete {eid}"
        case JpdTopicAdd(label=label):
            return f"jpd topics add {label}"
        case JpdTopicRemove(name=name):
            return f"jpd topics remove {name}"
        case _:
            return f"{command.verb} {command.survey_id}"
