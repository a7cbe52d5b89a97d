"""What a bank is. Structural rules live in the fields; cross-references in `Bank.problems`.

A bank file (YAML, one bank per file; `pulse banks validate FILE` checks it):

    id: parents-trust            # lower-case slug, unique across built-in and custom banks
    version: 1                   # raise it whenever wording or scores change
    title: Parental trust in staff
    kind: statements             # statements | strands | picks
    intro: "Thinking about ..."  # shown once above the bank's items in a round
    scales:
      agreement:
        options:                 # in the order the buttons appear
          - {value: agree, label: Agree, score: 2, valence: favourable}
          - {value: disagree, label: Disagree, score: 1, valence: unfavourable}
    items:
      - {id: listened-to, text: "Staff listen to me.", aspect: listening, scale: agreement, reverse: false}

Item ids are what answers and trends hang on: reword `text` freely, never reuse an id for a
different question. `reverse: true` marks an item where agreeing is the unfavourable answer. A
`strands` bank lists `dimensions` and gives each item a `dimension`, a short `label` (its name) and
four `levels` (beginning, developing, embedding, leading), on a scale scored 1-4. A `picks` bank
gives `picks: {strongest, weakest, perspectives}` and a scale with options `strong` and `weak`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]
# A perspective of a picks bank is stored as a response's facet, a 16-character column.
Perspective = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=16)]
# Select-menu options and Slack option texts stop at 75 characters.
ShortLabel = Annotated[str, StringConstraints(min_length=1, max_length=75)]
ValenceName = Literal["favourable", "neutral", "unfavourable"]
VALENCE: dict[str, int] = {"favourable": 1, "neutral": 0, "unfavourable": -1}
LEVEL_NAMES = ("beginning", "developing", "embedding", "leading")
PICK_STRONG, PICK_WEAK = "strong", "weak"
STRAND_FACETS = ("now", "future")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    value: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=40)]
    # Labels become buttons, which must stay short enough for a phone.
    label: Annotated[str, StringConstraints(min_length=1, max_length=30)]
    score: int
    valence: ValenceName


class Scale(_Strict):
    options: Annotated[list[Option], Field(min_length=2, max_length=10)]

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def valences(self) -> dict[str, int]:
        """Each option's +1 / 0 / -1 before any reverse scoring, for counts-in scoring."""
        return {o.value: VALENCE[o.valence] for o in self.options}

    @property
    def bounds(self) -> tuple[int, int]:
        """The lowest and highest score, which reverse scoring swaps."""
        scores = [o.score for o in self.options]
        return min(scores), max(scores)


class Levels(_Strict):
    beginning: Annotated[str, StringConstraints(min_length=1, max_length=280)]
    developing: Annotated[str, StringConstraints(min_length=1, max_length=280)]
    embedding: Annotated[str, StringConstraints(min_length=1, max_length=280)]
    leading: Annotated[str, StringConstraints(min_length=1, max_length=280)]

    def as_list(self) -> list[tuple[str, str]]:
        return [(name, getattr(self, name)) for name in LEVEL_NAMES]


class Item(_Strict):
    id: Slug
    text: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    aspect: Slug
    scale: Slug
    reverse: bool = False
    # A short name for lists and menus (a strand's name, a behaviour's name); the text is used if absent.
    label: ShortLabel | None = None
    dimension: Slug | None = None
    levels: Levels | None = None

    @property
    def name(self) -> str:
        """The label, or the text cut to a menu's 75 characters at a word boundary."""
        if self.label:
            return self.label
        if len(self.text) <= 75:
            return self.text
        return self.text[:74].rsplit(" ", 1)[0].rstrip(" ,;:—-") + "…"


class Picks(_Strict):
    strongest: Annotated[int, Field(ge=1)]
    weakest: Annotated[int, Field(ge=1)]
    perspectives: Annotated[list[Perspective], Field(min_length=1, max_length=4)]


class Dimension(_Strict):
    id: Slug
    title: Annotated[str, StringConstraints(min_length=1, max_length=120)]


class ItemRefs(NamedTuple):
    """What an item names: itself, its scale, its dimension (any type: the file may be wrong)."""

    id: object
    scale: object
    dimension: object


def reference_problems(
    kind: object, items: Sequence[ItemRefs | None], scales: set[str] | None, dims: set[object]
) -> list[tuple[tuple[str | int, ...], str]]:
    """Names that must match across a bank: item ids unique, each scale and dimension defined.

    Checked on the loaded bank, and on the raw file when other mistakes stop it loading, so that
    one pass of `pulse banks validate` reports these too. `scales` None: the file has none to check;
    an item None: it is not a mapping at all.
    """
    found: list[tuple[tuple[str | int, ...], str]] = []
    seen: set[object] = set()
    for i, item in enumerate(items):
        if item is None:  # not even a mapping: reported as such already
            continue
        if isinstance(item.id, str):
            if item.id in seen:
                found.append((("items", i, "id"), f"duplicate item id '{item.id}'"))
            seen.add(item.id)
        if scales is not None and isinstance(item.scale, str) and item.scale not in scales:
            found.append((("items", i, "scale"), f"unknown scale '{item.scale}'"))
        if kind == "strands" and not (isinstance(item.dimension, str) and item.dimension in dims):
            found.append((("items", i, "dimension"), "a strand needs a dimension listed in 'dimensions'"))
    return found


