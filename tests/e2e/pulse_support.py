"""Shared pieces for the /pulse end-to-end tests: a workspace with every role, signed requests
for modals, buttons and App Home, and a snapshot of the database to prove nothing changed."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from storage.db import Database
from storage.models import Base
from tests.e2e.conftest import LEADERS, SCHOOL_A, SCHOOL_B, STAFF_A, STAFF_B
from tests.harness import SIGNING_SECRET, Harness, signed_headers
from tests.slack_double import SlackDouble

ADMIN, OWNER, CONFIGURED, GROUPED = "UADMIN", "UOWNER", "UCONF01", "UGROUP1"
LEADER, STAFF, OUTSIDER = "UL001", STAFF_A[0], "UOUTSIDE"
COORD_GROUP = "S0COORD"
STAFF_GROUP = "S0STAFF"
COORDINATORS = (ADMIN, OWNER, CONFIGURED, GROUPED)
ROLE_USERS = {"coordinator": ADMIN, "leader": LEADER, "staff": STAFF, "outsider": OUTSIDER}
SETTINGS = {"pulse_coordinators": CONFIGURED, "pulse_coordinator_group": COORD_GROUP}


def workspace_double(**extra: Any) -> SlackDouble:
    return SlackDouble(
        channels={
            SCHOOL_A: {"name": "school-a", "members": STAFF_A},
            SCHOOL_B: {"name": "school-b", "members": STAFF_B},
            LEADERS: {"name": "leaders", "members": [LEADER, ADMIN]},
        },
        users={
            ADMIN: {"is_admin": True, "tz": "America/New_York"},
            OWNER: {"is_owner": True},
            CONFIGURED: {},
            GROUPED: {},
            LEADER: {},
            OUTSIDER: {},
            **{u: {} for u in STAFF_A + STAFF_B},
        },
        usergroups={COORD_GROUP: [GROUPED], STAFF_GROUP: STAFF_B},
        **extra,
    )


async def pulse(app: Harness, user: str, text: str, *, channel: str = "C0COORD") -> dict[str, Any]:
    """Run `/pulse text` as `user` and return the body of the reply sent to its response_url."""
    before = len(app.double.responses)
    assert await app.command(user, text, channel=channel) == 200
    await app.wait_for(lambda: len(app.double.responses) > before)
    return app.double.responses[before]["body"]


async def snapshot(app: Harness) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every product table, to compare before and after."""
    return await snapshot_db(app.db)


async def snapshot_db(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with db.session() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            out[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return out


def _payload_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


async def submit_view(
    app: Harness, user: str, view: dict[str, Any], values: dict[str, Any], *, team: str | None = None
) -> tuple[int, dict[str, Any]]:
    """Submit a modal as Slack does; returns the status and the JSON the app answered with."""
    team = team or app.double.team_id
    payload = {
        "type": "view_submission",
        "team": {"id": team, "domain": "pulse-test"},
        "user": {"id": user, "team_id": team},
        "api_app_id": "A0PULSE",
        "token": "legacy",
        "trigger_id": f"trigger-{time.monotonic_ns()}",
        "view": {
            "id": "V0MODAL",
            "team_id": team,
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "blocks": view["blocks"],
            "state": {"values": values},
            "hash": "h",
        },
        "response_urls": [],
    }
    status, text = await app.post(_payload_body(payload))
    return status, (json.loads(text) if text.strip() else {})


async def press(
    app: Harness, user: str, action_id: str, value: str, *, home: bool = False, message_ts: str = "1.0"
) -> int:
    """Press a button on an ephemeral message (with a response_url) or on the App Home tab."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": app.double.team_id},
        "user": {"id": user, "team_id": app.double.team_id},
        "api_app_id": "A0PULSE",
        "token": "legacy",
        "trigger_id": f"trigger-{time.monotonic_ns()}",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "action_ts": str(time.time()),
            }
        ],
    }
    if home:
        payload["container"] = {"type": "view", "view_id": "VHOME"}
        payload["view"] = {
            "id": "VHOME",
            "type": "home",
            "callback_id": "pulse_home",
            "blocks": [],
            "state": {"values": {}},
        }
    else:
        payload["container"] = {
            "type": "message",
            "channel_id": "C0COORD",
            "message_ts": message_ts,
            "is_ephemeral": True,
        }
        payload["channel"] = {"id": "C0COORD"}
        payload["response_url"] = app.double.response_url()
    status, _ = await app.post(_payload_body(payload))
    return status


async def open_home(app: Harness, user: str, *, team: str | None = None) -> int:
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": team or app.double.team_id,
            "api_app_id": "A0PULSE",
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"},
        }
    )
    headers = {**signed_headers(body, secret=SIGNING_SECRET), "Content-Type": "application/json"}
    status, _ = await app.post(body, headers)
    return status


def published_home(app: Harness, user: str) -> dict[str, Any] | None:
    views = [v for v in app.double.views if v["kind"] == "publish" and v["user_id"] == user]
    return views[-1]["view"] if views else None


def modal_state(view: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The state.values Slack sends for `view`: each field's initial value, or the given change.

    A change is given as the raw value: a string, a list (multi selects) or None (cleared).
    """
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        el, field = block["element"], block["block_id"]
        kind = el["type"]
        given = field in changes
        new = changes.get(field)
        if kind == "multi_static_select":
            chosen = [{"value": v} for v in new] if given else el.get("initial_options", [])
            entry: dict[str, Any] = {"selected_options": chosen}
        elif kind == "static_select":
            entry = {
                "selected_option": ({"value": new} if new is not None else None) if given else el.get("initial_option")
            }
        elif kind == "multi_conversations_select":
            entry = {"selected_conversations": new if given else el.get("initial_conversations", [])}
        elif kind == "conversations_select":
            entry = {"selected_conversation": new if given else el.get("initial_conversation")}
        elif kind == "timepicker":
            entry = {"selected_time": new if given else el.get("initial_time")}
        else:
            entry = {"value": new if given else el.get("initial_value")}
        values[field] = {el["action_id"]: {"type": kind, **entry}}
    for field, new in changes.items():
        if field not in values:  # a field the modal does not have: a forged payload
            values[field] = {"value": {"type": "plain_text_input", "value": new}}
    return values


def text_of(reply: dict[str, Any]) -> str:
    """A reply's text and its blocks' text, as one string to search."""
    return json.dumps({"text": reply.get("text", ""), "blocks": reply.get("blocks", [])}, ensure_ascii=False)
