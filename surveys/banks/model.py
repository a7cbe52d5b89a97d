"""What a bank is. Structural rules live in the fields; cross-references in `Bank.problems`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]
ValenceName = Literal["favourable", "neutral", "unfavourable"]
VALENCE: dict[str, int] = {"favourable": 1, "neutral": 0, "unfavourable": -1}
LEVEL_NAMES = ("beginning", "developing", "embedding", "leading")


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
    dimension: Slug | None = None
    levels: Levels | None = None


class Picks(_Strict):
    strongest: Annotated[int, Field(ge=1)]
    weakest: Annotated[int, Field(ge=1)]
    perspectives: Annotated[list[Slug], Field(min_length=1)]


class Dimension(_Strict):
    id: Slug
    title: Annotated[str, StringConstraints(min_length=1, max_length=120)]


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
        found: list[tuple[tuple[str | int, ...], str]] = []
        seen: set[str] = set()
        dims = {d.id for d in self.dimensions}
        for i, item in enumerate(self.items):
            if item.id in seen:
                found.append((("items", i, "id"), f"duplicate item id '{item.id}'"))
            seen.add(item.id)
            if item.scale not in self.scales:
                found.append((("items", i, "scale"), f"unknown scale '{item.scale}'"))
            if self.kind == "strands":
                if item.dimension is None or item.dimension not in dims:
                    found.append((("items", i, "dimension"), "a strand needs a dimension listed in 'dimensions'"))
                if item.levels is None:
                    found.append((("items", i, "levels"), "a strand needs its four level descriptors"))
        for name, scale in self.scales.items():
            values = [o.value for o in scale.options]
            if len(set(values)) != len(values):
                found.append((("scales", name, "options"), "option values must be unique"))
        if self.kind == "picks" and self.picks is None:
            found.append((("picks",), "a picks bank needs 'picks' (strongest, weakest, perspectives)"))
        if self.kind == "picks" and self.picks and self.picks.strongest + self.picks.weakest > len(self.items):
            found.append((("picks",), "more picks asked for than there are items"))
        return found

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)

    def scale_of(self, item: Item) -> Scale:
        return self.scales[item.scale]

    def valence(self, item: Item, option_value: str) -> int | None:
        """+1, 0 or -1 for an answer, reverse scoring applied; None if the option is unknown."""
        option = self.scale_of(item).option(option_value)
        if option is None:
            return None
        v = VALENCE[option.valence]
        return -v if item.reverse else v
