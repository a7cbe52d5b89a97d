"""The chart's structure (issue 27): a cycle still under way drawn differently from finished ones
(hollow marker, dashed segment), dates on the axes, a legend below the plot in readable type."""

from __future__ import annotations

import pytest
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D

from bot import digest_format as fmt
from bot.charts import LEGEND_SIZE, trend_figure
from storage.db import Database
from surveys import operations
from surveys.banks import BankRegistry
from surveys.digest import Digest
from tests.surveys.digest_seed import seed

ALL = "#222222"


@pytest.fixture
async def digest(db: Database, banks: BankRegistry) -> Digest:
    s = await seed(db, banks)
    return await operations.digest_for(db, banks, s.survey_id, now=s.now)


def drawn(line: Line2D) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True) if y == y]


async def test_the_unfinished_cycle_is_hollow_and_dashed_and_finished_ones_are_not(digest: Digest) -> None:
    fig = trend_figure(digest)
    assert fig is not None
    audit = digest.audits[0]
    assert [p.complete for p in audit.trend] == [True, False]  # the seed's first audit: one done, one going
    ax = fig.axes[0]
    mine = [ln for ln in ax.get_lines() if to_hex(ln.get_color()) == ALL]
    finished_x, going_x = 0.0, 1.0
    going_y = audit.trend[1].favourable_pct
    solid = [ln for ln in mine if ln.get_linestyle() == "-" and drawn(ln)]
    assert [x for ln in solid for x, _ in drawn(ln)] == [finished_x]
    assert all(ln.get_markerfacecolor() != "white" for ln in solid)
    hollow = [
        ln for ln in ax.get_lines() if ln.get_markerfacecolor() == "white" and to_hex(ln.get_markeredgecolor()) == ALL
    ]
    assert [drawn(ln) for ln in hollow] == [[(going_x, going_y)]]
    dashed = [ln for ln in mine if ln.get_linestyle() == "--"]
    assert [drawn(ln) for ln in dashed] == [[(finished_x, audit.trend[0].favourable_pct), (going_x, going_y)]]
    # The legend says what the hollow, dashed mark means.
    legend = ax.get_legend()
    assert "cycle not finished yet" in [t.get_text() for t in legend.get_texts()]


async def test_dates_on_the_axes_and_a_legend_a_phone_can_read(digest: Digest) -> None:
    fig = trend_figure(digest)
    assert fig is not None
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    audit = digest.audits[0]
    assert ticks == [f"{p.label}{'' if p.complete else ' so far'}\n{fmt.cycle_dates(p)}" for p in audit.trend]
    assert ticks[0].endswith("7 Sep–8 Oct") and ticks[1].endswith("from 12 Oct")
    legend = ax.get_legend()
    assert all(t.get_fontsize() >= LEGEND_SIZE >= 10 for t in legend.get_texts())
    # Below the plot, never over its lines.
    anchor = legend.get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    assert anchor.y1 < 0
    participation = next(a for a in fig.axes if a.get_title(loc="left").startswith("Participation"))
    bars = [t.get_text() for t in participation.get_xticklabels()]
    assert bars == [f"r{r.round_seq}\n{fmt.day(r.opened_on)}" for r in digest.participation.trend]
