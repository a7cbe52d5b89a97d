"""What a request from Slack must look like before Bolt is given it.

Bolt trusts the shape of what Slack sends: a `payload` that is not JSON, or a `user` that is a
number where an object belongs, ends in an exception deep inside it (an HTTP 500). The web
server checks the signature first, then reads the body the way Bolt will and checks the parts
Bolt and our listeners rely on, so anything else is turned away with a 400 before any work.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class BadRequest(ValueError):
    """Not something Slack sends: refused with a 400 and a short reason."""


class _Ref(BaseModel):
    """A user, team, channel or enterprise: an object whose id (if any) is a string."""

    model_config = ConfigDict(extra="allow")
    id: str | None = None
    team_id: str | None = None


Ref = str | _Ref | None


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str | None = None
    user: Ref = None
    channel: Ref = None
    team: Ref = None
    ts: str | None = None
    thread_ts: str | None = None


class _Action(BaseModel):
    """Bolt matches listeners on `action_id`; Slack sends one with every action."""

    model_config = ConfigDict(extra="allow")
    action_id: str
    block_id: str | None = None
    value: str | None = None


class Envelope(BaseModel):
    """The parts of an event, interaction or slash command that something downstream reads."""

    model_config = ConfigDict(extra="allow")
    type: str | None = None
    team: Ref = None
    user: Ref = None
    channel: Ref = None
    enterprise: Ref = None
    team_id: str | None = None
    user_id: str | None = None
    channel_id: str | None = None
    enterprise_id: str | None = None
    api_app_id: str | None = None
    command: str | None = None
    text: str | None = None
    trigger_id: str | None = None
    response_url: str | None = None
    thread_ts: str | None = None
    event: _Event | None = None
    # Slack never sends an interaction without its action.
    actions: list[_Action] | None = Field(default=None, min_length=1)
    authorizations: list[_Ref] | None = None
    view: dict[str, Any] | None = None
    container: dict[str, Any] | None = None
    message: dict[str, Any] | None = None
    item: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _present_means_given(cls, data: Any) -> Any:
        # Bolt reads these as objects whenever the key is there; an explicit null is not Slack's.
        if isinstance(data, dict):
            for key in ("event", "actions", "authorizations", "view", "container", "message", "item"):
                if key in data and data[key] is None:
                    raise ValueError(f"{key} is null")
        return data


def check_body(body: str, content_type: str | None) -> None:
    """Raise BadRequest unless Bolt can read `body` into a well-formed envelope.

    Mirrors how Bolt reads a body: JSON when so declared or when it looks like an object, else a
    form whose `payload` (interactions) is JSON, else a plain form (slash commands).
    """
    if not body:
        return
    try:
        if content_type == "application/json" or body.startswith("{"):
            data: Any = json.loads(body)
        else:
            form = dict(parse_qsl(body, keep_blank_values=True))
            data = json.loads(form["payload"]) if "payload" in body and "payload" in form else form
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the body is not a JSON object")
    try:
        Envelope.model_validate(data)
    except ValidationError as exc:
        where = exc.errors()[0]["loc"][:1]
        raise BadRequest(f"unexpected {where[0] if where else 'body'}") from None
