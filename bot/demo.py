"""`pulse demo`: the real app, in-process, against a local double of the chat platform.

Forty simulated staff in two schools answer six simulated weeks of pulses (time compressed, no
real waiting). Every answer is a real request to the real app, sent the way the platform sends it.
At the end the digest is posted and printed, and the demo checks its figures against what the
staff answered. What differs between Slack and Teams lives in an `Edge` (bot/demo_slack.py,
bot/demo_teams.py); the simulation and the check live here, once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.digest_text import digest_text
from storage.migrate import upgrade
from surveys import operations
from surveys.banks import Bank
from surveys.config import SurveyConfig
from surveys.digest import Digest
from tests.harness import SimClock

BANK = "staff-trust-in-leadership"
TZ = ZoneInfo("Europe/London")
SCHOOL_NAMES = ["Oakfield Primary", "Elmhurst Academy"]
FIRST_MONDAY = dt.datetime(2026, 9, 7, 9, 0, tzinfo=TZ)

Platform = Literal["slack", "teams"]
# An edge's answer buttons for one round in one school: item id -> option value -> its button.
Ballot = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Audience:
    """Where the survey goes, in the app's own terms (segment ids as the survey config names them)."""

    segments: dict[str, str]  # each school's place on the platform -> its segment id
    digest_channel: str
    note: str = ""  # a line the demo prints once the audience exists


class Edge(Protocol):
    """The platform side of the demo: its double, its harness and how a person presses a button."""

    platform: Platform
    where: str  # how the first line names the platform
    schools: dict[str, str]  # each school's place on the platform (channel, team) -> its name

    def person(self, n: int) -> str: ...

    async def start(
        self, db_url: str, clock: SimClock, members: dict[str, list[str]], leaders: list[str]
    ) -> Context: ...

    async def stop(self) -> None: ...

    async def create_audience(self, installer: str) -> Audience: ...

    def ballot(self, place: str) -> Ballot:
        """The latest round's answer buttons as posted in a school's place."""
        ...

    async def click(self, person: str, place: str, button: Any) -> None: ...

    async def settle(self, clicks: int) -> None:
        """Wait until the platform has seen the app's reply to every click."""
        ...

    def digest_posted(self) -> str: ...

    def problems(self, clicks: int) -> list[str]:
        """The platform's own checks on what it received, on top of the figures."""
        ...

    def passed(self, clicks: int) -> str:
        """What the final line adds after the click count."""
        ...

    def keepsakes(self) -> dict[str, bytes]:
        """What the leaders received, as files a newcomer can open: the chart, the Teams card."""
        ...


# Where the demo leaves what the leaders received, under the folder it runs in.
DEMO_OUT = "demo-output"
KEEPSAKES = {
    "digest-chart.png": "the trend chart the leaders received",
    "digest-card.json": "the digest's Adaptive Card as Teams received it (paste it into adaptivecards.io/designer)",
}


def _keep(files: dict[str, bytes], out: Path) -> list[tuple[Path, str]]:
    out.mkdir(parents=True, exist_ok=True)
    kept = []
    for name, content in files.items():
        (out / name).write_bytes(content)
        kept.append((out / name, KEEPSAKES.get(name, name)))
    return kept


def _say(text: str = "") -> None:
    print(text, flush=True)


def _choose(bank: Bank, item_id: str, rng: random.Random, warmth: float) -> str:
    """A simulated person's answer: warmer staff agree more often."""
    item = bank.item(item_id)
    assert item is not None
    options = [o.value for o in bank.scale_of(item).options]
    favourable = rng.random() < warmth
    if item.reverse:
        favourable = not favourable
    return rng.choice(options[:2] if favourable else options[2:])


def _expected(bank: Bank, answers: dict[str, dict[str, str]]) -> dict[str, tuple[int, float]]:
    out: dict[str, tuple[int, float]] = {}
    for item_id, by_person in answers.items():
        item = bank.item(item_id)
        assert item is not None
        n = len(by_person)
        fav = sum(1 for option in by_person.values() if bank.valence(item, option) == 1)
        out[item_id] = (n, round(100.0 * fav / n, 1))
    return out


