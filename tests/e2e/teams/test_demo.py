"""`pulse demo --platform teams` runs end to end, checks its own digest and leaves the card and the
chart the leaders got."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main


@pytest.mark.slow
def test_the_teams_demo_runs_and_checks_itself(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as done:
        main(["demo", "--platform", "teams", "--staff", "14", "--weeks", "2", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert done.value.code == 0, out
    assert "Check passed" in out and "valid Adaptive Cards 1.5" in out
    assert "as an Adaptive Card" in out and "Week 2" in out
    card = json.loads((tmp_path / "digest-card.json").read_text(encoding="utf-8"))
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert (tmp_path / "digest-chart.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"Open {tmp_path / 'digest-card.json'}" in out and f"Open {tmp_path / 'digest-chart.png'}" in out
