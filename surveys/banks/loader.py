"""Reads bank YAML and reports every problem as file:line: field: message, or loads it whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from surveys.banks.model import Bank, ItemRefs, reference_problems


@dataclass(frozen=True)
class BankProblem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class BankError(Exception):
    """A bank refused, with one problem per mistake found."""

    def __init__(self, problems: list[BankProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _field_name(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(node: yaml.Node | None, loc: tuple[str | int, ...]) -> int:
    """The line of the deepest node that `loc` reaches in the YAML tree (1-based)."""
    line = 1 if node is None else node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            key, node = match
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _data_loc(data: Any, err_loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """The part of pydantic's location that is a path through the file's data.

    Validators add their own names to a location (union members, "function-after[...]"); those
    are skipped by walking the data itself, so a key of any spelling keeps its place. The last
    part is kept even when absent: it names a missing field.
    """
    path: list[str | int] = []
    node = data
    for i, part in enumerate(err_loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
        elif not (i == len(err_loc) - 1 and isinstance(node, dict)):
            continue
        path.append(part)
    return tuple(path)


def _raw_reference_problems(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    items: list[Any] = data["items"] if isinstance(data.get("items"), list) else []
    refs = [ItemRefs(i.get("id"), i.get("scale"), i.get("dimension")) if isinstance(i, dict) else None for i in items]
    scales = data.get("scales")
    dims: list[Any] = data["dimensions"] if isinstance(data.get("dimensions"), list) else []
    return reference_problems(
        data.get("kind"),
        refs,
        {str(k) for k in scales} if isinstance(scales, dict) else None,
        # Only names that could be ids: a list or mapping typed as an id is reported on its own.
        {d.get("id") for d in dims if isinstance(d, dict) and isinstance(d.get("id"), str | int | float | None)},
    )


def parse_bank(text: str, file: str = "<bank>") -> Bank:
    """Parse and validate one bank. Raises BankError listing every problem."""
    try:
        root = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise BankError([BankProblem(file, line, "", f"not valid YAML: {problem}")]) from None
    if not isinstance(data, dict):
        raise BankError([BankProblem(file, 1, "", "a bank file must be a mapping (id:, title:, items: ...)")])
    try:
        bank = Bank.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = _data_loc(data, tuple(err["loc"]))
            problems.append(BankProblem(file, _line_of(root, loc), _field_name(loc), err["msg"]))
        # The names that must match across the file are checked too, so one pass reports everything.
        placed = {p.field for p in problems}
        for loc, msg in _raw_reference_problems(data):
            if _field_name(loc) not in placed:
                problems.append(BankProblem(file, _line_of(root, loc), _field_name(loc), msg))
        problems.sort(key=lambda p: p.line)
        raise BankError(problems) from None
    extra = [BankProblem(file, _line_of(root, loc), _field_name(loc), msg) for loc, msg in bank.problems()]
    if extra:
        raise BankError(extra)
    return bank


def load_bank_file(path: Path) -> Bank:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BankError([BankProblem(str(path), 1, "", f"cannot read file: {exc}")]) from None
    return parse_bank(text, str(path))


def line_of(path: Path, *loc: str | int) -> int:
    """The line in a bank file where a field sits, for problems found after loading (1 if unknown)."""
    try:
        return _line_of(yaml.compose(path.read_text(encoding="utf-8")), loc)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return 1
