"""The digest model: what leaders read, the same for every platform and format.

Slack Block Kit, a Teams Adaptive Card, the terminal, JSON and CSV all render this one model, so
each shows the same figures. It is plain data (pydantic), with no chat platform in it.

Rules every figure follows:

- A **cell** is one figure and the people behind it: `n` (answers counted), `favourable_pct`
  (0-100, one decimal, reverse-scored items already turned) and `suppressed`. Every cell also
  names what it is about: its `segment` (school), `item_id`, `aspect`, `strand`, `bank_id` and
  `cycle`, or `perspective`. When `suppressed` is true every share and count of answers in the
  cell is None and `n` is 0: how many stand behind a hidden figure is itself not published.
- A cell is hidden when fewer than `k` people stand behind it, and within one breakdown (one
  item in one round, split by school) more are hidden until the hidden ones together have at
  least `k` people, so that the total minus the shown schools cannot reveal them.
- **Unanimity is disclosure**: a cell whose favourable or unfavourable share would be 0 % or
  100 % is hidden too, and so is a total when what the hidden schools said, together, would be.
  `k` is the round's own, fixed when it opened (a later edit never lowers it).
- **Pooled** figures (a trust index, an aspect, a school's index, a dimension) add up only cells
  that are shown and list the items they include, so they never reveal a hidden cell.
- Figures come from **closed rounds** only. A closed round's answers cannot change, so two digests
  never differ by one late answer. Participation (counts of answers, never what was answered) also
  covers the round still open.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field


class Cell(BaseModel):
    """One figure: how many answers it counts, the favourable share, and whether it is hidden."""

    n: int | None = Field(
        description="answers behind the figure (for a single item in one round: people); None when hidden"
    )
    favourable_pct: float | None = Field(description="% favourable, reverse scoring applied; None when hidden")
    suppressed: bool = Field(description="hidden for anonymity: fewer than k people, or hidden to protect one")


class Share(Cell):
    """A cell of an agreement or yes / no / not sure item: favourable, neutral, unfavourable."""

    neutral_pct: float | None = Field(description='% neither way: "not sure" on yes / no / not sure items')
    unfavourable_pct: float | None


class SegmentShare(Share):
    """One school's answers to one item (the partnership view)."""

    segment: str
    label: str
    item_id: str


class PreviousShare(Share):
    """The same item the cycle before, for the change."""

    item_id: str
    round_seq: int
    cycle: int


class ItemStat(Share):
    """One item, from the latest closed round that asked it."""

    item_id: str
    bank_id: str
    text: str
    label: str = Field(description="a short name for the item (the aspect's name when unset)")
    aspect: str
    reverse: bool = Field(description="negatively worded: agreeing counts as unfavourable")
    round_seq: int
    cycle: int
    neutral_label: str | None = Field(description='the neutral option\'s label, e.g. "Not sure", if the scale has one')
    previous: PreviousShare | None = None
    change_pts: float | None = Field(default=None, description="favourable now minus the cycle before, in points")
    z: float | None = Field(default=None, description="two-proportion z statistic for the change")
    trend: Literal["up", "down"] | None = Field(
        default=None, description="set only when the change is statistically significant"
    )
    segments: list[SegmentShare] = Field(default_factory=list, description="schools side by side (partnerships)")


class AspectStat(Share):
    """An aspect of trust within one audit, pooled over its items' shown figures."""

    aspect: str
    label: str
    bank_id: str
    items: list[str] = Field(description="items whose latest figures are included")
    items_hidden: list[str] = Field(description="items left out because their figure is hidden")


class SegmentIndex(Share):
    """One school's trust index: its shown answers to the audit's items, pooled."""

    segment: str
    label: str
    bank_id: str
    cycle: int | None
    items: list[str]


class IndexPoint(Share):
    """A trust index: % favourable across an audit's items, pooled over shown figures.

    `cycle` None is the rolling index: the latest closed answer to every item. A numbered cycle
    is the rounds that asked each item once (numbered from 0 as rotation stores it; `label`
    counts from 1); `complete` says whether every item was asked in it.
    """

    bank_id: str
    cycle: int | None
    label: str
    items: list[str]
    items_total: int
    complete: bool
    segments: list[SegmentIndex] = Field(default_factory=list)
    first_day: dt.date | None = Field(default=None, description="the day its first round opened (survey's zone)")
    last_day: dt.date | None = Field(default=None, description="the day its last round closed (survey's zone)")


class Audit(BaseModel):
    """One statements bank: its trust index now and by cycle, and its aspects."""

    bank_id: str
    title: str
    index: IndexPoint
    trend: list[IndexPoint] = Field(description="the index per cycle, oldest first (at most six)")
    aspects: list[AspectStat]
    strongest: list[str] = Field(description="aspects with the highest shown favourable share")
    weakest: list[str] = Field(description="aspects with the lowest shown favourable share")
    favourable_means: str = Field(
        default="", description='which answers count as favourable, e.g. "Agree or Strongly agree"'
    )


class Movement(BaseModel):
    """An item among those whose favourable share moved most since the cycle before."""

    item_id: str
    bank_id: str
    label: str
    change_pts: float
    trend: Literal["up", "down"] | None


