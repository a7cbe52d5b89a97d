"""The digest rendered: Block Kit within Slack's limits, the same numbers in Slack, JSON and CSV,
a chart that renders, and a digest too big for one message split into several."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re

import pytest
from PIL import Image

from bot.charts import trend_chart
from bot.cli.digest import render
from bot.digest_csv import COLUMNS, digest_csv
from bot.slack.digest_blocks import digest_blocks, digest_messages
from storage.db import Database
from storage.models import Round, Survey
from storage.rollups import AnswerCount
from surveys import operations
from surveys.banks import BankRegistry
from surveys.digest import Digest, Share, assemble
from tests.slack_double import MAX_BLOCKS as LIMITS
from tests.slack_double import validate_blocks
from tests.surveys.digest_seed import seed

ITEM_LINE = re.compile(r"^\*(?P<label>[^*]+)\* — (?:\*(?P<pct>\d+)%\*|_(?P<hidden>[^_]+)_)(?P<rest>.*)$")
SCHOOLS_LINE = re.compile(r"^\*(?P<label>[^*]+)\*: (?P<cells>.*)$")
PNG = b"\x89PNG\r\n\x1a\n"
MAX_BLOCKS = LIMITS["message"]


@pytest.fixture
async def digest(db: Database, banks: BankRegistry) -> Digest:
    s = await seed(db, banks)
    return await operations.digest_for(db, banks, s.survey_id, now=s.now)


def texts(messages: list[list[dict]]) -> list[str]:
    lines = []
    for blocks in messages:
        for block in blocks:
            if block["type"] == "section":
                lines += block["text"]["text"].split("\n")
    return lines


def school(cell: Share) -> str:
    if cell.suppressed:
        return "hidden"
    return "no answers" if cell.favourable_pct is None else f"{whole(cell.favourable_pct)}%"


def whole(value: float | None) -> str:
    """The JSON's one-decimal figure as Slack shows it: whole, halves rounded up (54.5 -> 55)."""
    assert value is not None
    return str(math.floor(value + 0.5)) if value >= 0 else str(-math.floor(-value + 0.5))


async def test_block_kit_within_slack_limits(digest: Digest) -> None:
    messages = digest_messages(digest)
    for blocks in messages:
        assert validate_blocks(blocks) == []
        assert 0 < len(blocks) <= MAX_BLOCKS
        assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    # Short lines read on a phone: nothing but the long statement itself runs past a few words.
    assert max(len(line) for line in texts(messages)) < 300


async def test_slack_shows_the_json_numbers(digest: Digest) -> None:
    lines = texts(digest_messages(digest))
    item_lines = [m for m in (ITEM_LINE.match(line) for line in lines) if m]
    assert [m["label"] for m in item_lines] == [i.label for i in digest.items]
    for m, item in zip(item_lines, digest.items, strict=True):
        if item.suppressed:
            assert m["hidden"] == "hidden for anonymity" and m["pct"] is None
            assert m["rest"].endswith(" · –")  # how many stand behind a hidden figure is not published
        else:
            assert m["pct"] == whole(item.favourable_pct)
            assert f" · {item.n} people" in m["rest"]  # one item, one round: each person once
        if item.change_pts is not None:
            arrow = {"up": "▲ ", "down": "▼ ", None: ""}[item.trend]
            shown = whole(item.change_pts)
            shown = "±0" if shown in ("0", "-0") else (shown if shown.startswith("-") else f"+{shown}")
            assert f"{arrow}{shown} pts" in m["rest"]
        else:
            assert "pts" not in m["rest"]
        if item.neutral_label and item.neutral_pct is not None:
            assert f"{item.neutral_label} {whole(item.neutral_pct)}%" in m["rest"]

    side_by_side = [
        line
        for blocks in digest_messages(digest)
        for b in blocks
        if b["type"] == "section" and b["text"]["text"].startswith("*Schools side by side*")
        for line in b["text"]["text"].split("\n")[1:]
    ]
    school_lines = [m for m in (SCHOOLS_LINE.match(line) for line in side_by_side) if m]
    assert [m["label"] for m in school_lines] == [i.label for i in digest.items]
    for m, item in zip(school_lines, digest.items, strict=True):
        expected = " · ".join(f"{c.label} {school(c)}" for c in item.segments)
        assert m["cells"] == expected

    index_lines = [line for line in lines if line.startswith("Trust index ")]
    assert index_lines == [
        f"Trust index *{whole(a.index.favourable_pct)}%* · {a.index.n} answers to {len(a.index.items)} of "
        f"{a.index.items_total} items"
        for a in digest.audits
    ]
    for audit in digest.audits:
        by_school = " · ".join(f"{s.label} *{school(s)}*" for s in audit.index.segments)
        assert f"By school: {by_school}" in lines

    strands = [s for group in digest.strands for d in group.dimensions for s in d.strands]
    for s in strands:
        levels = " · ".join(f"{name[0].upper()} {whole(v)}%" for name, v in (s.now.levels_pct or {}).items())
        assert f"   now: {levels}" in lines
    [b] = digest.behaviours
    team = next(line for line in lines if line.startswith("*team* — named strong: "))
    for item_id in b.named_strong["team"]:
        stat = next(s for s in b.behaviours if s.item_id == item_id)
        cell = next(c for c in stat.cells if c.perspective == "team")
        assert f"{stat.label} {cell.strong}" in team


