"""The bank loader, fuzzed: whatever a coordinator's YAML holds, the answer is a bank or a BankError.

A BankError names, for every problem, the file, a line inside it, and (whenever the file was a
mapping at all) the field: enough to go and fix it.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from surveys.banks import BUILTIN_DIR, Bank, BankError, parse_bank

BUILTIN = {p.stem: p.read_text(encoding="utf-8") for p in sorted(BUILTIN_DIR.glob("*.yaml"))}
FILE = "banks/custom.yaml"

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Each example dumps and re-reads a whole bank: fewer of them.
FUZZ_BANKS = settings(FUZZ, max_examples=40)


def check(text: str) -> Bank | None:
    """Parse; on refusal, check every problem can be acted on. Anything but BankError fails the test."""
    try:
        return parse_bank(text, FILE)
    except BankError as exc:
        assert exc.problems, "a refusal without a reason"
        # YAML (and editors) break lines at \r\n, \r, \n and the Unicode line breaks, not just \n.
        lines = len(re.findall("\r\n|[\r\n\x85\u2028\u2029]", text)) + 1
        try:
            is_mapping = isinstance(yaml.safe_load(text), dict)
        except yaml.YAMLError:
            is_mapping = False
        for problem in exc.problems:
            assert problem.file == FILE
            assert 1 <= problem.line <= lines, (problem, lines)
            assert problem.message
            if is_mapping:
                assert problem.field, problem
            assert str(problem).startswith(f"{FILE}:{problem.line}: ")
        return None


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_banks(draw: st.DrawFn) -> str:
    """A built-in bank with a few parts removed, retyped or added, written back as YAML."""
    data = yaml.safe_load(BUILTIN[draw(st.sampled_from(sorted(BUILTIN)))])
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["delete", "replace", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(values)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(values)
        else:
            parent.append(copy.deepcopy(draw(values)))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@FUZZ
@given(st.text(max_size=400))
@example("\r\t")  # a lone carriage return is a line break to YAML: the problem is on line 2
@example("0[:")  # a key that looks like a validator's name still names its field
def test_any_text_is_a_bank_or_a_bank_error(text: str) -> None:
    check(text)


@FUZZ_BANKS
@given(mutated_banks())
def test_broken_banks_are_refused_with_file_line_and_field(text: str) -> None:
    check(text)


@FUZZ_BANKS
@given(st.sampled_from(sorted(BUILTIN)), st.data())
def test_truncated_or_spliced_bank_files(name: str, data: st.DataObject) -> None:
    text = BUILTIN[name]
    cut = data.draw(st.integers(0, len(text)))
    insert = data.draw(st.text(max_size=20))
    check(text[:cut])
    check(text[:cut] + insert + text[cut:])


def test_the_builtin_banks_themselves_pass() -> None:
    assert all(check(text) is not None for text in BUILTIN.values())
