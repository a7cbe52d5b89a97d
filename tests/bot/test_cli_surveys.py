"""`pulse surveys create|list`: the list shows each survey's state, as /pulse surveys does."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

import surveys.banks
from bot.cli import main
from bot.settings import get_settings
from storage.db import Database
from storage.models import Survey


def pulse(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


async def _pause(url: str, survey_id: int) -> None:
    db = Database(url)
    async with db.session() as session:
        survey = await session.get(Survey, survey_id)
        assert survey is not None
        survey.paused = True
    await db.dispose()


async def _workspace(url: str, survey_id: int) -> str | None:
    db = Database(url)
    async with db.session() as session:
        survey = await session.get(Survey, survey_id)
        assert survey is not None
        found = survey.workspace_id
    await db.dispose()
    return found


def test_list_shows_active_and_paused_with_the_next_round(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("PULSE_BANKS_DIR", "/nonexistent")
    get_settings.cache_clear()
    try:
        assert pulse("surveys", "list") == 0
        assert "no surveys yet" in capsys.readouterr().out
        base = [
            "surveys",
            "create",
            "--bank",
            "staff-trust-in-leadership",
            "--channel",
            "C0A",
            "--digest-channel",
            "C0L",
        ]
        assert pulse(*base, "--name", "First", "--workspace", "T0SCHOOL") == 0
        assert pulse(*base, "--name", "Second", "--every", "30 7 * * wed") == 0
        capsys.readouterr()
        asyncio.run(_pause(db_url, 2))
        assert asyncio.run(_workspace(db_url, 1)) == "T0SCHOOL"

        assert pulse("surveys", "list") == 0
        lines = capsys.readouterr().out.splitlines()
        assert "state" in lines[0] and "next round" in lines[0]
        first, second = lines[1].split(), lines[2].split()
        assert first[:2] == ["1", "active"] and re.fullmatch(r"\d{4}-\d\d-\d\d", first[2]) and first[3] == "09:00"
        assert "First" in lines[1]
        assert second[:3] == ["2", "paused", "-"] and "Second" in lines[2]
    finally:
        get_settings.cache_clear()


def test_list_warns_of_a_survey_whose_bank_is_no_longer_loaded(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    own = tmp_path / "banks"
    own.mkdir()
    builtin = Path(surveys.banks.__file__).parent / "builtin"
    text = next(builtin.glob("staff-trust*.yaml")).read_text(encoding="utf-8")
    (own / "ours.yaml").write_text(text.replace("id: staff-trust-in-leadership", "id: our-trust-bank", 1))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("PULSE_BANKS_DIR", str(own))
    get_settings.cache_clear()
    try:
        made = ("surveys", "create", "--bank", "our-trust-bank", "--channel", "C0A", "--digest-channel", "C0L")
        assert pulse(*made) == 0
        assert pulse("surveys", "list") == 0
        assert capsys.readouterr().err == ""
        (own / "ours.yaml").unlink()
        get_settings.cache_clear()
        assert pulse("surveys", "list") == 0
        out, err = capsys.readouterr()
        assert "our-trust-bank" in out
        assert err.startswith("pulse: warning: survey 1: bank 'our-trust-bank' is not loaded, so no round can go out")
    finally:
        get_settings.cache_clear()


def test_mistakes_are_named_by_the_flag_typed_all_in_one_run(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        argv = ["surveys", "create", "--bank", "maturity-strands", "--channel", "general", "--digest-channel", "C0L"]
        assert pulse(*argv, "--items", "0", "--tz", "Mars/Base") == 1
        out, err = capsys.readouterr()
        assert out == ""
        assert err.splitlines() == [
            "pulse: --channel: 'general' is not a channel id: use the channel's id (C0123ABC…, at the foot of "
            "its About tab in Slack), not its name",
            "pulse: --tz: unknown time zone 'Mars/Base' (use a name like Europe/London)",
            "pulse: --items: input should be greater than or equal to 1",
        ]
        assert "items_per_round" not in err and "pattern" not in err
        assert pulse("surveys", "list") == 0 and "no surveys yet" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert pulse("--version") == 0
    assert re.fullmatch(r"pulse \d+\.\d+\.\d+\n", capsys.readouterr().out)
