"""The digest cannot be misread (issue 27): one meaning of each count, the words explained where
they appear, "moved most" only for significant changes, and no mention of an open round that
is not there. Checked in all three renderers: text, Slack blocks and the Teams card."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot import digest_format as fmt
from bot.digest_text import digest_text
from bot.slack.digest_blocks import digest_blocks
from bot.teams.cards import digest_card
from storage.db import Database
from surveys import operations
from surveys.banks import BankRegistry
from surveys.digest import Digest
from surveys.digest.statements import favourable_means
from tests.surveys.digest_seed import seed


def slack(d: Digest) -> str:
    return json.dumps(digest_blocks(d), ensure_ascii=False)


def teams(d: Digest) -> str:
    return json.dumps(digest_card(d), ensure_ascii=False)


RENDERERS: list[Callable[[Digest], str]] = [digest_text, slack, teams]


@pytest.fixture
async def digest(db: Database, banks: BankRegistry) -> Digest:
    s = await seed(db, banks)
    return await operations.digest_for(db, banks, s.survey_id, now=s.now)


async def test_moved_most_lists_only_significant_changes(digest: Digest) -> None:
    significant = [i for i in digest.items if i.change_pts and i.trend]
    chance = [i for i in digest.items if i.change_pts and not i.trend]
    assert significant and chance  # the seed has both
    assert {m.item_id for m in digest.moved_most} <= {i.item_id for i in significant}
    line = fmt.moved_line(digest)
    assert line is not None and line.startswith("Moved most since the previous cycle: ")
    for render in RENDERERS:
        assert line in render(digest) or json.dumps(line, ensure_ascii=False)[1:-1] in render(digest)


async def test_when_no_change_is_significant_the_digest_says_so_plainly(digest: Digest) -> None:
    calm = digest.model_copy(
        update={"moved_most": [], "items": [i.model_copy(update={"trend": None}) for i in digest.items]}
    )
    for render in RENDERERS:
        out = render(calm)
        assert "No change since the previous cycle is significant: the differences shown may be chance." in out
        assert "Moved most" not in out
    # Nothing to compare yet (a first cycle): neither line.
    first = calm.model_copy(update={"items": [i.model_copy(update={"change_pts": None}) for i in calm.items]})
    for render in RENDERERS:
        assert "No change since" not in render(first) and "Moved most" not in render(first)


async def test_the_open_round_is_mentioned_only_when_there_is_one(digest: Digest) -> None:
    assert any(not r.closed for r in digest.participation.trend)
    for render in RENDERERS:
        assert "participation includes the round still open" in render(digest)
    p = digest.participation
    all_closed = [r.model_copy(update={"closed": True}) for r in p.trend]
    closed = digest.model_copy(update={"participation": p.model_copy(update={"trend": all_closed})})
    for render in RENDERERS:
        out = render(closed)
        assert "Figures come from closed rounds only." in out and "still open" not in out


async def test_counts_say_what_they_count(digest: Digest) -> None:
    text = digest_text(digest)
    assert "n=" not in text and "n=" not in slack(digest) and "n=" not in teams(digest)
    for audit in digest.audits:
        # The index pools several items: answers. One item in one round: people.
        assert f"{audit.index.n} answers to {len(audit.index.items)} of {audit.index.items_total} items" in text
    assert "favourable  " in text and "people  item" in text
    shown = next(i for i in digest.items if not i.suppressed)
    assert f"{shown.n} people" in slack(digest) and f"{shown.n} people" in teams(digest)


async def test_favourable_and_cycle_are_explained_where_they_appear(digest: Digest, banks: BankRegistry) -> None:
    assert favourable_means(banks["staff-trust-in-leadership"]) == "Strongly agree or Agree"
    assert favourable_means(banks["student-trust-in-staff"]) == "Yes"
    assert (
        favourable_means(banks["staff-trust-in-one-another"])
        == "Strongly agree or Agree (Disagree or Strongly disagree on the reverse-scored items)"
    )
    for render in RENDERERS:
        out = render(digest)
        assert fmt.CYCLE_MEANS in out
        for audit in digest.audits:
            assert f"favourable = answered {audit.favourable_means}" in out
            for point in audit.trend:
                assert point.first_day is not None and point.last_day is not None
                assert point.first_day <= point.last_day
                assert fmt.cycle_label(point) in out
    finished = next(p for a in digest.audits for p in a.trend if p.complete)
    going = next(p for a in digest.audits for p in a.trend if not p.complete)
    assert fmt.cycle_label(finished) == f"{finished.label} ({fmt.day(finished.first_day)}–{fmt.day(finished.last_day)})"
    assert fmt.cycle_label(going) == f"{going.label} so far (from {fmt.day(going.first_day)})"
