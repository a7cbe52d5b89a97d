from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from surveys.banks import BUILTIN_DIR, BankError, BankRegistry, load_bank_file, parse_bank

GOOD = """\
id: custom
version: 1
title: A custom bank
scales:
  agreement:
    options:
      - {value: agree, label: Agree, score: 2, valence: favourable}
      - {value: disagree, label: Disagree, score: 1, valence: unfavourable}
items:
  - id: one
    text: Things are fine.
    aspect: general
    scale: agreement
"""


@pytest.mark.parametrize("path", sorted(BUILTIN_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_builtin_bank_is_valid(path: Path) -> None:
    bank = load_bank_file(path)
    assert bank.id == path.stem


def test_good_bank_parses() -> None:
    bank = parse_bank(GOOD, "good.yaml")
    assert bank.items[0].id == "one"


def test_problems_name_file_line_and_field() -> None:
    broken = GOOD.replace("scale: agreement\n", "scale: agreemnt\n").replace("label: Agree,", "label: '',")
    with pytest.raises(BankError) as info:
        parse_bank(broken, "banks/broken.yaml")
    messages = [str(p) for p in info.value.problems]
    # Both in one pass: the unknown scale no longer waits until the label is mended.
    assert len(messages) == 2, messages
    assert messages[0].startswith("banks/broken.yaml:7: scales.agreement.options[0].label:"), messages
    assert messages[1] == "banks/broken.yaml:13: items[0].scale: unknown scale 'agreemnt'"


def test_one_pass_reports_names_that_do_not_match_beside_other_mistakes() -> None:
    second = "  - id: one\n    text: Again.\n    aspect: general\n    scale: agreemnt\n  - just a string\n"
    broken = GOOD.replace("version: 1", "version: zero") + second
    with pytest.raises(BankError) as info:
        parse_bank(broken, "b.yaml")
    assert [str(p) for p in info.value.problems] == [
        "b.yaml:2: version: Input should be a valid integer, unable to parse string as an integer",
        "b.yaml:14: items[1].id: duplicate item id 'one'",
        "b.yaml:17: items[1].scale: unknown scale 'agreemnt'",
        "b.yaml:18: items[2]: Input should be a valid dictionary or instance of Item",
    ]


def test_cross_reference_problem_is_placed_on_its_line() -> None:
    broken = GOOD.replace("scale: agreement\n", "scale: agreemnt\n")
    with pytest.raises(BankError) as info:
        parse_bank(broken, "b.yaml")
    assert [str(p) for p in info.value.problems] == ["b.yaml:13: items[0].scale: unknown scale 'agreemnt'"]


def test_every_problem_reported_not_just_the_first() -> None:
    broken = GOOD.replace("version: 1", "version: zero").replace("score: 2", "score: high")
    with pytest.raises(BankError) as info:
        parse_bank(broken, "b.yaml")
    fields = {p.field for p in info.value.problems}
    assert {"version", "scales.agreement.options[0].score"} <= fields


def test_yaml_syntax_error_has_a_line() -> None:
    with pytest.raises(BankError) as info:
        parse_bank("id: x\nitems: [\n", "bad.yaml")
    assert info.value.problems[0].line >= 2
    assert "not valid YAML" in info.value.problems[0].message


def test_broken_custom_bank_refused_whole(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(GOOD)
    (tmp_path / "broken.yaml").write_text(GOOD.replace("id: custom", "id: broken").replace("items:", "itemz:"))
    registry = BankRegistry.load(tmp_path)
    assert "custom" in registry and "broken" not in registry
    assert registry.refused and all(p.file.endswith("broken.yaml") for p in registry.refused)


def test_reverse_item_flips_valence() -> None:
    bank = parse_bank(GOOD.replace("scale: agreement\n", "scale: agreement\n    reverse: true\n"), "r.yaml")
    item = bank.items[0]
    assert bank.valence(item, "agree") == -1
    assert bank.valence(item, "disagree") == 1
    assert bank.valence(item, "nope") is None


def test_a_dimension_id_that_is_a_list_is_reported_not_a_crash() -> None:
    # Found by tests/reliability/test_fuzz_banks.py: the cross-reference pass hashed the list.
    data = yaml.safe_load((BUILTIN_DIR / "maturity-strands.yaml").read_text())
    data["dimensions"][0]["id"] = []
    with pytest.raises(BankError) as caught:
        parse_bank(yaml.safe_dump(data, sort_keys=False))
    assert any(p.field == "dimensions[0].id" for p in caught.value.problems)