def _num(value: str) -> float | None:
    return None if value == "" else float(value)


async def test_csv_holds_the_json_numbers_and_no_response_row(digest: Digest) -> None:
    rows = list(csv.DictReader(io.StringIO(digest_csv(digest))))
    assert rows and set(rows[0]) == set(COLUMNS)
    assert not {"respondent_key", "option", "day", "user"} & set(rows[0])
    assert not any(re.fullmatch(r"[0-9a-f]{64}", v) for r in rows for v in r.values())
    assert {r["section"] for r in rows} == {
        "participation",
        "index",
        "aspect",
        "item",
        "item-previous",
        "dimension",
        "strand",
        "behaviour",
    }

    def find(**where: str) -> dict[str, str]:
        [row] = [r for r in rows if all(r[k] == v for k, v in where.items())]
        return row

    for item in digest.items:
        row = find(section="item", key=item.item_id, segment="")
        assert _count(row["n"]) == item.n and row["suppressed"] == str(item.suppressed).lower()
        for field in ("favourable_pct", "neutral_pct", "unfavourable_pct", "change_pts", "z"):
            assert _num(row[field]) == getattr(item, field), (item.item_id, field)
        assert row["trend"] == (item.trend or "")
        for cell in item.segments:
            row = find(section="item", key=item.item_id, segment=cell.segment)
            assert (_count(row["n"]), _num(row["favourable_pct"])) == (cell.n, cell.favourable_pct)
            assert row["segment_label"] == cell.label
    for audit in digest.audits:
        row = find(section="index", bank_id=audit.bank_id, key="now", segment="")
        assert (_count(row["n"]), _num(row["favourable_pct"])) == (audit.index.n, audit.index.favourable_pct)
        for point in audit.trend:
            row = find(section="index", bank_id=audit.bank_id, key=f"cycle-{point.cycle}", segment="")
            assert _num(row["favourable_pct"]) == point.favourable_pct
    for group in digest.strands:
        for dim in group.dimensions:
            for s in dim.strands:
                for cell in (s.now, s.future):
                    row = find(section="strand", key=s.strand, facet=cell.facet, segment="")
                    assert (_count(row["n"]), _num(row["median"])) == (cell.n, cell.median)
                    for name, count in (cell.levels or {}).items():
                        assert int(row[name]) == count
    for b in digest.behaviours:
        for stat in b.behaviours:
            for cell in stat.cells:
                row = find(section="behaviour", key=stat.item_id, facet=cell.perspective)
                assert (_count(row["n"]), int(row["strong"]), int(row["weak"])) == (cell.n, cell.strong, cell.weak)
    for p in digest.participation.trend:
        row = find(section="participation", key=f"round-{p.round_seq}")
        assert (_num(row["rate_pct"]), int(row["audience_size"])) == (p.rate_pct, p.audience_size)


