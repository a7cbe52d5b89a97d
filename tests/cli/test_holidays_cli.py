"""`pulse holidays add|list|remove|import`, run as the console script runs it, on a real database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli.main import main
from bot.settings import get_settings
from storage.db import Database
from storage.models import Holiday, Survey
from surveys.config import SurveyConfig


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def pulse(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `pulse ARGV...` (in a thread: the CLI runs its own event loop)."""

    def run() -> int:
        try:
            main(list(argv))
        except SystemExit as exit_:
            return int(exit_.code or 0)
        return 0

    code = await asyncio.to_thread(run)
    out = capsys.readouterr()
    return code, out.out, out.err


async def _holidays(db: Database) -> list[tuple[int | None, str, str, str]]:
    async with db.session() as s:
        rows = (await s.scalars(select(Holiday).order_by(Holiday.starts))).all()
        return [(h.survey_id, str(h.starts), str(h.ends), h.label) for h in rows]


async def _survey(db: Database) -> int:
    config = SurveyConfig(bank_ids=["staff-trust-in-leadership"], audience=["C0A"], digest_channel="C0L")
    async with db.session() as s:
        survey: Survey = config.to_model()
        s.add(survey)
        await s.flush()
        return survey.id


@pytest.mark.usefixtures("cli_env")
async def test_add_list_remove(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    survey_id = await _survey(db)
    code, out, _ = await pulse(capsys, "holidays", "add", "2026-10-26", "2026-10-30", "--label", "Half term")
    assert code == 0 and out.startswith("holiday 1: 2026-10-26 to 2026-10-30 Half term")
    code, out, _ = await pulse(
        capsys, "holidays", "add", "2026-11-02", "2026-11-02", "--survey", str(survey_id), "--label", "INSET"
    )
    assert code == 0
    assert await _holidays(db) == [
        (None, "2026-10-26", "2026-10-30", "Half term"),
        (survey_id, "2026-11-02", "2026-11-02", "INSET"),
    ]

    code, out, _ = await pulse(capsys, "holidays", "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["id", "starts", "ends", "days", "applies", "to", "label"]
    assert lines[1].split() == ["1", "2026-10-26", "2026-10-30", "5", "all", "surveys", "Half", "term"]
    assert lines[2].split() == ["2", "2026-11-02", "2026-11-02", "1", "survey", str(survey_id), "INSET"]

    code, out, _ = await pulse(capsys, "holidays", "remove", "1")
    assert (code, out.strip()) == (0, "removed holiday 1")
    code, _, err = await pulse(capsys, "holidays", "remove", "1")
    assert (code, err.strip()) == (1, "pulse: no holiday 1 (see `pulse holidays list`)")
    assert len(await _holidays(db)) == 1


@pytest.mark.usefixtures("cli_env")
async def test_mistakes_are_one_line_and_change_nothing(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = await pulse(capsys, "holidays", "add", "2026-10-30", "2026-10-26")
    assert (code, err.strip()) == (1, "pulse: the holiday ends (2026-10-26) before it starts (2026-10-30)")
    code, _, err = await pulse(capsys, "holidays", "add", "2026-10-26", "2026-10-30", "--survey", "42")
    assert (code, err.strip()) == (1, "pulse: no survey 42")
    code, _, err = await pulse(capsys, "holidays", "add", "26/10/2026", "2026-10-30")
    assert code == 2 and "'26/10/2026' is not a date (use YYYY-MM-DD)" in err
    code, _, err = await pulse(capsys, "holidays", "import", "missing.csv")
    assert code == 1 and err.startswith("pulse: cannot read missing.csv")
    assert "Traceback" not in err
    assert await _holidays(db) == []


@pytest.mark.usefixtures("cli_env")
async def test_import_csv_and_ics_all_or_nothing(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "terms.csv"
    bad.write_text("start,end,label\n2026-10-26,2026-10-30,Half term\n2026-12-21,2026-12-01,Backwards\n")
    code, _, err = await pulse(capsys, "holidays", "import", str(bad))
    assert code == 1
    assert err.strip() == "pulse: terms.csv: line 3: the holiday ends (2026-12-01) before it starts (2026-12-21)"
    assert await _holidays(db) == []

    good = tmp_path / "terms.csv"
    good.write_text("\ufeffstart,end,label\n2026-10-26,2026-10-30,Half term\n2026-12-21,2027-01-01,Christmas\n")
    code, out, _ = await pulse(capsys, "holidays", "import", str(good))
    assert code == 0 and out.splitlines()[0] == "imported 2 holiday(s) from terms.csv"

    ics = tmp_path / "school.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270215\r\nDTEND;VALUE=DATE:20270220\r\n"
        "SUMMARY:February half term\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    code, out, _ = await pulse(capsys, "holidays", "import", str(ics))
    assert code == 0 and out.splitlines()[0] == "imported 1 holiday(s) from school.ics"
    code, out, _ = await pulse(capsys, "holidays", "import", str(good))  # again: nothing twice
    assert code == 0 and out.splitlines()[0] == "imported 0 holiday(s) from terms.csv"
    assert await _holidays(db) == [
        (None, "2026-10-26", "2026-10-30", "Half term"),
        (None, "2026-12-21", "2027-01-01", "Christmas"),
        (None, "2027-02-15", "2027-02-19", "February half term"),
    ]
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Holiday)) == 3
