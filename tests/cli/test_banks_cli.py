"""`pulse banks list|show|validate`, run as the real console script in a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from surveys.banks import BUILTIN_DIR

PULSE = str(Path(sys.executable).with_name("pulse"))
BUILTIN_IDS = {p.stem for p in BUILTIN_DIR.glob("*.yaml")}

GOOD = """\
id: parents-trust
version: 3
title: Parental trust in staff
scales:
  agreement:
    options:
      - {value: agree, label: Agree, score: 2, valence: favourable}
      - {value: disagree, label: Disagree, score: 1, valence: unfavourable}
items:
  - {id: listened-to, text: Staff listen to me about my child., aspect: listening, scale: agreement}
"""

BROKEN = """\
id: broken-bank
version: 1
title: Broken
scales:
  agreement:
    options:
      - {value: agree, label: Agree, score: high, valence: favourable}
      - {value: disagree, label: Disagree, score: 1, valence: so-so}
items:
  - id: one
    text: Fine.
    aspect: general
    scale: agreemnt
"""


def pulse(tmp_path: Path, *args: str, banks_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "SLACK_", "DATABASE_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'never-created.db'}"
    if banks_dir is None:
        banks_dir = tmp_path / "no-custom-banks"
        banks_dir.mkdir(exist_ok=True)
    env["PULSE_BANKS_DIR"] = str(banks_dir)
    return subprocess.run([PULSE, "banks", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def custom(tmp_path: Path) -> Path:
    folder = tmp_path / "banks"
    folder.mkdir()
    (folder / "parents.yaml").write_text(GOOD)
    (folder / "broken.yaml").write_text(BROKEN)
    return folder


def test_list_json_shows_builtin_and_custom_banks_and_refused_files(tmp_path: Path, custom: Path) -> None:
    out = pulse(tmp_path, "list", "--json", banks_dir=custom)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    by_id = {b["id"]: b for b in data["banks"]}
    assert set(by_id) == BUILTIN_IDS | {"parents-trust"}
    assert by_id["parents-trust"] == {
        "id": "parents-trust",
        "version": 3,
        "kind": "statements",
        "title": "Parental trust in staff",
        "items": 1,
        "loaded_from": str(custom / "parents.yaml"),
    }
    assert by_id["maturity-strands"]["kind"] == "strands" and by_id["maturity-strands"]["items"] == 12
    assert {p["file"] for p in data["refused"]} == {str(custom / "broken.yaml")}
    assert not (tmp_path / "never-created.db").exists()


def test_list_text_names_each_bank(tmp_path: Path) -> None:
    out = pulse(tmp_path, "list")
    assert out.returncode == 0
    assert all(re.search(rf"^{bank_id}\s+\d+\s+\w+\s+\d+\s+\S", out.stdout, re.M) for bank_id in BUILTIN_IDS)


def test_show_json_of_strands_has_scales_items_dimensions_and_levels(tmp_path: Path) -> None:
    out = pulse(tmp_path, "show", "maturity-strands", "--json")
    assert out.returncode == 0, out.stderr
    bank = json.loads(out.stdout)
    assert (bank["id"], bank["title"]) == ("maturity-strands", "Partnership maturity model")
    assert [(o["label"], o["score"]) for o in bank["scales"]["maturity"]["options"]] == [
        ("Beginning", 1),
        ("Developing", 2),
        ("Embedding", 3),
        ("Leading", 4),
    ]
    assert len(bank["items"]) == 12
    for item in bank["items"]:
        assert {"id", "text", "aspect", "scale", "reverse", "dimension", "levels"} <= set(item)
        assert set(item["levels"]) == {"beginning", "developing", "embedding", "leading"}
        assert item["dimension"] in {d["id"] for d in bank["dimensions"]}


def test_show_json_of_statements_flags_reverse_items(tmp_path: Path) -> None:
    bank = json.loads(pulse(tmp_path, "show", "staff-trust-in-one-another", "--json").stdout)
    assert [i["id"] for i in bank["items"] if i["reverse"]] == ["peer-being-valued", "peer-reliability"]
    assert all("levels" not in i and "dimension" not in i for i in bank["items"])
    assert all({"id", "text", "aspect", "scale", "reverse"} <= set(i) for i in bank["items"])


def test_show_text_and_unknown_bank(tmp_path: Path) -> None:
    out = pulse(tmp_path, "show", "leadership-trust-behaviours")
    assert out.returncode == 0
    assert "up to 5 strongest and 3 weakest" in out.stdout and "behaviour-listen-first" in out.stdout
    missing = pulse(tmp_path, "show", "no-such-bank")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "pulse: no bank 'no-such-bank' (see `pulse banks list`)"


def test_every_builtin_bank_passes_validate(tmp_path: Path) -> None:
    files = sorted(str(p) for p in BUILTIN_DIR.glob("*.yaml"))
    out = pulse(tmp_path, "validate", *files)
    assert out.returncode == 0, out.stdout
    assert out.stdout.count(": ok (") == len(files) == 6


def test_broken_bank_refused_with_file_line_field(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    out = pulse(tmp_path, "validate", str(path))
    assert out.returncode == 1
    lines = out.stdout.strip().splitlines()
    assert all(re.match(rf"^{re.escape(str(path))}:\d+: [\w.\[\]]+: .+", line) for line in lines), lines
    fields = {line.split(": ")[0].split(":")[-1] + ":" + line.split(": ")[1] for line in lines}
    assert {"7:scales.agreement.options[0].score", "8:scales.agreement.options[1].valence"} <= fields

    as_json = json.loads(pulse(tmp_path, "validate", "--json", str(path)).stdout)
    assert as_json["ok"] is False
    [result] = as_json["files"]
    assert {(p["line"], p["field"]) for p in result["problems"]} >= {(7, "scales.agreement.options[0].score")}


def test_cross_reference_problem_and_a_taken_id(tmp_path: Path) -> None:
    fixed = BROKEN.replace("score: high", "score: 2").replace("valence: so-so", "valence: unfavourable")
    (tmp_path / "typo.yaml").write_text(fixed)
    (tmp_path / "clash.yaml").write_text(GOOD.replace("parents-trust", "maturity-strands"))
    out = pulse(tmp_path, "validate", "typo.yaml", "clash.yaml")
    assert out.returncode == 1
    assert out.stdout.strip().splitlines() == [
        "typo.yaml:13: items[0].scale: unknown scale 'agreemnt'",
        "clash.yaml:1: id: bank id 'maturity-strands' is taken by a built-in bank",
    ]
