"""Bad settings, fed to the real command line: one line per bad setting naming it, a non-zero exit,
no traceback, and nothing done (issue 27, first part)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.settings import get_settings
from tests.cli.test_holidays_cli import pulse


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'pulse.db'}")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"PORT": "abc"}, ["PORT=abc"]),
        ({"LOG_LEVEL": "LOUD"}, ["LOG_LEVEL=LOUD"]),
        ({"PORT": "abc", "LOG_LEVEL": "LOUD"}, ["PORT=abc", "LOG_LEVEL=LOUD"]),
        ({"PULSE_SEND_CONCURRENCY": "0"}, ["PULSE_SEND_CONCURRENCY=0"]),
    ],
)
async def test_a_bad_setting_is_one_line_naming_it_and_nothing_runs(
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    settings: dict[str, str],
    named: list[str],
) -> None:
    for name, value in settings.items():
        env.setenv(name, value)
    for argv in (("banks", "list"), ("surveys", "list"), ("db", "upgrade")):
        get_settings.cache_clear()
        code, out, err = await pulse(capsys, *argv)
        assert (code, out) == (2, ""), argv
        lines = err.strip().splitlines()
        assert len(lines) == len(named) and "Traceback" not in err, err
        for line, name in zip(lines, named, strict=True):
            assert line.startswith(f"pulse: {name} is not valid: ") and line.endswith("in .env."), line
    # Nothing ran: not even the database file was created.
    assert not (tmp_path / "pulse.db").exists()


async def test_a_lower_case_log_level_is_fine(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("LOG_LEVEL", "warning")
    assert get_settings().log_level == "WARNING"


async def test_every_missing_setting_is_named_in_one_run(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "PULSE_ANONYMITY_SECRET", "SLACK_CLIENT_ID"):
        env.delenv(name, raising=False)
    # SystemExit with a message, as the interpreter would treat it: the message on stderr, status 1.
    with pytest.raises(SystemExit) as stopped:
        main(["serve"])
    assert isinstance(stopped.value.code, str)  # the interpreter prints it and exits with status 1
    out, err = capsys.readouterr().out, stopped.value.code
    lines = err.strip().splitlines()
    assert out == "" and "Traceback" not in err
    assert [line.split()[1] for line in lines] == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "PULSE_ANONYMITY_SECRET"]
    assert all(line.startswith("pulse: ") and line.endswith("in .env.") for line in lines)
    assert not (tmp_path / "pulse.db").exists()
