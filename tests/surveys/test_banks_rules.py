"""Bank rules beyond field types: picks banks, strand scales, short names, the built-in set."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveys.banks import BankError, BankRegistry, Item, parse_bank

PICKS = """\
id: team-habits
version: 1
title: Team habits
kind: picks
picks: {strongest: 2, weakest: 1, perspectives: [self, team]}
scales:
  pick:
    options:
      - {value: strong, label: Strong, score: 1, valence: favourable}
      - {value: weak, label: Weak, score: -1, valence: unfavourable}
items:
  - {id: listen, text: Listen first, aspect: care, scale: pick}
  - {id: deliver, text: Deliver results, aspect: skill, scale: pick}
  - {id: admit, text: Admit mistakes, aspect: care, scale: pick}
"""

STRANDS = """\
id: my-strands
version: 1
title: Strands
kind: strands
dimensions: [{id: d, title: D}]
scales:
  level:
    options:
      - {value: a, label: A, score: 1, valence: neutral}
      - {value: b, label: B, score: 2, valence: neutral}
      - {value: c, label: C, score: 3, valence: neutral}
      - {value: d, label: D, score: 4, valence: neutral}
items:
  - id: s1
    text: Strand one
    aspect: s1
    scale: level
    dimension: d
    levels: {beginning: x, developing: x, embedding: x, leading: x}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(BankError) as info:
        parse_bank(text, "b.yaml")
    return [str(p) for p in info.value.problems]


def test_builtin_banks_are_complete(banks: BankRegistry) -> None:
    sizes = {b.id: (b.kind, len(b.items)) for b in banks}
    assert sizes == {
        "staff-trust-in-leadership": ("statements", 10),
        "staff-trust-in-one-another": ("statements", 10),
        "student-trust-in-staff": ("statements", 10),
        "leadership-trust-behaviours": ("picks", 13),
        "maturity-strands": ("strands", 12),
        "staff-trust-in-governors": ("statements", 10),
    }
    assert [i.id for i in banks["staff-trust-in-one-another"].items if i.reverse] == [
        "peer-being-valued",
        "peer-reliability",
    ]
    student = banks["student-trust-in-staff"]
    assert {o.value: o.valence for o in student.scales["yes-no-unsure"].options}["not-sure"] == "neutral"
    strands = banks["maturity-strands"]
    assert {d.id: sum(1 for i in strands.items if i.dimension == d.id) for d in strands.dimensions} == {
        "professional-development": 4,
        "partnership-competence": 4,
        "collaborative-capital": 4,
    }
    for bank in banks:
        assert all(len(i.name) <= 75 for i in bank.items)
        assert len({i.id for i in bank.items}) == len(bank.items)


def test_picks_bank_is_one_exercise_with_perspectives_as_facets() -> None:
    bank = parse_bank(PICKS)
    assert bank.round_item_ids() == ["team-habits"]
    exercise = bank.round_item("team-habits")
    assert exercise is not None and exercise.id == bank.exercise_id == "team-habits"
    assert bank.round_item("listen") is None and bank.item("listen") is not None
    assert bank.facets() == ("self", "team")
    strands = parse_bank(STRANDS)
    assert strands.facets() == ("now", "future") and strands.round_item_ids() == ["s1"]


def test_picks_bank_rules() -> None:
    assert problems(PICKS.replace("id: listen", "id: team-habits")) == [
        "b.yaml:12: items[0].id: an item of a picks bank cannot share the bank's id"
    ]
    found = problems(PICKS.replace("value: weak", "value: poor"))
    assert found[0] == "b.yaml:12: items[0].scale: a picks bank's scale needs options 'strong' and 'weak'"
    assert problems(PICKS.replace("strongest: 2", "strongest: 3")) == [
        "b.yaml:5: picks: more picks asked for than there are items"
    ]
    assert problems(PICKS.replace("[self, team]", "[self, self]")) == [
        "b.yaml:5: picks.perspectives: perspectives must be unique"
    ]
    assert "picks.perspectives[1]" in problems(PICKS.replace("[self, team]", "[self, a-very-long-perspective]"))[0]


def test_strand_scale_must_be_four_levels() -> None:
    assert parse_bank(STRANDS).items[0].levels is not None
    assert problems(STRANDS.replace("score: 4", "score: 5")) == [
        "b.yaml:8: scales.level.options: a strand scale has four levels scored 1, 2, 3 and 4"
    ]
    no_levels = STRANDS.replace("    levels: {beginning: x, developing: x, embedding: x, leading: x}\n", "")
    assert problems(no_levels) == ["b.yaml:14: items[0].levels: a strand needs its four level descriptors"]


def test_name_is_the_label_or_a_shortened_text() -> None:
    assert Item(id="a", text="x " * 60, aspect="a", scale="s").name.endswith("…")
    assert len(Item(id="a", text="word " * 40, aspect="a", scale="s").name) <= 75
    assert Item(id="a", text="Short text", aspect="a", scale="s").name == "Short text"
    assert Item(id="a", text="Long " * 30, aspect="a", scale="s", label="Name").name == "Name"


def test_registry_names_where_banks_came_from_and_refuses_a_taken_id(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(PICKS)
    (tmp_path / "clash.yaml").write_text("# a comment first\n" + STRANDS.replace("my-strands", "maturity-strands"))
    registry = BankRegistry.load(tmp_path)
    assert registry.sources["team-habits"] == str(tmp_path / "mine.yaml")
    assert registry.sources["maturity-strands"] == "builtin"
    assert [str(p) for p in registry.refused] == [
        f"{tmp_path / 'clash.yaml'}:2: id: bank id 'maturity-strands' is already taken (builtin)"
    ]
