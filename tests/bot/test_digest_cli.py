"""`pulse digest SURVEY --format text|json|csv|png [--out FILE]`, run as the command line runs it."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.settings import get_settings
from storage.db import Database
from surveys.banks import BankRegistry
from tests.db import SqliteTemplate
from tests.surveys.digest_seed import seed


@pytest.fixture
def survey(
    sqlite_template: SqliteTemplate, banks: BankRegistry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[int]:
    url = sqlite_template.fresh_url()

    async def go() -> int:
        db = Database(url)
        try:
            return (await seed(db, banks)).survey_id
        finally:
            await db.dispose()

    survey_id = asyncio.run(go())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield survey_id
    get_settings.cache_clear()


def run(*argv: str) -> int:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    return int(exit_.value.code or 0)


def test_json_csv_png_and_text(survey: int, capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    assert run("digest", str(survey), "--format", "json") == 0
    digest = json.loads(capsysbinary.readouterr().out)
    assert {"survey", "participation", "items"} <= digest.keys()
    for item in digest["items"]:
        assert {"item_id", "text", "n", "favourable_pct", "suppressed"} <= item.keys()

    out = tmp_path / "digest.csv"
    assert run("digest", str(survey), "--format", "csv", "--out", str(out)) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    items = {(r["key"], r["segment"]): r for r in rows if r["section"] == "item"}
    for item in digest["items"]:
        for cell in [item, *item["segments"]]:
            row = items[(item["item_id"], cell.get("segment", ""))]
            assert (int(row["n"]) if row["n"] else None) == cell["n"]
            # A hidden cell publishes no n at all: blank in the CSV, null in the JSON.
            assert (row["n"] == "") == cell["suppressed"]
            assert (cell["n"] is None) == cell["suppressed"]
            assert (float(row["favourable_pct"]) if row["favourable_pct"] else None) == cell["favourable_pct"]

    assert run("digest", str(survey), "--format", "png") == 0  # standard output is not a terminal here
    png = capsysbinary.readouterr().out
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000

    assert run("digest", str(survey)) == 0
    text = capsysbinary.readouterr().out.decode()
    assert text.startswith("Pulse digest: Partnership trust") and "Trust index" in text


def test_unknown_survey_is_one_line_and_status_1(survey: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("digest", "9999", "--format", "csv") == 1
    assert capsys.readouterr().err.strip() == "pulse: no survey 9999"