class LevelShare(Cell):
    """Answers to one strand question over the four maturity levels.

    `favourable_pct` here is the share at Embedding or Leading (levels 3 and 4).
    """

    strand: str
    facet: Literal["now", "future"]
    segment: str | None = Field(default=None, description="None: all schools together")
    levels: dict[str, int] | None = Field(description="answers per level, beginning to leading; None when hidden")
    levels_pct: dict[str, float] | None
    median: float | None = Field(description="median level, 1-4 (x.5 between two levels)")
    median_label: str | None


class SegmentStrand(BaseModel):
    segment: str
    label: str
    now: LevelShare
    future: LevelShare
    gap: float | None


class StrandPrevious(BaseModel):
    round_seq: int
    median_now: float | None
    median_future: float | None
    gap: float | None


class StrandStat(BaseModel):
    """One strand of the maturity model: where people see it now, where it should be in a year."""

    strand: str
    bank_id: str
    label: str
    dimension: str
    round_seq: int
    cycle: int
    now: LevelShare
    future: LevelShare
    gap: float | None = Field(description="median in a year minus median now, in levels")
    previous: StrandPrevious | None = None
    median_change: float | None = Field(default=None, description="median now minus the cycle before")
    segments: list[SegmentStrand] = Field(default_factory=list)


class DimensionStat(Cell):
    """A dimension of the maturity model: its strands, and their shown answers pooled.

    `n` and `favourable_pct` (share at Embedding or Leading) are for "now".
    """

    bank_id: str
    dimension: str
    title: str
    median_now: float | None
    median_future: float | None
    gap: float | None
    included: list[str] = Field(description="strands whose shown answers are pooled")
    strands: list[StrandStat]


class Strands(BaseModel):
    bank_id: str
    title: str
    dimensions: list[DimensionStat]


class BehaviourCell(Cell):
    """How one behaviour was named in one perspective.

    `n` is how many people did the exercise in that perspective; `favourable_pct` is the share
    who named the behaviour a strength.
    """

    item_id: str
    perspective: str
    strong: int | None
    weak: int | None
    weak_pct: float | None
    net_pct: float | None = Field(description="strong minus weak, as a % of n")


class BehaviourStat(BaseModel):
    item_id: str
    label: str
    aspect: str
    cells: list[BehaviourCell]
    gap_pts: float | None = Field(description="net % in the first perspective minus the second (self minus team)")
    disagreement: int = Field(description="+1 or -1 when the two perspectives lean opposite ways, else 0")


class Behaviours(BaseModel):
    """A picks bank (trust behaviours): how often each is named strong or weak, and disagreements."""

    bank_id: str
    title: str
    round_seq: int
    perspectives: list[str]
    respondents: dict[str, int | None] = Field(
        description="people who did the exercise, per perspective; None when hidden"
    )
    suppressed: dict[str, bool]
    behaviours: list[BehaviourStat]
    named_strong: dict[str, list[str]] = Field(description="per perspective, the behaviours named strong most")
    named_weak: dict[str, list[str]]
    disagreements: list[str] = Field(description="behaviours where the perspectives lean opposite ways")


class RoundParticipation(BaseModel):
    round_seq: int
    opened_on: dt.date
    closed: bool
    audience_size: int
    answers_per_item: float | None
    rate_pct: float | None


class Participation(BaseModel):
    """Answers over audience size: the latest closed round, and the last rounds (open one included)."""

    round_seq: int | None
    audience_size: int
    answers_per_item: float | None
    rate_pct: float | None
    trend: list[RoundParticipation] = Field(default_factory=list)


class SegmentLabel(BaseModel):
    segment: str
    label: str


class Hidden(BaseModel):
    below_k: int = Field(description="figures hidden because fewer than k people stand behind them")
    complementary: int = Field(description="figures hidden so that a total cannot reveal a hidden one")
    unanimous: int = Field(default=0, description="figures hidden because a 0 % or 100 % share would tell each answer")
    note: str


class Digest(BaseModel):
    survey: int
    survey_name: str
    generated_at: dt.datetime
    k: int
    significance_test: str = Field(description="one line naming the test behind the up / down marks")
    participation: Participation
    segments: list[SegmentLabel] = Field(default_factory=list)
    audits: list[Audit] = Field(default_factory=list)
    items: list[ItemStat] = Field(description="every statement item, from the latest closed round that asked it")
    moved_most: list[Movement] = Field(
        default_factory=list, description="the largest changes since the previous cycle that are significant"
    )
    strands: list[Strands] = Field(default_factory=list)
    behaviours: list[Behaviours] = Field(default_factory=list)
    hidden: Hidden
    hidden_note: str
    # Free text, released only in batches of at least `comment_threshold` (surveys/comments.py):
    # texts only, no time, school or order of writing.
    comments: list[str] = Field(default_factory=list, description="the latest batch, in no meaningful order")
    comments_waiting: bool = Field(
        default=False, description="comments from closed rounds wait for a batch of their own (never how many)"
    )
    comment_threshold: int = Field(default=0, description="comments of at least this many people are shown together")

    @property
    def partnership(self) -> bool:
        """More than one school: show them side by side."""
        return len(self.segments) > 1
