"""`pulse demo`: the real app, in-process, against a local Slack double.

Forty simulated staff in two schools answer six simulated weeks of pulses (time compressed, no
real waiting). Every answer is a correctly signed HTTP click on the real Bolt app. At the end the
digest is posted and printed, and the demo checks its figures against what the staff answered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sized
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.digest_text import digest_text
from storage.migrate import upgrade
from surveys import operations
from surveys.banks import Bank
from surveys.config import SurveyConfig
from surveys.digest import Digest
from tests.harness import Harness, SimClock, buttons_of
from tests.slack_double import SlackDouble

BANK = "staff-trust-in-leadership"
TZ = ZoneInfo("Europe/London")
SCHOOLS = {"C0OAKFIELD": "Oakfield Primary", "C0ELMHURST": "Elmhurst Academy"}
LEADERS = "C0LEADERS"
FIRST_MONDAY = dt.datetime(2026, 9, 7, 9, 0, tzinfo=TZ)


def _at_least(items: Sized, count: int) -> bool:
    return len(items) >= count


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


def _expected(bank: Bank, answers: dict[str, dict[str, str]], k: int) -> dict[str, tuple[int, float | None]]:
    out: dict[str, tuple[int, float | None]] = {}
    for item_id, by_user in answers.items():
        item = bank.item(item_id)
        assert item is not None
        n = len(by_user)
        fav = sum(1 for option in by_user.values() if bank.valence(item, option) == 1)
        out[item_id] = (n, round(100.0 * fav / n, 1) if n >= k else None)
    return out


def _check(digest: Digest, expected: dict[str, tuple[int, float | None]]) -> list[str]:
    problems = []
    for stat in digest.items:
        n, pct = expected.get(stat.item_id, (0, None))
        if stat.n != n or stat.favourable_pct != pct:
            problems.append(f"{stat.item_id}: digest says n={stat.n}, {stat.favourable_pct}%; staff gave n={n}, {pct}%")
    if {s.item_id for s in digest.items} != set(expected):
        problems.append("the digest and the simulated staff cover different items")
    return problems


def _check_schools(
    digest: Digest, bank: Bank, answers: dict[str, dict[str, str]], school_of: dict[str, str]
) -> list[str]:
    """Each school's figure per item: right when shown, and never shown with fewer than k answers."""
    problems = []
    for stat in digest.items:
        item = bank.item(stat.item_id)
        assert item is not None
        for cell in stat.segments:
            options = [o for user, o in answers.get(stat.item_id, {}).items() if school_of[user] == cell.segment]
            fav = sum(1 for o in options if bank.valence(item, o) == 1)
            pct = round(100.0 * fav / len(options), 1) if options else None
            if cell.n != len(options) or (not cell.suppressed and (cell.favourable_pct != pct or cell.n < digest.k)):
                problems.append(f"{stat.item_id} at {cell.label}: digest says n={cell.n}, {cell.favourable_pct}%")
    return problems


