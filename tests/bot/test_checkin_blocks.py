"""Round messages of every kind, the level and picks modals, and the confirmations: pure data."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from bot.slack.blocks import COMMENT_ACTION, confirmation_text, round_blocks, round_fallback_text
from bot.slack.checkin_blocks import (
    levels_view,
    picks_blocks,
    picks_confirmation_text,
    picks_view,
    strand_blocks,
    strand_confirmation_text,
)
from bot.slack.listeners.checkins import form_errors, form_picks
from surveys.answers import AnswerResult, Outcome
from surveys.banks import BankRegistry
from surveys.picks import PickSet, PicksResult
from surveys.platform import Prompt, RoundMessage
from tests.slack_double import validate_blocks, validate_view

CLOSES = dt.datetime(2026, 9, 10, 8, 0, tzinfo=dt.UTC)


def message(banks: BankRegistry, refs: list[tuple[str, str]]) -> RoundMessage:
    prompts = []
    for bank_id, item_id in refs:
        bank = banks[bank_id]
        item = bank.round_item(item_id)
        assert item is not None
        prompts.append(Prompt(bank, item))
    return RoundMessage(1, "Trust pulse", 42, CLOSES, "Europe/London", prompts, 5)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The answer buttons: the round's "Add a comment" button is not one of them.
    answers = [el for b in blocks if b["type"] == "actions" for el in b["elements"]]
    return [el for el in answers if el["action_id"] != COMMENT_ACTION] + [
        b["accessory"] for b in blocks if "accessory" in b
    ]


def test_strand_check_in_is_short_with_two_rows_of_levels_and_a_levels_button(banks: BankRegistry) -> None:
    bank = banks["maturity-strands"]
    item = bank.items[0]
    blocks = strand_blocks(42, bank, item)
    assert validate_blocks(blocks) == []
    assert len(blocks) == 4
    rows = [b for b in blocks if b["type"] == "actions"]
    values = [[json.loads(el["value"]) for el in row["elements"]] for row in rows]
    assert [[v["f"] for v in row] for row in values] == [["now"] * 4, ["future"] * 4]
    assert [v["o"] for v in values[0]] == ["beginning", "developing", "embedding", "leading"]
    assert all(v["r"] == 42 and v["i"] == item.id for row in values for v in row)
    # the descriptors are not in the channel message, only behind the button
    rendered = json.dumps(blocks)
    assert item.levels is not None and item.levels.beginning not in rendered
    [levels] = [el for el in buttons(blocks) if el["action_id"].startswith("levels:")]
    assert json.loads(levels["value"]) == {"b": bank.id, "i": item.id}
    # action ids unique across the message
    ids = [el["action_id"] for el in buttons(blocks)]
    assert len(ids) == len(set(ids))


def test_levels_modal_lists_the_four_descriptors(banks: BankRegistry) -> None:
    bank = banks["maturity-strands"]
    for item in bank.items:
        view = levels_view(bank, item)
        assert validate_view(view, surface="modal") == []
        text = json.dumps(view)
        assert item.levels is not None
        for _, descriptor in item.levels.as_list():
            assert json.dumps(descriptor)[1:-1] in text
        assert "submit" not in view


def test_picks_round_part_has_explanation_and_one_button(banks: BankRegistry) -> None:
    bank = banks["leadership-trust-behaviours"]
    blocks = picks_blocks(42, bank)
    assert validate_blocks(blocks) == []
    [button] = buttons(blocks)
    assert json.loads(button["value"]) == {"r": 42, "b": bank.id}
    assert "up to 5 strongest and 3 weakest" in json.dumps(blocks)


def test_picks_form_has_four_limited_multi_selects_and_no_user(banks: BankRegistry) -> None:
    bank = banks["leadership-trust-behaviours"]
    current = {"self": PickSet(strong=("behaviour-talk-straight",), weak=("behaviour-get-better",))}
    view = picks_view(42, bank, "C0LEADERS", current)
    assert validate_view(view, surface="modal") == []
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["block_id"] for b in inputs] == ["self:strong", "self:weak", "team:strong", "team:weak"]
    assert [b["element"]["max_selected_items"] for b in inputs] == [5, 3, 5, 3]
    assert all(b["element"]["type"] == "multi_static_select" and len(b["element"]["options"]) == 13 for b in inputs)
    assert all(b.get("optional") for b in inputs)
    assert [o["value"] for o in inputs[0]["element"]["initial_options"]] == ["behaviour-talk-straight"]
    assert [o["value"] for o in inputs[1]["element"]["initial_options"]] == ["behaviour-get-better"]
    assert "initial_options" not in inputs[2]["element"]
    assert json.loads(view["private_metadata"]) == {"r": 42, "b": bank.id, "c": "C0LEADERS"}
    # every behaviour's full wording is in the form, not only its short name
    assert all(json.dumps(i.text)[1:-1] in json.dumps(view) for i in bank.items)


def _state(picks: dict[str, list[str]]) -> dict[str, Any]:
    return {
        block: {"behaviours": {"type": "multi_static_select", "selected_options": [{"value": v} for v in values]}}
        for block, values in picks.items()
    }


def test_form_state_reads_back_and_errors_land_on_the_right_block(banks: BankRegistry) -> None:
    bank = banks["leadership-trust-behaviours"]
    ids = [i.id for i in bank.items]
    picks = form_picks(bank, _state({"self:strong": ids[:5], "self:weak": [ids[0]], "team:strong": ids[:6]}))
    assert picks["self"] == PickSet(strong=tuple(ids[:5]), weak=(ids[0],))
    assert picks["team"] == PickSet(strong=tuple(ids[:6]), weak=())
    errors = form_errors(bank, picks)
    assert set(errors) == {"self:weak", "team:strong"}
    assert "already among the strongest" in errors["self:weak"] and "Talk straight" in errors["self:weak"]
    assert "at most 5" in errors["team:strong"]
    assert form_errors(bank, form_picks(bank, {})) == {"self:strong": "pick at least one behaviour"}
    assert form_errors(bank, form_picks(bank, _state({"team:weak": ids[:3]}))) == {}


@pytest.mark.parametrize(
    "refs",
    [
        [("staff-trust-in-leadership", "lead-honesty"), ("staff-trust-in-leadership", "lead-respect")],
        [("student-trust-in-staff", "pupil-support")],
        [("maturity-strands", "strand-jpd")],
        [("leadership-trust-behaviours", "leadership-trust-behaviours")],
        [("leadership-trust-behaviours", "leadership-trust-behaviours"), ("maturity-strands", "strand-fit-governance")],
    ],
    ids=["statements", "yes-no-not-sure", "strand", "picks", "mixed"],
)
def test_every_kind_of_round_message_is_valid(banks: BankRegistry, refs: list[tuple[str, str]]) -> None:
    msg = message(banks, refs)
    blocks = round_blocks(msg)
    assert validate_blocks(blocks) == []
    assert round_fallback_text(msg)
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))


def test_yes_no_not_sure_has_three_buttons_and_intro_once_per_bank(banks: BankRegistry) -> None:
    msg = message(banks, [("student-trust-in-staff", "pupil-support"), ("student-trust-in-staff", "pupil-honesty")])
    blocks = round_blocks(msg)
    labels = [el["text"]["text"] for el in buttons(blocks)]
    assert labels == ["Yes", "Not sure", "No"] * 2
    assert json.dumps(blocks).count(banks["student-trust-in-staff"].intro) == 1


def test_ten_strands_still_fit_one_message(banks: BankRegistry) -> None:
    bank = banks["maturity-strands"]
    msg = message(banks, [(bank.id, i.id) for i in bank.items[:10]])
    assert validate_blocks(round_blocks(msg)) == []


def test_strand_confirmation_says_what_was_picked_and_what_is_open() -> None:
    base = AnswerResult(
        Outcome.RECORDED,
        "x",
        "Developing",
        closes_at=CLOSES,
        timezone="Europe/London",
        facet="now",
        open_facets=("future",),
        item_name="Fit governance",
    )
    text = strand_confirmation_text(base)
    assert "*Fit governance*, now: *Developing*" in text and "Still open: *in a year*" in text
    done = strand_confirmation_text(AnswerResult(Outcome.CHANGED, "x", "Leading", "Embedding", facet="future"))
    assert "from *Embedding* to *Leading*" in done and "Both halves answered" in done
    closed = AnswerResult(Outcome.CLOSED, facet="now")
    assert strand_confirmation_text(closed) == confirmation_text(closed)


def test_picks_confirmation_counts_per_perspective() -> None:
    text = picks_confirmation_text(PicksResult(Outcome.RECORDED, {"self": (5, 3), "team": (2, 0)}, CLOSES, "UTC"))
    assert "for yourself: 5 strongest, 3 weakest; for the team: 2 strongest, 0 weakest" in text
    assert "closed" in picks_confirmation_text(PicksResult(Outcome.CLOSED))
