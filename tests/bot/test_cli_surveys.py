"""`pulse surveys create|list`: the list shows each survey's state, as /pulse surveys does."""

from __future__ import annotations

import asyncio
import re

import pytest

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