def _cell_problem(
    label: str, shown: tuple[int | None, float | None], suppressed: bool, truth: tuple[int, float], k: int
) -> str:
    """A shown figure must equal the staff's answers and stand on k or more; a hidden one publishes nothing."""
    n, pct = shown
    if suppressed:
        return f"{label}: hidden, yet publishes n={n}, {pct}%" if n is not None or pct is not None else ""
    if truth[0] < k:
        return f"{label}: shown with {truth[0]} answers, below k={k}"
    return "" if shown == truth else f"{label}: digest says n={n}, {pct}%; staff gave n={truth[0]}, {truth[1]}%"


def _check(digest: Digest, expected: dict[str, tuple[int, float]]) -> list[str]:
    problems = [
        _cell_problem(
            stat.item_id, (stat.n, stat.favourable_pct), stat.suppressed, expected.get(stat.item_id, (0, 0.0)), digest.k
        )
        for stat in digest.items
    ]
    if {s.item_id for s in digest.items} != set(expected):
        problems.append("the digest and the simulated staff cover different items")
    if not any(not stat.suppressed for stat in digest.items):
        problems.append("the digest shows no figure at all")
    return [p for p in problems if p]


def _check_schools(
    digest: Digest, bank: Bank, answers: dict[str, dict[str, str]], school_of: dict[str, str]
) -> list[str]:
    """Each school's figure per item: right when shown, and never shown with fewer than k answers."""
    problems = []
    for stat in digest.items:
        item = bank.item(stat.item_id)
        assert item is not None
        for cell in stat.segments:
            options = [o for person, o in answers.get(stat.item_id, {}).items() if school_of[person] == cell.segment]
            fav = sum(1 for o in options if bank.valence(item, o) == 1)
            truth = (len(options), round(100.0 * fav / len(options), 1) if options else 0.0)
            label = f"{stat.item_id} at {cell.label}"
            problems.append(_cell_problem(label, (cell.n, cell.favourable_pct), cell.suppressed, truth, digest.k))
    return [p for p in problems if p]


def _edge(platform: Platform) -> Edge:
    # Each platform's SDK loads only when its demo runs.
    if platform == "teams":
        from bot.demo_teams import TeamsEdge

        return TeamsEdge()
    from bot.demo_slack import SlackEdge

    return SlackEdge()