class Bank(_Strict):
    id: Slug
    version: Annotated[int, Field(ge=1)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=150)]
    kind: Literal["statements", "picks", "strands"] = "statements"
    source: str = ""
    intro: Annotated[str, StringConstraints(max_length=300)] = ""
    scales: Annotated[dict[Slug, Scale], Field(min_length=1)]
    items: Annotated[list[Item], Field(min_length=1)]
    picks: Picks | None = None
    dimensions: list[Dimension] = []

    def problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Rules that span fields, as (location, message) pairs the loader can place on a line."""
        refs = [ItemRefs(i.id, i.scale, i.dimension) for i in self.items]
        found = reference_problems(self.kind, refs, set(self.scales), {d.id for d in self.dimensions})
        for i, item in enumerate(self.items):
            if self.kind == "strands" and item.levels is None:
                found.append((("items", i, "levels"), "a strand needs its four level descriptors"))
        for name, scale in self.scales.items():
            values = [o.value for o in scale.options]
            if len(set(values)) != len(values):
                found.append((("scales", name, "options"), "option values must be unique"))
        if self.kind == "picks":
            found.extend(self._picks_problems())
        if self.kind == "strands":
            found.extend(self._strand_scale_problems())
        return found

    def _picks_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        found: list[tuple[tuple[str | int, ...], str]] = []
        if self.picks is None:
            return [(("picks",), "a picks bank needs 'picks' (strongest, weakest, perspectives)")]
        if self.picks.strongest + self.picks.weakest > len(self.items):
            found.append((("picks",), "more picks asked for than there are items"))
        if len(set(self.picks.perspectives)) != len(self.picks.perspectives):
            found.append((("picks", "perspectives"), "perspectives must be unique"))
        if len(self.items) > 100:
            found.append((("items",), "a picks bank can list at most 100 items (a menu's limit)"))
        for i, item in enumerate(self.items):
            if item.id == self.id:
                # The bank id stands for the whole exercise in a round.
                found.append((("items", i, "id"), "an item of a picks bank cannot share the bank's id"))
            scale = self.scales.get(item.scale)
            if scale is not None and not {PICK_STRONG, PICK_WEAK} <= {o.value for o in scale.options}:
                found.append((("items", i, "scale"), "a picks bank's scale needs options 'strong' and 'weak'"))
        return found

    def _strand_scale_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        found: list[tuple[tuple[str | int, ...], str]] = []
        for name in sorted({i.scale for i in self.items if i.scale in self.scales}):
            if sorted(o.score for o in self.scales[name].options) != [1, 2, 3, 4]:
                found.append((("scales", name, "options"), "a strand scale has four levels scored 1, 2, 3 and 4"))
        return found

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)

    @property
    def exercise_id(self) -> str:
        """The round item that stands for a whole picks exercise: the bank's own id."""
        return self.id

    def exercise(self) -> Item:
        """A picks bank is put to people as one exercise, not item by item; this is its round item."""
        return Item(
            id=self.exercise_id,
            text=self.intro or self.title,
            aspect="exercise",
            scale=self.items[0].scale,
            label=self.title[:75],
        )

    def round_item_ids(self) -> list[str]:
        """What rotation deals out: the items, or the one exercise of a picks bank."""
        return [self.exercise_id] if self.kind == "picks" else [i.id for i in self.items]

    def round_item(self, item_id: str) -> Item | None:
        """The item a round's reference names, the exercise included."""
        if self.kind == "picks":
            return self.exercise() if item_id == self.exercise_id else None
        return self.item(item_id)

    def facets(self) -> tuple[str, ...]:
        """The questions one item asks: one plain answer, now and in a year, or one per perspective."""
        if self.kind == "strands":
            return STRAND_FACETS
        if self.kind == "picks" and self.picks is not None:
            return tuple(self.picks.perspectives)
        return ("",)

    def scale_of(self, item: Item) -> Scale:
        return self.scales[item.scale]

    def valence(self, item: Item, option_value: str) -> int | None:
        """+1, 0 or -1 for an answer, reverse scoring applied; None if the option is unknown."""
        option = self.scale_of(item).option(option_value)
        if option is None:
            return None
        v = VALENCE[option.valence]
        return -v if item.reverse else v
