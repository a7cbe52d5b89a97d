"""The picks exercise as Adaptive Cards: the round card's button, the form, reading the form back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.teams import cards, picks_cards
from bot.teams.picks_cards import PicksForm
from surveys.answers import Outcome
from surveys.banks import Bank, BankRegistry
from surveys.picks import TOOK_PART, PickSet, PicksResult, check_picks
from surveys.platform import Prompt, RoundMessage
from tests.teams_double import validate_card

BEHAVIOURS = "leadership-trust-behaviours"
CLOSES = dt.datetime(2026, 9, 10, 8, 0, tzinfo=dt.UTC)


def round_of(*prompts: Prompt) -> RoundMessage:
    return RoundMessage(1, "Leadership pulse", 7, CLOSES, "Europe/London", list(prompts), 5)


def exercise(bank: Bank) -> Prompt:
    return Prompt(bank, bank.exercise())


def walk(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for element in elements:
        out.append(element)
        out += walk(element.get("items") or [])
        out += walk(element.get("actions") or [])
    return out


def of_type(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in walk(card["body"]) if e.get("type") == kind]


def test_the_round_card_has_one_button_to_the_form_and_no_strong_weak_buttons(banks: BankRegistry) -> None:
    bank = banks[BEHAVIOURS]
    card = cards.round_card(round_of(exercise(bank)))
    assert validate_card(card) == []
    [action] = of_type(card, "Action.Execute")
    assert (action["verb"], action["data"], action["title"]) == (
        picks_cards.OPEN_VERB,
        {"r": 7, "b": BEHAVIOURS},
        "Choose behaviours",
    )
    assert of_type(card, "Input.ChoiceSet") == []
    assert "up to 5 strongest and 3 weakest, for yourself and for the team" in json.dumps(card)


def test_someone_who_took_part_is_told_so_and_can_change_their_picks(banks: BankRegistry) -> None:
    bank = banks[BEHAVIOURS]
    chosen = {(bank.exercise_id, "team"): TOOK_PART}
    card = cards.round_card(round_of(exercise(bank)), chosen)
    assert validate_card(card) == []
    assert [a["title"] for a in of_type(card, "Action.Execute")] == ["Change my picks"]
    assert "Your picks are saved (for the team)." in json.dumps(card)
    closed = cards.round_card(round_of(exercise(bank)), chosen, open_=False)
    assert of_type(closed, "Action.Execute") == []


def test_the_form_has_four_multi_selects_filled_in_and_a_save_button(banks: BankRegistry) -> None:
    bank = banks[BEHAVIOURS]
    ids = [i.id for i in bank.items]
    mine = {"self": PickSet(strong=tuple(ids[:2]), weak=(ids[5],)), "team": PickSet(weak=tuple(ids[8:11]))}
    card = cards.round_card(round_of(exercise(bank)), forms={BEHAVIOURS: PicksForm(mine)})
    assert validate_card(card) == []
    assert cards.message_bytes(card) < cards.MAX_MESSAGE_BYTES
    inputs = of_type(card, "Input.ChoiceSet")
    assert [(i["id"], i["label"]) for i in inputs] == [
        (f"p:{BEHAVIOURS}:self:strong", "Strongest (up to 5)"),
        (f"p:{BEHAVIOURS}:self:weak", "Weakest (up to 3)"),
        (f"p:{BEHAVIOURS}:team:strong", "Strongest (up to 5)"),
        (f"p:{BEHAVIOURS}:team:weak", "Weakest (up to 3)"),
    ]
    assert all(i["isMultiSelect"] and [c["value"] for c in i["choices"]] == ids for i in inputs)
    assert [i.get("value") for i in inputs] == [f"{ids[0]},{ids[1]}", ids[5], None, ",".join(ids[8:11])]
    [save] = [a for a in of_type(card, "Action.Execute")]
    assert (save["verb"], save["data"]) == (picks_cards.SAVE_VERB, {"r": 7, "b": BEHAVIOURS})
    # The wording of every behaviour is one click away, hidden until asked for.
    [about] = [c for c in of_type(card, "Container") if c.get("id")]
    assert about["isVisible"] is False and len(about["items"]) == len(ids)
    [toggle] = of_type(card, "Action.ToggleVisibility")
    assert toggle["targetElements"] == [about["id"]]


def test_each_problem_is_drawn_under_its_own_input(banks: BankRegistry) -> None:
    bank = banks[BEHAVIOURS]
    ids = [i.id for i in bank.items]
    sent = {"self": PickSet(strong=tuple(ids[:2]), weak=(ids[0],)), "team": PickSet(strong=tuple(ids[:6]))}
    problems = picks_cards.placed_problems(bank, check_picks(bank, sent))
    assert set(problems) == {("self", "weak"), ("team", "strong")}
    card = cards.round_card(
        round_of(exercise(bank)), status=picks_cards.FIX_THEM, forms={BEHAVIOURS: PicksForm(sent, problems)}
    )
    assert validate_card(card) == []
    assert card["body"][0]["color"] == "Attention"
    [form] = [c for c in card["body"] if c.get("type") == "Container"][:1]
    items = form["items"]
    for (perspective, side), problem in problems.items():
        at = next(n for n, e in enumerate(items) if e.get("id") == f"p:{BEHAVIOURS}:{perspective}:{side}")
        assert items[at + 1]["color"] == "Attention" and problem in items[at + 1]["text"]
    warnings = [e for e in items if e.get("color") == "Attention"]
    assert len(warnings) == 2


def test_a_mixed_round_keeps_its_other_items_answerable_next_to_the_form(banks: BankRegistry) -> None:
    bank, other = banks[BEHAVIOURS], banks["staff-trust-in-leadership"]
    message = round_of(Prompt(other, other.items[0]), exercise(bank))
    card = cards.round_card(message, {(other.items[0].id, ""): "agree"}, forms={BEHAVIOURS: PicksForm()})
    assert validate_card(card) == []
    verbs = [a["verb"] for a in of_type(card, "Action.Execute")]
    assert verbs.count(cards.ANSWER_VERB) == 4 and verbs.count(picks_cards.SAVE_VERB) == 1
    assert len(of_type(card, "Input.ChoiceSet")) == 4


def test_the_form_reads_back_as_teams_sends_it(banks: BankRegistry) -> None:
    bank = banks[BEHAVIOURS]
    ids = [i.id for i in bank.items]
    data = {
        "r": 7,
        "b": BEHAVIOURS,
        f"p:{BEHAVIOURS}:self:strong": f"{ids[0]},{ids[3]}",
        f"p:{BEHAVIOURS}:self:weak": "",
        f"p:{BEHAVIOURS}:team:weak": [ids[4]],
        # Another bank's inputs on the same card are not this form's.
        "p:other-bank:self:strong": ids[5],
    }
    assert picks_cards.picks_from_data(bank, data) == {
        "self": PickSet(strong=(ids[0], ids[3])),
        "team": PickSet(weak=(ids[4],)),
    }
    assert picks_cards.picks_from_data(bank, {"r": 7}) == {"self": PickSet(), "team": PickSet()}
    # Nothing picked at all is a problem, placed on the first input.
    problems = picks_cards.placed_problems(bank, check_picks(bank, picks_cards.picks_from_data(bank, {})))
    assert list(problems) == [("self", "strong")]


def test_status_lines_say_what_happened() -> None:
    recorded = PicksResult(Outcome.RECORDED, {"self": (5, 3), "team": (2, 1)})
    line = picks_cards.status_line(recorded, "Thu 10 Sep, 09:00")
    assert "recorded anonymously (for yourself: 5 strongest, 3 weakest; for the team: 2 strongest, 1 weakest)" in line
    assert line.endswith("You can change them until Thu 10 Sep, 09:00.")
    assert "updated" in picks_cards.status_line(PicksResult(Outcome.CHANGED, {"self": (1, 0)}))
    assert "closed" in picks_cards.status_line(PicksResult(Outcome.CLOSED))
    assert "could not be recorded" in picks_cards.status_line(PicksResult(Outcome.INVALID))
