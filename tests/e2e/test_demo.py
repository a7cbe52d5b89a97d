"""`pulse demo` (Slack) runs end to end and checks its own digest."""

from __future__ import annotations

import pytest

from bot.cli.main import main


@pytest.mark.slow
def test_the_slack_demo_runs_and_checks_itself(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["demo", "--staff", "14", "--weeks", "2"])
    out = capsys.readouterr().out
    assert done.value.code == 0, out
    assert "Check passed" in out and "private confirmations sent" in out
    assert "against a local Slack double" in out and "Slack message(s)" in out and "Week 2" in out
