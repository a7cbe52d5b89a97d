"""Adaptive Card builders as data: every card the product makes passes the official 1.5 schema."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from PIL import Image

from bot.teams import cards
from bot.teams.ids import conversation_key, is_conversation_key
from bot.teams.images import fit_png
from bot.teams.replies import confirm_delete_card, note_card, teams_markdown
from surveys.answers import AnswerResult, Outcome
from surveys.banks import BankRegistry
from surveys.config import SurveyConfig
from surveys.platform import Prompt, Reminder, RoundMessage
from tests.teams_double import validate_card

CLOSES = dt.datetime(2026, 9, 10, 8, 0, tzinfo=dt.UTC)


def message_for(bank_id: str, banks: BankRegistry, n: int = 2, round_id: int = 7) -> RoundMessage:
    bank = banks[bank_id]
    prompts = [Prompt(bank, item) for item in bank.items[:n]]
    return RoundMessage(1, "Trust pulse", round_id, CLOSES, "Europe/London", prompts, 5)


def buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            if element.get("type") == "ActionSet":
                out.extend(element["actions"])
            walk(element.get("items") or [])

    walk(card["body"])
    return out


def test_the_schema_check_can_fail() -> None:
    good = cards.card([cards.text("hello")])
    assert validate_card(good) == []
    assert validate_card({**good, "msteams": {"width": "Full"}})
    assert validate_card(cards.card([{"type": "TextBlok", "text": "typo"}]))
    assert validate_card(cards.card([cards.text("x", color="Purple")]))
    assert validate_card({**good, "version": "1.6"})


@pytest.mark.parametrize("bank_id", sorted(b.id for b in BankRegistry.load(None)))
def test_every_builtin_item_makes_a_valid_round_card(bank_id: str, banks: BankRegistry) -> None:
    bank = banks[bank_id]
    for start in range(0, len(bank.items), 3):
        message = RoundMessage(
            1, "Trust pulse", 3, CLOSES, "Europe/London", [Prompt(bank, i) for i in bank.items[start : start + 3]], 5
        )
        card = cards.round_card(message)
        assert validate_card(card) == [], bank_id
        assert cards.message_bytes(card) < cards.MAX_MESSAGE_BYTES


def test_one_button_per_option_and_facet_carrying_round_bank_item_option_only(banks: BankRegistry) -> None:
    # The picks exercise has a form instead (test_picks_cards.py).
    for bank_id in ("staff-trust-in-leadership", "maturity-strands"):
        message = message_for(bank_id, banks)
        bank = banks[bank_id]
        found = buttons(cards.round_card(message))
        expected = sum(len(bank.scale_of(p.item).options) * len(cards.facets_of(bank)) for p in message.prompts)
        assert len(found) == expected
        for action in found:
            assert action["type"] == "Action.Execute" and action["verb"] == cards.ANSWER_VERB
            assert set(action["data"]) <= {"r", "b", "i", "o", "f"} and action["data"]["r"] == 7
            assert action["data"]["b"] == bank_id
            option = bank.scale_of(bank.item(action["data"]["i"])).option(action["data"]["o"])  # type: ignore[arg-type]
            assert option is not None and action["title"] == option.label
        assert {a["data"].get("f", "") for a in found} == set(cards.facets_of(bank))


def test_no_row_of_buttons_is_longer_than_teams_shows(banks: BankRegistry) -> None:
    for bank_id in (b.id for b in banks):
        card = cards.round_card(message_for(bank_id, banks, n=3))

        def rows(elements: list[dict[str, Any]]) -> list[int]:
            out = []
            for e in elements:
                if e.get("type") == "ActionSet":
                    out.append(len(e["actions"]))
                out += rows(e.get("items") or [])
            return out

        assert max(rows(card["body"])) <= cards.MAX_ACTIONS


@pytest.mark.parametrize("outcome", list(Outcome))
def test_the_clickers_own_copy_is_valid_and_shows_their_choice(outcome: Outcome, banks: BankRegistry) -> None:
    message = message_for("staff-trust-in-leadership", banks)
    first = message.prompts[0].item.id
    result = AnswerResult(outcome, "item", "Agree", "Disagree", CLOSES, "Europe/London")
    card = cards.answered_card(message, result, {(first, ""): "agree"})
    assert validate_card(card) == []
    dumped = json.dumps(card)
    assert "Your answer: **Agree**" in dumped
    chosen = [a for a in buttons(card) if a.get("style") == "positive"]
    if outcome is Outcome.CLOSED:
        assert buttons(card) == [] and "closed" in card["body"][0]["text"]
    else:
        assert [(a["data"]["i"], a["data"]["o"]) for a in chosen] == [(first, "agree")]
    assert card["body"][0]["text"] == cards.status_line(result)


def test_status_lines_say_what_happened() -> None:
    changed = AnswerResult(Outcome.CHANGED, "x", "Agree", "Disagree", CLOSES, "Europe/London")
    assert "Changed from Disagree to Agree" in cards.status_line(changed)
    assert "counted once" in cards.status_line(changed)
    assert "recorded anonymously" in cards.status_line(AnswerResult(Outcome.RECORDED, "x", "Agree"))
    assert "could not be recorded" in cards.status_line(AnswerResult(Outcome.INVALID))


def test_reminder_notice_and_command_cards_are_valid(banks: BankRegistry) -> None:
    reminder = Reminder(message_for("staff-trust-in-leadership", banks), 1)
    card = cards.reminder_card(reminder, where="Oakfield Primary")
    assert validate_card(card) == [] and buttons(card) == []
    assert "Oakfield Primary" in json.dumps(card) and "1 of 2 items" in cards.reminder_summary(reminder)
    assert validate_card(cards.notice_card("out of date")) == []
    confirm = confirm_delete_card(4, "Trust pulse")
    assert validate_card(confirm) == []
    assert [a["data"] for a in confirm["actions"]] == [{"s": 4}, {"s": 4}]
    assert validate_card(note_card("*Surveys*\n`1` *Trust* — active")) == []


def test_slack_markdown_becomes_teams_markdown() -> None:
    assert teams_markdown("*Surveys*\n`1` *Trust pulse* — active") == "**Surveys**\n\n`1` **Trust pulse** — active"
    assert teams_markdown(":warning: 2 failed") == "⚠️ 2 failed"
    assert teams_markdown("a * b * c") == "a * b * c"


def test_conversation_keys_are_short_stable_and_valid_survey_channels() -> None:
    channel = "19:8c7b0a9e0f5d4c1ba7c3d1e2f3a4b5c6@thread.tacv2"
    key = conversation_key(channel)
    assert key == conversation_key(channel + ";messageid=1741000000001")
    assert key != conversation_key("19:another@thread.tacv2")
    assert is_conversation_key(key) and not is_conversation_key("C0SCHOOLA")
    personal = "a:1N4bZxJq3yKXgT0Z5mD5fJ8p3w9vF4d6rYk2XoQbTq1sPz7uH0eL" * 3
    config = SurveyConfig(
        platform="teams",
        bank_ids=["staff-trust-in-leadership"],
        audience=[key, conversation_key(personal)],
        digest_channel=key,
    )
    assert config.audience[0] == key


def _png(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height))
    pixels = image.load()
    for x in range(width):
        for y in range(height):
            pixels[x, y] = ((x * 7) % 256, (y * 13) % 256, ((x * y) * 3) % 256)  # type: ignore[index]
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_chart_is_shrunk_to_fit_or_left_out() -> None:
    big = _png(900, 450)
    assert len(big) > 20_000
    fitted = fit_png(big, 20_000)
    assert fitted is not None and len(fitted) <= 20_000
    with Image.open(io.BytesIO(fitted)) as image:
        assert image.format == "PNG" and image.width >= 240
    assert fit_png(big, 50) is None
    small = _png(40, 20)
    assert fit_png(small, 20_000) == small
