"""`pulse demo --platform teams` runs end to end and checks its own digest."""

from __future__ import annotations

import pytest

from bot.cli.main import main


@pytest.mark.slow
def test_the_teams_demo_runs_and_checks_itself(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["demo", "--platform", "teams", "--staff", "14", "--weeks", "2"])
    out = capsys.readouterr().out
    assert done.value.code == 0, out
    assert "Check passed" in out and "valid Adaptive Cards 1.5" in out
    assert "as an Adaptive Card" in out and "Week 2" in out
