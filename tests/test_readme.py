"""The README is the IT lead's reference: every setting, every command, and no pointer outside the
repository (issue 27)."""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

from bot.cli.main import _parser
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(parser: argparse.ArgumentParser, prefix: str = "pulse") -> list[str]:
    """Every leaf command, e.g. `pulse rounds close`, `pulse db upgrade`."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, f"{prefix} {name}")
    return found or [prefix]


def test_every_setting_is_in_the_readme() -> None:
    missing = [n.upper() for n in Settings.model_fields if f"`{n.upper()}`" not in README]
    assert missing == []


def test_every_command_is_in_the_command_reference() -> None:
    commands = _commands(_parser())
    assert len(commands) >= 18
    reference = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    lines = [line.split() for line in reference.splitlines() if line.startswith("pulse ")]
    listed = {" ".join(words[:n]) for words in lines for n in (2, 3)}
    assert [c for c in commands if c not in listed] == []
    assert "pulse --version" in reference


def test_the_default_bind_is_stated_and_nothing_points_outside_the_repository() -> None:
    assert Settings.model_fields["host"].default == "0.0.0.0"
    assert "**Default `0.0.0.0`: every interface**" in README
    assert "../shared" not in README and "DESIGN.md" not in README


def test_the_license_is_an_spdx_string_so_the_install_prints_no_deprecation() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert isinstance(project["license"], str)
    assert re.fullmatch(r"[A-Za-z0-9.\-+]+", project["license"])
