"""One scenario, two chat platforms: a small driver per platform, so the same test runs on both.

Each driver runs the real product over HTTP against its platform's double (signed Slack requests;
Teams activities with Bot Framework tokens) and reports what people would see, in plain text.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from bot.teams.ids import conversation_key
from storage.models import Survey
from surveys import operations
from surveys.banks import BankRegistry
from surveys.sending import SendReport
from tests.e2e import conftest as slack_world
from tests.e2e.teams import conftest as teams_world
from tests.harness import Harness, SimClock, buttons_of
from tests.slack_double import SlackDouble, validate_blocks
from tests.teams_double import Team, TeamsDouble, cards_of, validate_card
from tests.teams_double.harness import TeamsHarness, answer_buttons, texts_of


@dataclass(frozen=True)
class Button:
    item: str
    option: str
    raw: Any


class Driver(Protocol):
    name: str
    h: Any
    schools: tuple[str, str]
    coordinator: str
    clock: SimClock

    def staff(self, school: str) -> list[str]: ...

    async def make_survey(self, **overrides: object) -> Survey: ...

    async def open_round(self, survey: Survey) -> SendReport: ...

    def round_posts(self, school: str) -> int: ...

    def buttons(self, school: str) -> dict[str, list[Button]]: ...

    async def answer(self, person: str, school: str, button: Button) -> str:
        """Click; returns the private confirmation the person sees."""
        ...

    async def command(self, person: str, text: str) -> str:
        """`pulse <text>`; returns the reply the person sees."""
        ...

    async def post_digest(self, survey: Survey) -> tuple[Any, str, list[str]]:
        """(digest, what leaders see as JSON, problems the platform's own validator finds)."""
        ...


SLACK_ADMIN = "UADMIN"


def slack_workspace() -> SlackDouble:
    """Two schools' channels and the leaders' channel; the coordinator is a workspace admin."""
    return SlackDouble(
        channels={
            slack_world.SCHOOL_A: {"name": "school-a", "members": slack_world.STAFF_A},
            slack_world.SCHOOL_B: {"name": "school-b", "members": slack_world.STAFF_B},
            slack_world.LEADERS: {"name": "leaders", "members": ["UL001", SLACK_ADMIN]},
        },
        users={
            SLACK_ADMIN: {"is_admin": True},
            "UL001": {},
            **{u: {} for u in slack_world.STAFF_A + slack_world.STAFF_B},
        },
    )


def plain(text: str) -> str:
    """Without emphasis marks, which the platforms write differently."""
    return text.replace("*", "")


class SlackDriver:
    name = "slack"

    def __init__(self, h: Harness, clock: SimClock) -> None:
        self.h = h
        self.clock = clock
        self.schools = (slack_world.SCHOOL_A, slack_world.SCHOOL_B)
        self.coordinator = SLACK_ADMIN

    def staff(self, school: str) -> list[str]:
        return slack_world.STAFF_A if school == slack_world.SCHOOL_A else slack_world.STAFF_B

    async def make_survey(self, **overrides: object) -> Survey:
        return await slack_world.make_survey(self.h, **overrides)

    async def open_round(self, survey: Survey) -> SendReport:
        _, report = await operations.open_and_send(
            self.h.db, self.h.ctx.banks, self.h.ctx.require_platform(), survey.id, now=self.clock()
        )
        return report

    def round_posts(self, school: str) -> int:
        return len([m for m in self.h.double.messages_in(school) if buttons_of(m)])

    def buttons(self, school: str) -> dict[str, list[Button]]:
        message = self.h.double.messages_in(school)[-1]
        assert validate_blocks(message["blocks"]) == []
        return {
            item: [Button(item, json.loads(b["value"])["o"], b) for b in options]
            for item, options in buttons_of(message).items()
        }

    async def answer(self, person: str, school: str, button: Button) -> str:
        before = len(self.h.double.ephemerals)
        assert await self.h.click(person, school, button.raw) == 200
        await self.h.wait_for(lambda: len(self.h.double.ephemerals) > before)
        return plain(self.h.double.ephemerals[-1]["text"])

    async def command(self, person: str, text: str) -> str:
        double = self.h.double
        before = len(double.responses)
        assert await self.h.command(person, text) == 200
        await self.h.wait_for(lambda: len(double.responses) > before)
        return plain(str(double.responses[before]["body"].get("text", "")))

    async def post_digest(self, survey: Survey) -> tuple[Any, str, list[str]]:
        digest = await operations.post_digest(
            self.h.db, self.h.ctx.banks, self.h.ctx.require_platform(), survey.id, now=self.clock()
        )
        blocks = [b for m in self.h.double.messages_in(slack_world.LEADERS) for b in m.get("blocks") or []]
        return digest, json.dumps(blocks), validate_blocks(blocks)


class TeamsDriver:
    name = "teams"

    def __init__(self, h: TeamsHarness, clock: SimClock) -> None:
        self.h = h
        self.clock = clock
        self.teams = {conversation_key(t): t for t in (teams_world.OAKFIELD, teams_world.ELMHURST)}
        self.schools = (conversation_key(teams_world.OAKFIELD), conversation_key(teams_world.ELMHURST))
        self.coordinator = teams_world.COORDINATOR

    def staff(self, school: str) -> list[str]:
        return teams_world.STAFF_A if self.teams[school] == teams_world.OAKFIELD else teams_world.STAFF_B

    async def make_survey(self, **overrides: object) -> Survey:
        await teams_world.installed(self.h)
        return await teams_world.make_teams_survey(self.h, **overrides)

    async def open_round(self, survey: Survey) -> SendReport:
        _, report = await operations.open_and_send(
            self.h.db, self.h.ctx.banks, self.h.platform, survey.id, now=self.clock()
        )
        return report

    def _round_messages(self, school: str) -> list[dict[str, Any]]:
        posted = self.h.double.messages_in(self.teams[school])
        return [m for m in posted if any(answer_buttons(c) for c in cards_of(m))]

    def round_posts(self, school: str) -> int:
        return len(self._round_messages(school))

    def buttons(self, school: str) -> dict[str, list[Button]]:
        message = self._round_messages(school)[-1]
        [card] = cards_of(message)
        assert validate_card(card) == []
        return {
            item: [Button(item, a["data"]["o"], (message["id"], a)) for a in actions]
            for item, actions in answer_buttons(card).items()
        }

    async def answer(self, person: str, school: str, button: Button) -> str:
        message_id, action = button.raw
        status, body = await self.h.click(person, action, channel_id=self.teams[school], reply_to=message_id)
        assert status == 200 and validate_card(body["value"]) == []
        return plain(texts_of(body["value"])[0])

    async def command(self, person: str, text: str) -> str:
        assert await self.h.say(person, f"pulse {text}") == 202
        replies = self.h.double.messages_in(self.h.double.personal_conversation(person))
        return plain(str(replies[-1].get("text") or ""))

    async def post_digest(self, survey: Survey) -> tuple[Any, str, list[str]]:
        digest = await operations.post_digest(self.h.db, self.h.ctx.banks, self.h.platform, survey.id, now=self.clock())
        posted = [c for m in self.h.double.messages_in(teams_world.LEADERS) for c in cards_of(m)]
        return digest, json.dumps(posted), [p for c in posted for p in validate_card(c)]


@asynccontextmanager
async def driver_for(platform: str, db_url: str, banks: BankRegistry) -> AsyncIterator[Driver]:
    clock = SimClock(dt.datetime(2026, 9, 7, 8, 0, tzinfo=dt.UTC))
    if platform == "slack":
        async with slack_workspace() as slack, Harness(db_url, double=slack, clock=clock, banks=banks) as h:
            yield SlackDriver(h, clock)
        return
    double = TeamsDouble(
        teams={
            teams_world.OAKFIELD: Team("Oakfield Primary", teams_world.STAFF_A),
            teams_world.ELMHURST: Team("Elmhurst Academy", teams_world.STAFF_B),
            teams_world.LEADERS: Team("Leadership", [teams_world.LEADER, teams_world.COORDINATOR]),
        }
    )
    async with (
        double,
        TeamsHarness(
            db_url, double=double, clock=clock, banks=banks, settings={"teams_coordinators": teams_world.COORDINATOR}
        ) as h,
    ):
        yield TeamsDriver(h, clock)
