"""Comments as Block Kit and in every digest format: within Slack's limits, text only, escaped."""

from __future__ import annotations

import json

import pytest

from bot.cli.digest import render
from bot.digest_format import comments_note
from bot.slack.comment_blocks import CommentMeta, comment_modal
from bot.slack.digest_blocks import digest_messages
from bot.teams.cards import fitting_digest_card
from storage.db import Database
from surveys import operations
from surveys.banks import BankRegistry
from surveys.comments import MAX_LENGTH
from surveys.digest import Digest
from tests.slack_double import validate_blocks, validate_view
from tests.surveys.digest_seed import seed
from tests.teams_double import validate_card


@pytest.fixture
async def digest(db: Database, banks: BankRegistry) -> Digest:
    s = await seed(db, banks)
    return await operations.digest_for(db, banks, s.survey_id, now=s.now)


def test_the_modal_is_valid_and_carries_no_user() -> None:
    view = comment_modal(CommentMeta.model_validate({"r": 7, "c": "C0SCHOOLA"}), 10)
    assert validate_view(view, surface="modal") == []
    assert json.loads(view["private_metadata"]) == {"r": 7, "c": "C0SCHOOLA"}
    [field] = [b for b in view["blocks"] if b["type"] == "input"]
    assert field["element"]["max_length"] == MAX_LENGTH and field["element"]["multiline"] is True
    assert "at least 10" in json.dumps(view)


async def test_a_large_batch_of_long_comments_stays_within_limits(digest: Digest) -> None:
    # Worst case: every character of every comment grows fivefold when escaped for mrkdwn.
    long = [f"{i:02d}" + "&" * (MAX_LENGTH - 2) for i in range(60)]
    big = digest.model_copy(update={"comments": long, "comments_waiting": False, "comment_threshold": 10})
    messages = digest_messages(big)
    for blocks in messages:
        assert validate_blocks(blocks) == []
        assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    shown = "\n".join(b["text"]["text"] for m in messages for b in m if b["type"] == "section")
    assert all(f"• {i:02d}&amp;" in shown for i in range(60))
    assert validate_card(fitting_digest_card(big)) == []


async def test_held_comments_are_neither_counted_nor_shown(digest: Digest) -> None:
    held = digest.model_copy(update={"comments": [], "comments_waiting": True, "comment_threshold": 10})
    blocks = json.dumps(digest_messages(held))
    assert "comments are held until at least 10 people" in blocks and "What people said" not in blocks
    assert "comments are held" in str(render(held, "text"))
    note = comments_note(held)
    assert note is not None and not any(ch.isdigit() for ch in note.replace("10", ""))
    shown = digest.model_copy(update={"comments": ["Line one\nline two <@U123>"], "comment_threshold": 10})
    text = str(render(shown, "text"))
    assert "- Line one line two <@U123>" in text
    assert json.loads(str(render(shown, "json")))["comments"] == ["Line one\nline two <@U123>"]
    assert "Line one" not in str(render(shown, "csv"))
    assert "&lt;@U123&gt;" in json.dumps(digest_messages(shown)) and "<@U123>" not in json.dumps(digest_messages(shown))
