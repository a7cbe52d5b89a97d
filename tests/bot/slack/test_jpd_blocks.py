"""The JPD exchange's Block Kit, built by pure functions and checked against Slack's limits."""

from __future__ import annotations

import datetime as dt
import json

from bot.jpd_text import NOT_ANONYMOUS, NOT_ANONYMOUS_SCHOOLS, summary_text
from bot.slack import jpd_blocks as jb
from surveys.jpd.notices import Introduction, Invitation, LeftOut, Offer, Partnership
from surveys.jpd.summary import Past, Summary
from surveys.jpd.topics import MAX_LABEL, MAX_TOPICS, STARTERS, Topic
from tests.slack_double import validate_blocks, validate_view

DEADLINE = dt.datetime(2026, 9, 11, 14, 0, tzinfo=dt.UTC)
TOPICS = tuple(Topic(slug, label) for slug, label in STARTERS)


def invitation(kind: str = "staff", closed: bool = False, topics: tuple[Topic, ...] = TOPICS) -> Invitation:
    return Invitation(7, kind, DEADLINE, "Europe/London", topics, closed=closed)


def test_the_invitation_asks_both_questions_says_it_is_not_anonymous_and_has_two_buttons() -> None:
    blocks = jb.invitation_blocks(invitation())
    assert validate_blocks(blocks) == []
    text = json.dumps(blocks)
    assert NOT_ANONYMOUS in text and "Fri 11 Sep 2026, 15:00" in text and "Feedback pupils act on" in text
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [(jb.TAKE_PART, "7"), (jb.WITHDRAW, "7")]
    schools = json.dumps(jb.invitation_blocks(invitation("schools")))
    assert NOT_ANONYMOUS_SCHOOLS in schools and "your school" in schools


def test_a_closed_invitation_has_no_buttons() -> None:
    blocks = jb.invitation_blocks(invitation(closed=True))
    assert validate_blocks(blocks) == [] and all(b["type"] != "actions" for b in blocks)
    assert "closed" in json.dumps(blocks)


def test_the_most_and_longest_topics_fit_the_invitation_and_the_form() -> None:
    many = tuple(Topic(f"t{i}", f"{i:02d}" + "x" * (MAX_LABEL - 2)) for i in range(MAX_TOPICS))
    assert validate_blocks(jb.invitation_blocks(invitation(topics=many))) == []
    assert validate_view(jb.form_modal(invitation(topics=many)), surface="modal") == []


def test_the_form_shows_the_current_answer_and_reads_back_what_was_sent() -> None:
    view = jb.form_modal(invitation(), offers=["feedback"], wants=["reading", "oracy"], unit="Maths", note="Mornings")
    assert validate_view(view, surface="modal") == []
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert [o["value"] for o in by_id[jb.OFFERS]["element"]["initial_options"]] == ["feedback"]
    assert [o["value"] for o in by_id[jb.WANTS]["element"]["initial_options"]] == ["reading", "oracy"]
    assert by_id[jb.UNIT]["optional"] is True and by_id[jb.UNIT]["element"]["initial_value"] == "Maths"
    assert NOT_ANONYMOUS in json.dumps(view["blocks"][0])
    assert jb.form_modal(invitation("schools"))["blocks"][3]["optional"] is False  # the school is required
    state = {
        jb.OFFERS: {"value": {"selected_options": [{"value": "feedback"}, {"value": "oracy"}]}},
        jb.WANTS: {"value": {"selected_options": []}},
        jb.NOTE: {"value": {"value": None}},
    }
    assert jb.form_values(state) == {"offers": ("feedback", "oracy"), "wants": (), "unit": "", "note": ""}


def test_an_introduction_names_who_offers_what_and_escapes_what_people_typed() -> None:
    intro = Introduction(
        7,
        "staff",
        ("UA", "UB", "UC"),
        (Offer("UA", "UB", ("Feedback",)), Offer("UB", "UC", ("Reading",)), Offer("UC", "UA", ("Oracy",))),
        {"UA": "Ask me <!channel> & co"},
        {"UB": "Science"},
    )
    blocks = jb.introduction_blocks(intro)
    assert validate_blocks(blocks) == []
    text = json.dumps(blocks)
    assert "group of three" in text and "<@UA> could offer <@UB> (Science): *Feedback*" in text
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; co" in text


def test_a_person_left_out_is_told_why_and_what_they_wanted() -> None:
    text = jb.left_out_text(LeftOut(7, "staff", "nobody offered what they want", ("Oracy <b>",)))
    assert "nobody offered what they want" in text and "Oracy &lt;b&gt;" in text and "next exchange" in text


def summary(**changes: object) -> Summary:
    values: dict[str, object] = {
        "exchange_id": 7,
        "kind": "staff",
        "deadline": DEADLINE,
        "timezone": "Europe/London",
        "closed": True,
        "took_part": 9,
        "grouped": 7,
        "pairs": 2,
        "threes": 1,
        "most_offered": (("Feedback", 4), ("Reading", 3)),
        "most_wanted": (("Oracy", 5),),
        "gaps": (("Oracy", 2),),
        "offered_by_nobody": ("Oracy",),
        "earlier": (Past(3, dt.date(2026, 6, 1), 6, 4),),
    }
    values.update(changes)
    return Summary(**values)  # type: ignore[arg-type]


def test_the_summary_says_who_took_part_what_formed_and_the_gaps() -> None:
    text = summary_text(summary())
    assert "Took part: 9 people" in text and "Groups formed: 3 (2 of two, 1 of three), holding 7 of 9" in text
    assert "Most wanted: Oracy (5)" in text and "without a group (the gaps): Oracy (2)" in text
    assert "Earlier exchanges: 3 (01 Jun 2026): 4 of 6 grouped" in text
    assert validate_blocks(jb.summary_blocks(summary())) == []
    empty = summary_text(summary(closed=False, took_part=0, grouped=0, pairs=0, threes=0, most_offered=(), gaps=()))
    assert "open until Fri 11 Sep 2026, 15:00" in empty and "Most offered: none" in empty and "Groups" not in empty


def test_the_partnership_post_names_schools() -> None:
    group = Introduction(7, "schools", ("UA", "UB"), (Offer("UA", "UB", ("Feedback",)),), {}, {"UA": "Oakfield"})
    post = jb.partnership_blocks(Partnership(7, (group,), {"UC": "nobody wanted what they offer"}, {"UC": "Hillside"}))
    assert validate_blocks(post) == []
    text = json.dumps(post)
    assert "<@UA> (Oakfield) could offer <@UB>" in text and "<@UC> (Hillside): nobody wanted" in text
