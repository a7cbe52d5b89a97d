"""Bad settings, fed to the real command line: one line per bad setting naming it, a non-zero exit,
no traceback, and nothing done (issue 27, first part)."""

from __future__ import annotations

import os
import socket
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


def test_every_missing_setting_is_named_in_one_run(
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "shown", "why"),
    [
        ("not a url", "DATABASE_URL=not a url is not valid: ", "it is not a database URL"),
        ("mysql://u:hunter2@db/pulse", "DATABASE_URL=mysql://u:***@db/pulse is not valid: ", "not mysql"),
        ("sqlite:///{tmp}/no/such/folder/pulse.db", "DATABASE_URL=sqlite:///", "does not exist; create it"),
        ("postgresql://u:hunter2@127.0.0.1:{port}/pulse", "cannot reach the database at DATABASE_URL=", "server"),
    ],
)
async def test_a_database_url_that_cannot_work_is_one_line_and_nothing_runs(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, url: str, shown: str, why: str
) -> None:
    env.setenv("DATABASE_URL", url.format(tmp=tmp_path, port=_free_port()))
    for argv in (("db", "upgrade"), ("surveys", "list"), ("holidays", "list"), ("serve",)):
        get_settings.cache_clear()
        code, out, err = await pulse(capsys, *argv)
        assert (code, out) == (2, ""), argv
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert err.startswith(f"pulse: {shown}") and why in err, err
        assert "hunter2" not in err  # the password is never printed
    assert os.listdir(tmp_path) == []  # no database file, no folder made


async def test_a_short_anonymity_secret_is_refused_and_the_database_is_unchanged(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    env.setenv("PULSE_ANONYMITY_SECRET", "s" * 32)
    assert (await pulse(capsys, "db", "upgrade"))[0] == 0
    before = (tmp_path / "pulse.db").read_bytes()
    env.setenv("PULSE_ANONYMITY_SECRET", "only-31-characters-long-0123456")
    for argv in (("db", "upgrade"), ("surveys", "list"), ("holidays", "add", "2027-01-01", "2027-01-02")):
        get_settings.cache_clear()
        code, out, err = await pulse(capsys, *argv)
        assert (code, out) == (2, "") and len(err.strip().splitlines()) == 1, err
        assert err.startswith("pulse: PULSE_ANONYMITY_SECRET is not valid: it needs at least 32 characters")
        assert "only-31" not in err
    assert (tmp_path / "pulse.db").read_bytes() == before


async def test_doubtful_settings_are_warned_about_and_the_command_still_runs(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    env.setenv("SLACK_BOT_TOKEN", "xoxp-a-user-token")
    env.setenv("PULSE_BANKS_DIR", str(tmp_path / "banks-typo"))
    code, out, err = await pulse(capsys, "banks", "list")
    assert code == 0 and "maturity-strands" in out
    assert err.splitlines() == [
        "pulse: warning: SLACK_BOT_TOKEN does not start with xoxb-: use the Bot User OAuth Token from the Slack "
        "app's OAuth & Permissions page (not a user xoxp- or app-level xapp- token).",
        f"pulse: warning: PULSE_BANKS_DIR={tmp_path / 'banks-typo'} is not a folder: "
        "only the built-in banks are loaded.",
    ]
    assert "xoxp-a-user-token" not in err
    # A bot token and a real folder (or none given): nothing to say.
    env.setenv("SLACK_BOT_TOKEN", "xoxb-1-2")
    (tmp_path / "banks-typo").mkdir()
    get_settings.cache_clear()
    assert (await pulse(capsys, "banks", "list"))[2] == ""


async def test_slack_unreachable_when_opening_a_round_is_one_line_and_no_round(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    env.setenv("PULSE_ANONYMITY_SECRET", "s" * 32)
    env.setenv("SLACK_BOT_TOKEN", "xoxb-1-2")
    env.setenv("SLACK_API_URL", f"http://127.0.0.1:{_free_port()}/api/")
    survey = ("surveys", "create", "--bank", "maturity-strands", "--channel", "C0STAFF", "--digest-channel", "C0LEAD")
    code, _, err = await pulse(capsys, *survey)
    assert code == 2 and err.startswith("pulse: the database at DATABASE_URL=sqlite:///")
    assert "`pulse db upgrade`" in err
    assert not (tmp_path / "pulse.db").exists()  # asking did not create it
    assert (await pulse(capsys, "db", "upgrade"))[0] == 0
    assert (await pulse(capsys, *survey))[0] == 0
    before = (tmp_path / "pulse.db").read_bytes()
    code, out, err = await pulse(capsys, "rounds", "open", "1")
    assert (code, out) == (1, "") and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("pulse: the chat platform could not be reached (slack: ClientConnectorError)")
    assert "SLACK_API_URL" in err
    code, out, _ = await pulse(capsys, "rounds", "list", "1")
    assert code == 0 and "has no rounds yet" in out
    assert (tmp_path / "pulse.db").read_bytes() == before
