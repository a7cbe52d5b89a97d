"""Clicks over signed HTTP to a posted digest: three schools, two cycles, the chart, once per slot."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import pytest

from bot.slack.digest_blocks import digest_messages
from surveys import operations
from surveys.banks import BankRegistry, parse_bank
from tests.e2e.conftest import LEADERS, START, make_survey
from tests.harness import Harness, SimClock, buttons_of
from tests.slack_double import SlackDouble, validate_blocks

BANK = """
id: e2e-pulse
version: 1
title: Two-item pulse
kind: statements
scales:
  agreement:
    options:
      - {value: strongly-agree, label: Strongly agree, score: 4, valence: favourable}
      - {value: agree, label: Agree, score: 3, valence: favourable}
      - {value: disagree, label: Disagree, score: 2, valence: unfavourable}
      - {value: strongly-disagree, label: Strongly disagree, score: 1, valence: unfavourable}
items:
  - {id: e2e-honesty, text: "Leaders are straight with us.", aspect: honesty, scale: agreement}
  - {id: e2e-backing, text: "Leaders back us when it matters.", aspect: backing, scale: agreement}
"""
SCHOOLS = {"C0ASH": ("Ashfield", 12), "C0BEE": ("Beeches", 8), "C0COP": ("Copse", 4)}
STAFF = {cid: [f"U{cid[2:]}{i:02d}" for i in range(size)] for cid, (_, size) in SCHOOLS.items()}
# (round, item) -> school -> how many agree, how many disagree. Honesty jumps; backing holds steady.
PLAN = {
    (1, "e2e-honesty"): {"C0ASH": (2, 10), "C0BEE": (1, 7), "C0COP": (1, 2)},
    (1, "e2e-backing"): {"C0ASH": (6, 5), "C0BEE": (4, 4), "C0COP": (2, 1)},
    (2, "e2e-honesty"): {"C0ASH": (11, 1), "C0BEE": (7, 1), "C0COP": (2, 1)},
    (2, "e2e-backing"): {"C0ASH": (7, 5), "C0BEE": (4, 3), "C0COP": (1, 2)},
}


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    channels = {cid: {"name": name.lower(), "members": STAFF[cid]} for cid, (name, _) in SCHOOLS.items()}
    d = SlackDouble(channels={**channels, LEADERS: {"name": "leaders", "members": ["UL001"]}})
    async with d:
        yield d


@pytest.fixture
def banks() -> BankRegistry:
    registry = BankRegistry.load(None)
    registry.add(parse_bank(BANK))
    return registry


async def _round(app: Harness, double: SlackDouble, survey_id: int, seq: int) -> None:
    round_, report = await operations.open_and_send(
        app.db, app.ctx.banks, app.ctx.require_platform(), survey_id, now=app.ctx.clock(), scheduled=False
    )
    assert round_ is not None and round_.seq == seq and report.sent == len(SCHOOLS)
    before = len(double.ephemerals)
    clicks = 0
    for cid in SCHOOLS:
        buttons = buttons_of(double.messages_in(cid)[-1])
        assert set(buttons) == {"e2e-honesty", "e2e-backing"}
        for item, options in buttons.items():
            agree, disagree = PLAN[(seq, item)][cid]
            for i, user in enumerate(STAFF[cid][: agree + disagree]):
                option = "agree" if i < agree else "disagree"
                button = next(b for b in options if f'"o":"{option}"' in b["value"])
                assert await app.click(user, cid, button) == 200
                clicks += 1
    await app.wait_for(lambda: len(double.ephemerals) == before + clicks)


async def test_clicks_to_a_posted_digest(app: Harness, double: SlackDouble, clock: SimClock) -> None:
    survey = await make_survey(
        app,
        bank_ids=["e2e-pulse"],
        audience=list(SCHOOLS),
        segment_labels={cid: name for cid, (name, _) in SCHOOLS.items()},
        items_per_round=2,
        round_hours=72,
        digest_schedule="0 8 * * 5",
    )
    await _round(app, double, survey.id, 1)
    clock.now = START + dt.timedelta(weeks=1)
    await _round(app, double, survey.id, 2)
    clock.now = START + dt.timedelta(weeks=1, days=4)  # Friday 09:00 in London: both rounds have closed

    digest = await operations.post_digest(
        app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=clock.now, scheduled=True
    )
    again = await operations.post_digest(
        app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=clock.now, scheduled=True
    )
    assert digest is not None and again is None  # a double fire posts once

    by_item = {i.item_id: i for i in digest.items}
    for item_id in ("e2e-honesty", "e2e-backing"):
        now = PLAN[(2, item_id)]
        before = PLAN[(1, item_id)]
        n, fav = sum(a + d for a, d in now.values()), sum(a for a, _ in now.values())
        n0, fav0 = sum(a + d for a, d in before.values()), sum(a for a, _ in before.values())
        stat = by_item[item_id]
        assert (stat.n, stat.favourable_pct, stat.round_seq) == (n, round(100 * fav / n, 1), 2)
        assert stat.previous is not None and (stat.previous.n, stat.previous.favourable_pct) == (
            n0,
            round(100 * fav0 / n0, 1),
        )
        # Copse has 3 answers (under k), so Beeches, the next smallest, is hidden with it.
        cells = {c.segment: c for c in stat.segments}
        assert cells["C0COP"].suppressed and cells["C0BEE"].suppressed and not cells["C0ASH"].suppressed
        agree, disagree = now["C0ASH"]
        assert cells["C0ASH"].favourable_pct == round(100 * agree / (agree + disagree), 1)
    assert by_item["e2e-honesty"].trend == "up"  # 17% -> 87% on 23 answers each: z = 4.7
    assert by_item["e2e-backing"].trend is None  # no change, no mark

    messages = double.messages_in(LEADERS)
    assert [m["blocks"] for m in messages] == digest_messages(digest)
    for m in messages:
        assert validate_blocks(m["blocks"]) == []
    text = json.dumps([m["blocks"] for m in messages], ensure_ascii=False)
    assert "*Honesty* — *87%* · ▲ +70 pts · 23 people" in text  # 4/23 -> 20/23
    assert "*Backing* — *55%* · ±0 pts · 22 people" in text  # 12/22 both times: 54.5%, shown half up
    assert "Ashfield *" in text and "Copse *hidden*" in text and "Beeches *hidden*" in text

    [chart] = [f for f in double.files if f["channel_id"] == LEADERS]
    assert chart["content"].startswith(b"\x89PNG\r\n\x1a\n") and chart["length"] > 10_000
    assert chart["filename"].endswith(".png") and "Trends" in chart["title"]
    assert "trust index by cycle" in (chart["alt_txt"] or "")
