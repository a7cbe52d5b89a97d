"""The JPD exchange's Adaptive Cards, built by pure functions and checked against the card schema."""

from __future__ import annotations

import datetime as dt
import json

from bot.jpd_text import NOT_ANONYMOUS, NOT_ANONYMOUS_SCHOOLS
from bot.teams import jpd_cards as jc
from bot.teams.cards import MAX_MESSAGE_BYTES, message_bytes
from surveys.jpd.notices import Introduction, Invitation, LeftOut, Offer, Partnership
from surveys.jpd.summary import Summary
from surveys.jpd.topics import MAX_LABEL, MAX_TOPICS, STARTERS, Topic
from tests.teams_double import validate_card
from tests.teams_double.harness import texts_of

DEADLINE = dt.datetime(2026, 9, 11, 14, 0, tzinfo=dt.UTC)
TOPICS = tuple(Topic(slug, label) for slug, label in STARTERS)


def invitation(kind: str = "staff", closed: bool = False, topics: tuple[Topic, ...] = TOPICS) -> Invitation:
    return Invitation(4, kind, DEADLINE, "Europe/London", topics, closed=closed)


def test_the_invitation_card_says_it_is_not_anonymous_and_has_two_buttons() -> None:
    card = jc.invitation_card(invitation())
    assert validate_card(card) == []
    assert NOT_ANONYMOUS in json.dumps(card) and "Fri 11 Sep 2026, 15:00" in json.dumps(card)
    assert [(a["verb"], a["data"]) for a in card["actions"]] == [(jc.OPEN_VERB, {"x": 4}), (jc.WITHDRAW_VERB, {"x": 4})]
    assert NOT_ANONYMOUS_SCHOOLS in json.dumps(jc.invitation_card(invitation("schools")))
    closed = jc.invitation_card(invitation(closed=True))
    assert validate_card(closed) == [] and "actions" not in closed


def test_the_form_card_holds_the_current_answer_and_reads_back_what_teams_sends() -> None:
    many = tuple(Topic(f"t{i}", f"{i:02d}" + "x" * (MAX_LABEL - 2)) for i in range(MAX_TOPICS))
    card = jc.form_card(invitation(topics=many), offers=["t1", "t2"], wants=["t3"], unit="Maths", note="Hi")
    assert validate_card(card) == [] and message_bytes(card) < MAX_MESSAGE_BYTES
    by_id = {e.get("id"): e for e in card["body"]}
    assert by_id[jc.OFFERS]["value"] == "t1,t2" and by_id[jc.WANTS]["value"] == "t3"
    assert by_id[jc.UNIT]["isRequired"] is False
    assert jc.form_card(invitation("schools"))["body"][4]["isRequired"] is True
    with_problem = jc.form_card(invitation(), problem="There is no topic 'knitting' in this exchange.")
    assert "There is no topic 'knitting'" in texts_of(with_problem)[2]
    sent = {"x": 4, jc.OFFERS: "feedback,oracy", jc.WANTS: "", jc.NOTE: "Mornings"}
    assert jc.form_values(sent) == {"offers": ("feedback", "oracy"), "wants": (), "unit": "", "note": "Mornings"}


def test_what_is_sent_at_the_deadline_names_people_and_fits() -> None:
    intro = Introduction(
        4,
        "staff",
        ("a", "b"),
        (Offer("a", "b", ("Feedback",)), Offer("b", "a", ("Reading",))),
        {"a": "Mornings suit me"},
        {"b": "Science"},
        {"a": "Ana Smith", "b": "Ben Jones"},
    )
    card = jc.introduction_card(intro)
    assert validate_card(card) == []
    assert "• **Ana Smith** could offer **Ben Jones (Science)**: Feedback" in texts_of(card)
    assert validate_card(jc.left_out_card(LeftOut(4, "staff", "nobody wanted what they offer", ("Oracy",)))) == []
    partnership = jc.partnership_card(Partnership(4, (intro,), {"c": "nobody offered what they want"}, {"c": "Hill"}))
    assert validate_card(partnership) == [] and "• a colleague (Hill): nobody offered what they want" in texts_of(
        partnership
    )
    summary = Summary(4, "staff", DEADLINE, "Europe/London", True, 3, 2, 1, 0, (("Feedback", 2),), (), (), (), ())
    shown = texts_of(jc.summary_card(summary))
    assert "**JPD exchange 4** (closed)" in shown and "Took part: 3 people" in shown
