"""Bad input at /slack/events: refused with a 4xx, nothing recorded, never a 500.

Hypothesis writes the bodies (malformed, truncated, oversized, wrongly typed), signs them as
Slack would and posts them to the real app over HTTP. After every one, no table has changed.
The app runs on an event loop of its own so hypothesis can drive it from a plain test.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from storage.db import Database
from storage.models import Base
from surveys.banks import BankRegistry
from surveys.sending import drain
from tests.harness import SIGNING_SECRET, Harness, buttons_of
from tests.reliability.conftest import add_survey, open_only, options, platform_for
from tests.slack_double import SlackDouble

T = TypeVar("T")
SCHOOL = "C0SCHOOLA"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class LiveApp:
    """The real app and the Slack double, serving from a thread with its own event loop."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.run(self._start())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    async def _start(self) -> None:
        self.double = SlackDouble(channels={SCHOOL: {"members": ["UA1", "UA2"]}, "C0LEADERS": {"members": ["UL1"]}})
        await self.double.start()
        self.db = Database(self.db_url)
        banks = BankRegistry.load(None)
        platform = platform_for(self.double)
        survey = await add_survey(self.db, audience_kind="channels", audience=[SCHOOL])
        await open_only(self.db, banks, platform, survey)
        await drain(self.db, platform, banks, options=options())
        [message] = self.double.messages_in(SCHOOL)
        self.button = next(iter(buttons_of(message).values()))[0]
        self.app = Harness(self.db_url, double=self.double, banks=banks)
        await self.app.start()

    def close(self) -> None:
        async def stop() -> None:
            await self.app.stop()
            await self.double.stop()
            await self.db.dispose()

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    def post(self, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> int:
        async def go() -> int:
            assert self.app.http is not None
            sent = headers if headers is not None else signed(body)
            async with self.app.http.post(
                f"{self.app.url}/slack/events", data=body, headers={**sent, "Content-Type": content_type}
            ) as resp:
                await resp.read()
                return resp.status

        return self.run(go())

    def counts(self) -> dict[str, int]:
        async def go() -> dict[str, int]:
            async with self.db.session() as session:
                return {
                    t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
                    for t in Base.metadata.sorted_tables
                }

        return self.run(go())

    def settle(self) -> None:
        """Let anything a listener does after its ack finish before the tables are counted."""
        self.run(asyncio.sleep(0.02))


def signed(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body.decode("utf-8", "replace"))
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature or ""}


@pytest.fixture
def live(db_url: str) -> Iterator[LiveApp]:
    app = LiveApp(db_url)
    yield app
    app.close()


# -- what hypothesis writes ------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
KEYS = ["type", "user", "team", "channel", "actions", "view", "event", "container", "message", "enterprise",
        "authorizations", "trigger_id", "response_url", "team_id", "user_id", "channel_id", "command",
        "text"]  # fmt: skip
TYPES = ["block_actions", "view_submission", "view_closed", "shortcut", "message_action", "event_callback",
         "block_suggestion", "interactive_message", "url_verification", "app_rate_limited"]  # fmt: skip
INNER = ["type", "id", "callback_id", "state", "values", "private_metadata", "user", "channel", "ts", "action_id",
         "block_id", "value", "selected_option", "hash", "external_id", "team_id"]  # fmt: skip
# Objects shaped like Slack's (a view, an event, an action), with anything inside them.
slackish = st.dictionaries(st.sampled_from(INNER), json_values | st.dictionaries(st.sampled_from(INNER), json_values))
payloads = st.dictionaries(st.sampled_from(KEYS), json_values | slackish | st.lists(slackish, max_size=2), max_size=8)
payloads = payloads.flatmap(lambda d: st.sampled_from(TYPES).map(lambda t: {**d, "type": t}) | st.just(d))


@st.composite
def broken_clicks(draw: st.DrawFn, button: dict[str, Any]) -> dict[str, Any]:
    """A real answer click with one part broken: its value, its action, or who and where it came from."""
    value = button["value"]
    click: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T0001"},
        "user": {"id": "UA1", "team_id": "T0001"},
        "channel": {"id": SCHOOL},
        "actions": [{"type": "button", "action_id": button["action_id"], "block_id": "b", "value": value}],
    }
    part = draw(st.sampled_from(["value", "actions", "user", "team", "channel"]))
    if part == "value":
        bad = draw(
            st.one_of(
                st.integers(0, len(value) - 1).map(lambda n: value[:n]),  # truncated
                json_values.filter(lambda v: not isinstance(v, str)),  # wrongly typed
                st.text(max_size=40).filter(lambda v: v != value),
                st.just(json.dumps({**json.loads(value), "r": "one"})),
                st.just(json.dumps({**json.loads(value), "o": 7})),
            )
        )
        click["actions"][0]["value"] = bad
    elif part == "actions":
        click["actions"] = draw(json_values.filter(lambda v: not (isinstance(v, list) and v)))
    else:
        click[part] = draw(st.one_of(st.integers(), st.lists(st.text(max_size=3), max_size=2), st.booleans()))
    return click