async def run_demo(staff: int = 40, weeks: int = 6, seed: int = 2012) -> int:
    started = time.monotonic()
    rng = random.Random(seed)
    users = [f"U{n:05d}" for n in range(1, staff + 1)]
    school_ids = list(SCHOOLS)
    members = {cid: users[i :: len(school_ids)] for i, cid in enumerate(school_ids)}
    warmth = {u: rng.uniform(0.35, 0.9) for u in users}
    double = SlackDouble(
        channels={
            **{cid: {"name": name.lower().replace(" ", "-"), "members": members[cid]} for cid, name in SCHOOLS.items()},
            LEADERS: {"name": "leadership-team", "members": users[:3]},
        },
        users={u: {"name": f"staff{u[-3:]}"} for u in users},
    )
    clock = SimClock(FIRST_MONDAY.astimezone(dt.UTC))
    _say(f"Pulse Audit demo: {staff} staff in {len(SCHOOLS)} schools, {weeks} weeks, against a local Slack double.")
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        await asyncio.to_thread(upgrade, db_url)
        async with double, Harness(db_url, double=double, clock=clock) as h:
            bank = h.ctx.banks[BANK]
            config = SurveyConfig(
                name="Staff trust in leadership",
                bank_ids=[BANK],
                audience=school_ids,
                segment_labels=SCHOOLS,
                digest_channel=LEADERS,
                schedule="0 9 * * 1",
                digest_schedule="0 8 * * 5",
                timezone=str(TZ),
                items_per_round=2,
                # Rounds close on Thursday, so Friday's digest (closed rounds only) includes the week.
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
            clicks = 0
            for week in range(weeks):
                monday = FIRST_MONDAY + dt.timedelta(weeks=week)
                clock.now = monday.astimezone(dt.UTC)
                round_, report = await operations.open_and_send(
                    h.db, h.ctx.banks, h.ctx.require_platform(), survey_id, now=clock.now
                )
                assert round_ is not None, "the scheduled round did not open"
                clock.advance(dt.timedelta(hours=3))
                answered, changed = 0, 0
                this_round: dict[str, dict[str, str]] = defaultdict(dict)

                async def answer(
                    user: str, channel: str, buttons: dict[str, list[dict[str, str]]], sink: dict[str, dict[str, str]]
                ) -> int:
                    n = 0
                    for item_id, options in buttons.items():
                        choice = _choose(bank, item_id, rng, warmth[user])
                        for value in [choice, _choose(bank, item_id, rng, 0.5)] if rng.random() < 0.1 else [choice]:
                            button = next(b for b in options if f'"o":"{value}"' in b["value"])
                            assert await h.click(user, channel, button) == 200
                            sink[item_id][user] = value
                            n += 1
                    return n

                jobs = []
                for channel in school_ids:
                    message = double.messages_in(channel)[-1]
                    buttons = buttons_of(message)
                    for user in members[channel]:
                        if rng.random() < 0.8:
                            answered += 1
                            jobs.append(answer(user, channel, buttons, this_round))
                counts = await asyncio.gather(*jobs)
                clicks += sum(counts)
                changed = sum(counts) - answered * len(round_.items)
                await h.wait_for(partial(_at_least, double.ephemerals, clicks), limit=30)
                for item_id, by_user in this_round.items():
                    latest[item_id] = dict(by_user)
                texts = "; ".join(bank.item(ref["item"]).text[:48] + "..." for ref in round_.items)  # type: ignore[union-attr]
                _say(
                    f"Week {week + 1} ({monday:%a %d %b}): round {round_.seq} sent to {report.sent} channels. "
                    f"{answered}/{staff} answered, {changed} changed an answer."
                )
                _say(f"    items: {texts}")

            friday = FIRST_MONDAY + dt.timedelta(weeks=weeks - 1, days=4, hours=-1)
            clock.now = friday.astimezone(dt.UTC)
            digest = await operations.post_digest(
                h.db, h.ctx.banks, h.ctx.require_platform(), survey_id, now=clock.now, scheduled=True
            )
            assert digest is not None
            posted = double.messages_in(LEADERS)
            charts = [f for f in double.files if f["channel_id"] == LEADERS]
            chart = f", with a {charts[-1]['length'] // 1024} KB trend chart" if charts else ""
            _say(f"\nDigest posted to #leadership-team as {len(posted)} Slack message(s){chart}. It reads:\n")
            _say(digest_text(digest))
            school_of = {u: cid for cid, people in members.items() for u in people}
            problems = _check(digest, _expected(bank, latest, digest.k))
            problems += _check_schools(digest, bank, latest, school_of)
            ephemerals = len(double.ephemerals)
    elapsed = time.monotonic() - started
    _say("")
    if problems:
        _say("CHECK FAILED: the digest does not match what the simulated staff answered:")
        for p in problems:
            _say(f"  {p}")
        return 1
    _say(
        f"Check passed: every figure matches the {clicks} clicks the simulated staff made "
        f"({ephemerals} private confirmations sent), with changed answers counted once."
    )
    _say(f"Done in {elapsed:.1f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(run_demo()))
