"""`pulse demo` (Slack) runs end to end, checks its own digest, leaves the chart the leaders got,
and gives the same figures for the same seed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.main import main


def demo(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as done:
        main(["demo", "--staff", "14", "--weeks", "2", *argv])
    out = capsys.readouterr().out
    assert done.value.code == 0, out
    return out


def the_digest(out: str) -> str:
    return out.split("It reads:", 1)[1].split("Check passed", 1)[0]


@pytest.mark.slow
def test_the_slack_demo_runs_checks_itself_and_is_the_same_for_the_same_seed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = demo(capsys, "--seed", "7", "--out", str(tmp_path / "one"))
    assert "Check passed" in first and "private confirmations sent" in first
    assert "against a local Slack double" in first and "Slack message(s)" in first and "Week 2" in first
    chart = tmp_path / "one" / "digest-chart.png"
    assert f"Open {chart}: the trend chart the leaders received." in first
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and chart.stat().st_size > 10_000
    again = demo(capsys, "--seed", "7", "--out", str(tmp_path / "two"))
    assert the_digest(again) == the_digest(first)
    assert "%" in the_digest(first)