def _encodings(payload: Any, cut: int | None) -> list[tuple[bytes, str]]:
    text = json.dumps(payload)
    if cut is not None:
        text = text[: cut % max(1, len(text))]  # truncated on the way
    return [(urlencode({"payload": text}).encode(), FORM), (text.encode(), JSON)]


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(payload=payloads, cut=st.none() | st.integers(min_value=0))
def test_malformed_payloads_get_a_4xx_or_are_ignored_and_record_nothing(
    live: LiveApp, payload: dict[str, Any], cut: int | None
) -> None:
    before = live.counts()
    for body, ctype in _encodings(payload, cut):
        assert live.post(body, ctype) < 500
    live.settle()
    assert live.counts() == before


@FUZZ
@given(data=st.data(), cut=st.none() | st.integers(min_value=0))
def test_broken_answer_clicks_record_nothing(live: LiveApp, data: st.DataObject, cut: int | None) -> None:
    before = live.counts()
    click = data.draw(broken_clicks(live.button))
    for body, ctype in _encodings(click, cut):
        assert live.post(body, ctype) < 500
    live.settle()
    assert live.counts() == before


@FUZZ
@given(
    fields=st.dictionaries(
        st.sampled_from(["command", "text", "user_id", "channel_id", "team_id", "trigger_id", "response_url"]),
        st.text(max_size=30),
        max_size=7,
    ),
    raw=st.binary(max_size=200),
)
def test_wrongly_typed_and_undecodable_forms_are_refused(live: LiveApp, fields: dict[str, str], raw: bytes) -> None:
    before = live.counts()
    assert live.post(urlencode(fields).encode(), FORM) < 500
    # Bytes that are not UTF-8 cannot carry Slack's signature: refused before anything reads them.
    assert live.post(raw, FORM) in ((401,) if not _utf8(raw) else (200, 400, 401, 404))
    live.settle()
    assert live.counts() == before


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_a_real_click_still_counts(live: LiveApp) -> None:
    """The control: the same machinery records a well-formed click (so 'nothing recorded' means something)."""
    click = {
        "type": "block_actions",
        "team": {"id": "T0001"},
        "user": {"id": "UA1", "team_id": "T0001"},
        "channel": {"id": SCHOOL},
        "actions": [{"type": "button", "action_id": live.button["action_id"], "value": live.button["value"]}],
    }
    assert live.post(urlencode({"payload": json.dumps(click)}).encode(), FORM) == 200
    live.run(live.app.wait_for(lambda: len(live.double.ephemerals) == 1))
    assert live.counts()["held_answers"] == 1


def test_oversized_bodies_are_refused(live: LiveApp) -> None:
    before = live.counts()
    body = urlencode({"payload": json.dumps({"type": "block_actions", "text": "x" * 2_000_000})}).encode()
    assert live.post(body, FORM) == 413
    assert live.counts() == before


def test_forged_and_stale_requests_are_refused_before_anything_reads_them(live: LiveApp) -> None:
    before = live.counts()
    calls = len(live.double.calls)
    # Bodies that would crash a parser: a 401 (not a 400) shows the signature was checked first.
    for body in (b"payload=%7Bnot json", b'{"type": ', json.dumps({"type": "block_actions"}).encode()):
        assert live.post(body, FORM, signed(body, secret="not-the-secret")) == 401
        assert live.post(body, FORM, signed(body, timestamp=int(time.time()) - 6 * 60)) == 401
        assert live.post(body, FORM, {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=0"}) == 401
        assert live.post(body, FORM, {}) == 401
    live.settle()
    assert live.counts() == before
    assert len(live.double.calls) == calls  # no listener ran: nothing was said to Slack either


command_words = st.sampled_from(
    ["help", "surveys", "new", "edit", "pause", "resume", "delete", "send-now", "digest-now", "banks", "status",
     "results", "holidays", "add", "list", "remove", "all", "1", "#1", "0", "99999999999", "2026-02-16", "2026-13-40"]
) | st.text(max_size=8)  # fmt: skip


@FUZZ
@given(st.lists(command_words, max_size=6).map(" ".join))
def test_pulse_commands_from_someone_who_is_not_a_coordinator_change_nothing(live: LiveApp, text: str) -> None:
    before = live.counts()
    body = urlencode(
        {
            "command": "/pulse",
            "text": text,
            "user_id": "UA2",
            "channel_id": SCHOOL,
            "team_id": "T0001",
            "trigger_id": f"trigger-{time.monotonic_ns()}",
            "response_url": f"{live.double.url}/response_url/R0FUZZ",
        }
    )
    assert live.post(body.encode(), FORM) < 500
    live.settle()
    assert live.counts() == before
