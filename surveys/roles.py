"""Who may do what, decided from facts a chat platform gathers about a person.

Coordinators set surveys up and run them. Who they are depends on the platform: in Slack,
workspace admins and owners, people named in configuration, and members of a coordinators' user
group; in Teams, the people named in configuration. The platform says so in its own words
(`coordinators` below), so a refusal tells people whom to ask. Leaders are the
members of a survey's digest channel; they and coordinators may read its results. Everyone else
is staff: they answer, and may ask for help.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    HELP = "help"
    LIST_SURVEYS = "list surveys"
    LIST_BANKS = "list banks"
    CREATE = "create surveys"
    EDIT = "change surveys"
    PAUSE = "pause surveys"
    RESUME = "resume surveys"
    DELETE = "delete surveys"
    SEND = "send rounds"
    CLOSE = "close rounds"
    POST_DIGEST = "post digests"
    STATUS = "see survey status"
    RESULTS = "see results"
    VIEW_HOLIDAYS = "see holidays"
    CHANGE_HOLIDAYS = "change holidays"
    EXCHANGES = "run JPD exchanges"


class Need(StrEnum):
    ANYONE = "anyone"
    COORDINATOR = "coordinator"
    # A coordinator, or a leader of the survey in question (of any survey when none is named).
    LEADER = "leader"


POLICY: dict[Action, Need] = {
    Action.HELP: Need.ANYONE,
    Action.LIST_SURVEYS: Need.LEADER,
    Action.RESULTS: Need.LEADER,
    Action.LIST_BANKS: Need.COORDINATOR,
    Action.CREATE: Need.COORDINATOR,
    Action.EDIT: Need.COORDINATOR,
    Action.PAUSE: Need.COORDINATOR,
    Action.RESUME: Need.COORDINATOR,
    Action.DELETE: Need.COORDINATOR,
    Action.SEND: Need.COORDINATOR,
    Action.CLOSE: Need.COORDINATOR,
    Action.POST_DIGEST: Need.COORDINATOR,
    Action.STATUS: Need.COORDINATOR,
    Action.VIEW_HOLIDAYS: Need.COORDINATOR,
    Action.CHANGE_HOLIDAYS: Need.COORDINATOR,
    Action.EXCHANGES: Need.COORDINATOR,
}


@dataclass(frozen=True)
class Facts:
    """What the platform knows about one person, gathered fresh for each request."""

    workspace_admin: bool = False
    configured: bool = False
    in_coordinator_group: bool = False
    # Ids of the surveys whose digest channel this person belongs to.
    leads: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_coordinator(self) -> bool:
        return self.workspace_admin or self.configured or self.in_coordinator_group

    def leads_survey(self, survey_id: int | None) -> bool:
        return bool(self.leads) if survey_id is None else survey_id in self.leads


def may(facts: Facts, action: Action, survey_id: int | None = None) -> bool:
    need = POLICY[action]
    if need is Need.ANYONE or facts.is_coordinator:
        return True
    return need is Need.LEADER and facts.leads_survey(survey_id)


# Who coordinators are, when the platform does not say.
NAMED_COORDINATORS = "the people your school has named"


def refusal(action: Action, coordinators: str = NAMED_COORDINATORS) -> str:
    """A polite no that says who can, so the person knows whom to ask.

    `coordinators` says who they are on this platform, e.g. "workspace admins and owners and
    the people your school has named".
    """
    if POLICY[action] is Need.LEADER:
        return (
            f"Sorry, only Pulse coordinators and the survey's leaders (members of its digest channel) "
            f"can {action.value}. Nothing was changed."
        )
    return (
        f"Sorry, only Pulse coordinators can {action.value}. Nothing was changed. "
        f"Coordinators are {coordinators}; ask one of them if you need this."
    )