async def run_demo(
    staff: int = 40, weeks: int = 6, seed: int = 2012, platform: Platform = "slack", out: Path | None = None
) -> int:
    """The same seed gives the same answers, rounds and figures on every run."""
    started = time.monotonic()
    edge = _edge(platform)
    rng = random.Random(seed)
    people = [edge.person(n) for n in range(1, staff + 1)]
    places = list(edge.schools)
    members = {place: people[i :: len(places)] for i, place in enumerate(places)}
    warmth = {p: rng.uniform(0.35, 0.9) for p in people}
    clock = SimClock(FIRST_MONDAY.astimezone(dt.UTC))
    _say(f"Pulse Audit demo: {staff} staff in {len(places)} schools, {weeks} weeks, {edge.where}.")
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        await asyncio.to_thread(upgrade, db_url)
        ctx = await edge.start(db_url, clock, members, leaders=people[:3])
        try:
            audience = await edge.create_audience(installer=people[0])
            if audience.note:
                _say(audience.note)
            bank = ctx.banks[BANK]
            config = SurveyConfig(
                name="Staff trust in leadership",
                platform=edge.platform,
                bank_ids=[BANK],
                audience=[audience.segments[place] for place in places],
                segment_labels={audience.segments[place]: name for place, name in edge.schools.items()},
                digest_channel=audience.digest_channel,
                schedule="0 9 * * 1",
                digest_schedule="0 8 * * 5",
                timezone=str(TZ),
                items_per_round=2,
                # Rounds close on Thursday, so Friday's digest (closed rounds only) includes the week.
                round_hours=72,
                k=5,
            )
            async with ctx.db.session() as session:
                survey = config.to_model()
                survey.seed = rng.randrange(2**31)  # the item order, from the demo's seed
                session.add(survey)
                await session.flush()
                survey_id = survey.id
            _say(
                f"Survey {survey_id}: '{config.name}', 2 items every Monday 09:00 {TZ}, open three days, "
                "digest Fridays, k=5.\n"
            )

            def plan(person: str, ballot: Ballot) -> list[tuple[str, str]]:
                """A person's clicks, drawn before any is sent: the clicks run at once, the draws in order."""
                chosen = []
                for item_id in ballot:
                    choice = _choose(bank, item_id, rng, warmth[person])
                    # One person in ten changes their mind; only the last answer may count.
                    values = [choice, _choose(bank, item_id, rng, 0.5)] if rng.random() < 0.1 else [choice]
                    chosen += [(item_id, value) for value in values]
                return chosen

            async def answer(
                person: str, place: str, ballot: Ballot, chosen: list[tuple[str, str]], sink: dict[str, dict[str, str]]
            ) -> int:
                for item_id, value in chosen:
                    await edge.click(person, place, ballot[item_id][value])
                    sink[item_id][person] = value
                return len(chosen)

            latest: dict[str, dict[str, str]] = {}
            clicks = 0
            for week in range(weeks):
                monday = FIRST_MONDAY + dt.timedelta(weeks=week)
                clock.now = monday.astimezone(dt.UTC)
                round_, report = await operations.open_and_send(
                    ctx.db, ctx.banks, ctx.require_platform(), survey_id, now=clock.now
                )
                assert round_ is not None, "the scheduled round did not open"
                clock.advance(dt.timedelta(hours=3))
                this_round: dict[str, dict[str, str]] = defaultdict(dict)
                jobs = []
                for place in places:
                    ballot = edge.ballot(place)
                    for person in members[place]:
                        if rng.random() < 0.8:
                            jobs.append(answer(person, place, ballot, plan(person, ballot), this_round))
                counts = await asyncio.gather(*jobs)
                clicks += sum(counts)
                changed = sum(counts) - len(jobs) * len(round_.items)
                await edge.settle(clicks)
                for item_id, by_person in this_round.items():
                    latest[item_id] = dict(by_person)
                texts = "; ".join(item.text[:48] + "..." for ref in round_.items if (item := bank.item(ref["item"])))
                _say(
                    f"Week {week + 1} ({monday:%a %d %b}): round {round_.seq} sent to {report.sent} channels. "
                    f"{len(jobs)}/{staff} answered, {changed} changed an answer."
                )
                _say(f"    items: {texts}")

            friday = FIRST_MONDAY + dt.timedelta(weeks=weeks - 1, days=4, hours=-1)
            clock.now = friday.astimezone(dt.UTC)
            digest = await operations.post_digest(
                ctx.db, ctx.banks, ctx.require_platform(), survey_id, now=clock.now, scheduled=True
            )
            assert digest is not None
            _say(f"\n{edge.digest_posted()} It reads:\n")
            _say(digest_text(digest))
            school_of = {p: audience.segments[place] for place, group in members.items() for p in group}
            problems = _check(digest, _expected(bank, latest))
            problems += _check_schools(digest, bank, latest, school_of)
            problems += edge.problems(clicks)
            passed = edge.passed(clicks)
            kept = _keep(edge.keepsakes(), out or Path(DEMO_OUT))
        finally:
            await edge.stop()
    elapsed = time.monotonic() - started
    _say("")
    if problems:
        _say("CHECK FAILED: the digest does not match what the simulated staff answered:")
        for p in problems:
            _say(f"  {p}")
        return 1
    _say(f"Check passed: every figure matches the {clicks} clicks the simulated staff made {passed}")
    for path, what in kept:
        _say(f"Open {path}: {what}.")
    _say(f"Done in {elapsed:.1f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(run_demo()))