async def test_json_format_is_the_model(digest: Digest) -> None:
    text = render(digest, "json")
    assert isinstance(text, str)
    assert Digest.model_validate_json(text) == digest


async def test_the_chart_renders(digest: Digest) -> None:
    png = trend_chart(digest)
    assert png is not None and png.startswith(PNG) and len(png) > 20_000
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width >= 600 and image.height >= 600
    assert render(digest, "png") == png


def test_nothing_to_chart_before_the_first_round(banks: BankRegistry) -> None:
    survey = Survey(id=1, name="New", bank_ids=["staff-trust-in-leadership"], audience=["C1"], segment_labels={}, k=5)
    survey.audience_kind = "channels"
    empty = assemble(survey, [], [], banks, now=dt.datetime(2026, 9, 1, tzinfo=dt.UTC))
    assert trend_chart(empty) is None
    assert all(validate_blocks(m) == [] for m in digest_messages(empty))


def _big_digest(banks: BankRegistry) -> Digest:
    """Five audits, thirty schools, every item asked twice: far more than one message holds."""
    bank_ids = [
        "staff-trust-in-leadership",
        "staff-trust-in-one-another",
        "student-trust-in-staff",
        "staff-trust-in-governors",
        "maturity-strands",
    ]
    schools = [f"C0SCHOOL{i:02d}" for i in range(30)]
    survey = Survey(
        id=7,
        name="A district with a long name " * 3,
        bank_ids=bank_ids,
        audience_kind="channels",
        audience=schools,
        segment_labels={s: f"School number {i} <&> of the district" for i, s in enumerate(schools)},
        k=5,
    )
    start = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    rounds, rows = [], []
    for seq in (1, 2):
        refs = [
            {"bank": b, "version": 1, "item": item.id, "cycle": seq - 1} for b in bank_ids for item in banks[b].items
        ]
        rounds.append(
            Round(
                id=seq,
                seq=seq,
                survey_id=7,
                opened_at=start + dt.timedelta(weeks=seq),
                closes_at=start + dt.timedelta(weeks=seq, days=3),
                closed_at=None,
                items=refs,
                audience_size=600,
            )
        )
        for ref in refs:
            for i, school in enumerate(schools):
                n = 3 + (i + seq) % 9
                if ref["bank"] == "maturity-strands":
                    rows += [AnswerCount(seq, ref["item"], f, school, 1 + i % 4, 0, n) for f in ("now", "future")]
                else:
                    fav = (n * (i + seq)) % (n + 1)
                    rows += [AnswerCount(seq, ref["item"], "", school, 3, 1, fav)] if fav else []
                    rows += [AnswerCount(seq, ref["item"], "", school, 1, -1, n - fav)] if n - fav else []
    return assemble(survey, rounds, rows, banks, now=start + dt.timedelta(weeks=4))


def test_a_digest_too_big_for_one_message_is_split(banks: BankRegistry) -> None:
    big = _big_digest(banks)
    blocks = digest_blocks(big)
    # Sections are packed up to Slack's 3000 characters, so even this digest fits the 50-block limit...
    [whole_digest] = digest_messages(big)
    assert validate_blocks(whole_digest) == [] and len(whole_digest) <= MAX_BLOCKS
    # ...and when blocks do run over, the digest goes out as several messages, cut between blocks.
    limit = 8
    assert len(blocks) > 3 * limit
    messages = digest_messages(big, limit=limit)
    assert len(messages) > 3
    for m in messages:
        assert validate_blocks(m) == [] and len(m) <= limit
        assert m[0]["type"] != "divider" and m[-1]["type"] != "divider"
    # Nothing lost in the split but dividers at the seams.
    kept = [b for m in messages for b in m]
    assert [b for b in kept if b["type"] != "divider"] == [b for b in blocks if b["type"] != "divider"]
    # Thirty schools do not fit a phone line: twelve are shown and the CSV has the rest.
    assert any("and 18 more in the CSV export" in line for line in texts(messages))
    assert "&lt;&amp;&gt;" in " ".join(texts(messages))


def _count(value: str) -> int | None:
    """A CSV count: blank where the figure publishes none (hidden)."""
    return int(value) if value else None
