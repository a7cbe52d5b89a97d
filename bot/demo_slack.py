"""The Slack edge of `pulse demo`: the real Bolt app over HTTP next to a local Slack double.

Each school is a channel, the leaders share #leadership-team, and every answer is a correctly
signed block_actions click; the app confirms each one privately (an ephemeral message).
"""

from __future__ import annotations

import json
from collections.abc import Sized
from contextlib import AsyncExitStack
from functools import partial
from typing import Any

from bot.context import Context
from bot.demo import SCHOOL_NAMES, Audience, Ballot, Platform
from tests.harness import Harness, SimClock, buttons_of
from tests.slack_double import SlackDouble

LEADERS = "C0LEADERS"


def _at_least(items: Sized, count: int) -> bool:
    return len(items) >= count


class SlackEdge:
    platform: Platform = "slack"
    where = "against a local Slack double"

    def __init__(self) -> None:
        self.schools = dict(zip(["C0OAKFIELD", "C0ELMHURST"], SCHOOL_NAMES, strict=True))
        self._stack = AsyncExitStack()

    def person(self, n: int) -> str:
        return f"U{n:05d}"

    async def start(self, db_url: str, clock: SimClock, members: dict[str, list[str]], leaders: list[str]) -> Context:
        self.double = SlackDouble(
            channels={
                **{
                    cid: {"name": name.lower().replace(" ", "-"), "members": members[cid]}
                    for cid, name in self.schools.items()
                },
                LEADERS: {"name": "leadership-team", "members": leaders},
            },
            users={u: {"name": f"staff{u[-3:]}"} for group in members.values() for u in group},
        )
        await self._stack.enter_async_context(self.double)
        self.harness = await self._stack.enter_async_context(Harness(db_url, double=self.double, clock=clock))
        return self.harness.ctx

    async def stop(self) -> None:
        await self._stack.aclose()

    async def create_audience(self, installer: str) -> Audience:
        # A Slack survey names its channels directly; nothing to install in a single workspace.
        return Audience(segments={cid: cid for cid in self.schools}, digest_channel=LEADERS)

    def ballot(self, place: str) -> Ballot:
        buttons = buttons_of(self.double.messages_in(place)[-1])
        return {item: {json.loads(b["value"])["o"]: b for b in options} for item, options in buttons.items()}

    async def click(self, person: str, place: str, button: Any) -> None:
        status = await self.harness.click(person, place, button)
        assert status == 200, status

    async def settle(self, clicks: int) -> None:
        await self.harness.wait_for(partial(_at_least, self.double.ephemerals, clicks), limit=30)

    def digest_posted(self) -> str:
        posted = self.double.messages_in(LEADERS)
        charts = [f for f in self.double.files if f["channel_id"] == LEADERS]
        chart = f", with a {charts[-1]['length'] // 1024} KB trend chart" if charts else ""
        return f"Digest posted to #leadership-team as {len(posted)} Slack message(s){chart}."

    def problems(self, clicks: int) -> list[str]:
        return []

    def keepsakes(self) -> dict[str, bytes]:
        charts = [f for f in self.double.files if f["channel_id"] == LEADERS]
        return {"digest-chart.png": charts[-1]["content"]} if charts else {}

    def passed(self, clicks: int) -> str:
        return f"({len(self.double.ephemerals)} private confirmations sent), with changed answers counted once."
