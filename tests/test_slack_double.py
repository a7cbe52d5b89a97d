"""Tests for the Slack Web API double, driven by the real slack_sdk AsyncWebClient."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
import pytest_asyncio
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_double import Limits, SlackDouble, ts_key, validate_blocks, validate_view

USERS = {
    "U1": {"name": "ada", "is_admin": True, "tz": "America/New_York"},
    "U2": {"name": "bob"},
    "U3": {"name": "cy", "is_owner": True},
}
CHANNELS = {
    "C0001": {"name": "general", "members": ["U1", "U2", "U3"]},
    "C0ARCH": {"name": "old", "is_archived": True},
}


def button(text: str = "Go", **extra) -> dict:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": "go", **extra}


def section(text: str = "hello") -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest_asyncio.fixture
async def slack():
    async with SlackDouble(users=USERS, channels=CHANNELS, usergroups={"S1": ["U1", "U2"]}) as double:
        yield double


@pytest.fixture
def client(slack: SlackDouble) -> AsyncWebClient:
    return AsyncWebClient(token=slack.token, base_url=f"{slack.url}/api/")


async def api_error(coro) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await coro
    return info.value


# --------------------------------------------------------------------------- basics


@pytest.mark.asyncio
async def test_post_message_is_recorded_and_readable_via_history(slack: SlackDouble, client: AsyncWebClient):
    blocks = [section("*hi*"), {"type": "actions", "elements": [button(value="v1")]}]
    metadata = {"event_type": "pulse_sent", "event_payload": {"survey": 7}}
    first = await client.chat_postMessage(channel="C0001", text="hi", blocks=blocks, metadata=metadata)
    second = await client.chat_postMessage(channel="#general", text="again", thread_ts=first["ts"])
    third = await client.chat_postMessage(channel="C0001", text="third")

    assert first["ok"] and first["channel"] == "C0001"
    assert ts_key(first["ts"]) < ts_key(second["ts"]) < ts_key(third["ts"])
    assert [m["text"] for m in slack.messages_in("C0001")] == ["hi", "again", "third"]
    posted = slack.messages[0]
    assert posted["blocks"] == blocks and posted["metadata"] == metadata and posted["thread_ts"] is None
    assert slack.messages[1]["thread_ts"] == first["ts"]
    assert [c.method for c in slack.calls] == ["chat.postMessage"] * 3
    assert slack.calls[0].args["channel"] == "C0001" and slack.calls[0].ok

    # newest first, thread replies excluded, metadata only on request
    history = await client.conversations_history(channel="C0001")
    assert [m["text"] for m in history["messages"]] == ["third", "hi"]
    assert "metadata" not in history["messages"][1]
    assert history["messages"][1]["reply_count"] == 1
    history = await client.conversations_history(channel="C0001", include_all_metadata=True, limit=1)
    assert [m["text"] for m in history["messages"]] == ["third"] and history["has_more"]
    page2 = await client.conversations_history(
        channel="C0001", include_all_metadata=True, limit=1, cursor=history["response_metadata"]["next_cursor"]
    )
    assert page2["messages"][0]["metadata"] == metadata and not page2["has_more"]
    replies = await client.conversations_replies(channel="C0001", ts=first["ts"])
    assert [m["text"] for m in replies["messages"]] == ["hi", "again"]


@pytest.mark.asyncio
async def test_update_delete_and_ephemeral(slack: SlackDouble, client: AsyncWebClient):
    posted = await client.chat_postMessage(channel="C0001", text="v1")
    await client.chat_update(channel="C0001", ts=posted["ts"], text="v2", blocks=[section("v2")])
    assert slack.messages_in("C0001")[0]["text"] == "v2" and slack.updates[0]["blocks"] == [section("v2")]
    await client.chat_delete(channel="C0001", ts=posted["ts"])
    assert slack.messages_in("C0001") == [] and slack.messages_in("C0001", include_deleted=True)[0]["deleted"]
    err = await api_error(client.chat_delete(channel="C0001", ts=posted["ts"]))
    assert err.response["error"] == "message_not_found"

    await client.chat_postEphemeral(channel="C0001", user="U2", text="psst", blocks=[section("psst")])
    assert slack.ephemerals == [
        {
            "channel": "C0001",
            "user": "U2",
            "text": "psst",
            "blocks": [section("psst")],
            "attachments": None,
            "thread_ts": None,
            "message_ts": slack.ephemerals[0]["message_ts"],
        }
    ]
    assert slack.messages == [slack.messages[0]]  # ephemeral messages are not channel messages


@pytest.mark.asyncio
async def test_bad_or_missing_token_rejected(slack: SlackDouble):
    bad = AsyncWebClient(token="xoxb-wrong", base_url=f"{slack.url}/api/")
    err = await api_error(bad.chat_postMessage(channel="C0001", text="hi"))
    assert err.response.status_code == 200 and err.response["error"] == "invalid_auth"
    anonymous = AsyncWebClient(token=None, base_url=slack.api_url)
    err = await api_error(anonymous.auth_test())
    assert err.response["error"] == "not_authed"
    assert slack.messages == []
    assert [c.error for c in slack.calls] == ["invalid_auth", "not_authed"]


@pytest.mark.asyncio
async def test_form_encoded_body_with_token_param_and_json_string_blocks(slack: SlackDouble):
    blocks = '[{"type": "section", "text": {"type": "plain_text", "text": "form"}}]'
    async with aiohttp.ClientSession() as http:
        resp = await http.post(
            f"{slack.url}/api/chat.postMessage",
            data={"token": slack.token, "channel": "C0001", "text": "f", "blocks": blocks},
        )
        body = await resp.json()
        assert body["ok"], body
        resp = await http.post(
            f"{slack.url}/api/chat.postMessage",
            data={"token": slack.token, "channel": "C0001", "blocks": "[not json"},
        )
        assert (await resp.json())["error"] == "invalid_blocks_format"
        resp = await http.post(f"{slack.url}/api/nope.method", data={"token": slack.token})
        assert (await resp.json()) == {"ok": False, "error": "unknown_method"}
    assert slack.messages[0]["blocks"][0]["text"]["text"] == "form"
    assert "token" not in slack.calls[0].args


# --------------------------------------------------------------------------- validation


@pytest.mark.asyncio
async def test_51_blocks_rejected_with_invalid_blocks(slack: SlackDouble, client: AsyncWebClient):
    err = await api_error(client.chat_postMessage(channel="C0001", text="x", blocks=[section()] * 51))
    assert err.response["error"] == "invalid_blocks"
    assert "no more than 50 items allowed" in err.response["response_metadata"]["messages"][0]
    assert slack.messages == []
    assert slack.calls_to("chat.postMessage")[0].error == "invalid_blocks"
    ok = await client.chat_postMessage(channel="C0001", text="x", blocks=[section()] * 50)
    assert ok["ok"]


@pytest.mark.asyncio
async def test_76_char_button_text_rejected(slack: SlackDouble, client: AsyncWebClient):
    blocks = [{"type": "actions", "elements": [button("x" * 76)]}]
    err = await api_error(client.chat_postMessage(channel="C0001", text="x", blocks=blocks))
    assert err.response["error"] == "invalid_blocks"
    assert err.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"
    ]
    assert slack.messages == []


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
async def test_message_level_errors(slack: SlackDouble, client: AsyncWebClient):
    cases = [
        ({"channel": "CBAD123", "text": "x"}, "channel_not_found"),
        ({"channel": "C0001"}, "no_text"),
        ({"channel": "C0001", "text": "x" * 40001}, "msg_too_long"),
        ({"channel": "C0ARCH", "text": "x"}, "is_archived"),
        ({"channel": "C0001", "text": "x", "metadata": {"event_payload": {}}}, "invalid_metadata_format"),
    ]
    for kwargs, error in cases:
        err = await api_error(client.chat_postMessage(**kwargs))
        assert err.response["error"] == error, kwargs
    assert slack.messages == []
    assert (await client.chat_postMessage(channel="C0001", text="x" * 40000))["ok"]


@pytest.mark.asyncio
async def test_strict_channels_accept_configured_and_opened_dms_only():
    async with SlackDouble(channels=CHANNELS, accept_any_channel=False) as slack:
        client = slack.client()
        err = await api_error(client.chat_postMessage(channel="C9999", text="x"))
        assert err.response["error"] == "channel_not_found"
        opened = await client.conversations_open(users="U2")
        await client.chat_postMessage(channel=opened["channel"]["id"], text="dm")
        await client.chat_postMessage(channel="general", text="by name")
        assert [m["channel"] for m in slack.messages] == [opened["channel"]["id"], "C0001"]


def test_validate_blocks_is_pure_and_reports_documented_limits():
    assert validate_blocks([section(), {"type": "divider"}]) == []
    assert validate_blocks([section()] * 100, surface="modal") == []
    assert validate_blocks([section()] * 100, surface="home") == []
    assert validate_blocks([section()] * 101, surface="modal") == [
        "[ERROR] no more than 100 items allowed [json-pointer:/blocks]"
    ]

    def one(block: dict) -> str:
        errors = validate_blocks([block])
        assert len(errors) == 1, errors
        return errors[0]

    assert "less than 3001" in one(section("x" * 3001))
    assert validate_blocks([section("x" * 3000)]) == []
    assert "less than 151" in one({"type": "header", "text": {"type": "plain_text", "text": "h" * 151}})
    assert "no more than 10 items" in one({"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11})
    assert "no more than 25 items" in one({"type": "actions", "elements": [button()] * 26})
    assert validate_blocks([{"type": "actions", "elements": [button()] * 25}]) == []
    assert "/block_id" in one({**section(), "block_id": "b" * 256})
    assert "/action_id" in one({"type": "actions", "elements": [button(action_id="a" * 256)]})
    assert "/value" in one({"type": "actions", "elements": [button(value="v" * 2001)]})
    assert "more than 0 characters" in one(section(""))
    assert "unsupported type" in one({"type": "bogus"})
    assert validate_blocks("nope") == ["[ERROR] must be an array [json-pointer:/blocks]"]


def test_validate_view():
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Pulse"}, "blocks": [section()]}
    assert validate_view(modal, surface="modal") == []
    assert validate_view({**modal, "title": {"type": "plain_text", "text": "t" * 25}})
    with_input = {
        **modal,
        "blocks": [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Q"},
                "element": {"type": "plain_text_input", "action_id": "a"},
            }
        ],
    }
    assert any("submit" in e for e in validate_view(with_input))
    assert validate_view({"type": "home", "blocks": [section()] * 100}, surface="home") == []
    assert validate_view(modal, surface="home")


# --------------------------------------------------------------------------- rate limits


@pytest.mark.asyncio
async def test_per_channel_limit_returns_429_and_sdk_retry_handler_recovers(slack: SlackDouble):
    slack.limits.per_channel_per_second = 1.0
    slack.limits.burst = 1
    plain = slack.client()
    await plain.chat_postMessage(channel="C0001", text="one")
    err = await api_error(plain.chat_postMessage(channel="C0001", text="two"))
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] == "1"
    assert err.response["error"] == "ratelimited"
    # a different channel has its own bucket
    await plain.chat_postMessage(channel="C0002", text="elsewhere")

    retrying = slack.client(retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
    started = time.monotonic()
    ok = await retrying.chat_postMessage(channel="C0001", text="three")
    assert ok["ok"] and time.monotonic() - started >= 0.9

    statuses = [c.status for c in slack.calls_to("chat.postMessage")]
    assert statuses.count(429) >= 2 and statuses[-1] == 200
    assert [m["text"] for m in slack.messages_in("C0001")] == ["one", "three"]  # 429s never recorded as posted


def test_limits_are_deterministic_token_buckets():
    now = [0.0]
    limits = Limits(per_channel_per_second=1.0, burst=2, workspace_per_second=3.0, clock=lambda: now[0])
    assert limits.admit("chat.postMessage", "C1") is None
    assert limits.admit("chat.postMessage", "C1") is None
    assert limits.admit("chat.postMessage", "C1") == 1  # burst exhausted
    assert limits.admit("chat.postMessage", "C2") is None  # workspace bucket: 3 tokens, 3 used
    assert limits.admit("chat.postMessage", "C3") == 1  # workspace exhausted; C3 untouched
    now[0] = 0.5
    assert limits.admit("chat.postMessage", "C3") is None
    assert limits.admit("chat.postMessage", "C1") == 1  # needs 0.5 s more -> ceil -> 1

    per_minute = Limits(method_per_minute={"users.list": 20}, clock=lambda: now[0])
    now[0] = 0.0
    assert [per_minute.admit("users.list") for _ in range(20)] == [None] * 20
    assert per_minute.admit("users.list") == 3  # 1 token per 3 s
    assert per_minute.admit("users.info") is None  # not limited
    tiers = Limits().use_documented_tiers()
    assert tiers.method_per_minute["users.list"] == 20 and tiers.method_per_minute["views.publish"] == 100


# --------------------------------------------------------------------------- faults


@pytest.mark.asyncio
async def test_fail_next_returns_500_then_recovers(slack: SlackDouble, client: AsyncWebClient):
    slack.faults.fail_next("chat.postMessage", 1)
    err = await api_error(client.chat_postMessage(channel="C0001", text="x"))
    assert err.response.status_code == 500
    assert slack.messages == []
    assert (await client.chat_postMessage(channel="C0001", text="x"))["ok"]
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [500, 200]


@pytest.mark.asyncio
async def test_rate_limit_next_drop_after_accept_and_wildcards(slack: SlackDouble, client: AsyncWebClient):
    slack.faults.rate_limit_next("users.info", 1, retry_after=7)
    err = await api_error(client.users_info(user="U1"))
    assert err.response.status_code == 429 and err.response.headers["Retry-After"] == "7"

    slack.faults.drop_after_accept_next("chat.postMessage", 1)
    err = await api_error(client.chat_postMessage(channel="C0001", text="lost ack"))
    assert err.response.status_code == 500
    assert [m["text"] for m in slack.messages_in("C0001")] == ["lost ack"]  # Slack did accept it

    slack.faults.fail_next("*", 1, status=200, error="fatal_error")
    err = await api_error(client.team_info())
    assert err.response["error"] == "fatal_error"
    assert (await client.team_info())["team"]["id"] == "T0001"


@pytest.mark.asyncio
async def test_timeout_next_holds_request_and_stop_releases_it():
    slack = SlackDouble()
    await slack.start()
    slack.faults.timeout_next("auth.test", 1)
    client = slack.client(timeout=0.3)
    with pytest.raises((asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        await client.auth_test()
    assert slack.calls_to("auth.test")[0].status == 504
    started = time.monotonic()
    await slack.stop()
    assert time.monotonic() - started < 1.5


@pytest.mark.asyncio
async def test_random_429_storm_is_reproducible(slack: SlackDouble):
    async def pattern() -> list[int]:
        slack.reset()
        slack.faults.random_429("auth.test", 0.5, seed=42)
        headers = {"Authorization": f"Bearer {slack.token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            statuses = []
            for _ in range(20):
                async with http.post(f"{slack.url}/api/auth.test") as resp:
                    statuses.append(resp.status)
        return statuses

    first, second = await pattern(), await pattern()
    assert first == second and 429 in first and 200 in first
    assert [c.status for c in slack.calls] == second


@pytest.mark.asyncio
async def test_slow_fault_delays(slack: SlackDouble, client: AsyncWebClient):
    slack.faults.slow("auth.test", 0.2)
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started >= 0.19


# --------------------------------------------------------------------------- conversations / users / groups


@pytest.mark.asyncio
async def test_conversations_open_returns_stable_d_ids(slack: SlackDouble, client: AsyncWebClient):
    a = (await client.conversations_open(users="U1,U2"))["channel"]["id"]
    b = await client.conversations_open(users=["U2", "U1"])
    c = (await client.conversations_open(users="U1"))["channel"]["id"]
    assert a.startswith("D") and c.startswith("D")
    assert b["channel"]["id"] == a and b["already_open"] and a != c
    assert slack.dms[c] == ["U1"]
    assert SlackDouble.dm_id(["U1"]) == c  # stable across doubles/runs
    info = await client.conversations_info(channel=c)
    assert info["channel"]["is_im"] and info["channel"]["user"] == "U1"
    # posting to a user id lands in the DM channel
    posted = await client.chat_postMessage(channel="U1", text="hey")
    assert posted["channel"] == c and slack.messages_in(c)[0]["text"] == "hey"


@pytest.mark.asyncio
async def test_users_members_and_usergroups(slack: SlackDouble, client: AsyncWebClient):
    ada = (await client.users_info(user="U1"))["user"]
    assert ada["is_admin"] and ada["tz"] == "America/New_York" and ada["tz_offset"] in (-18000, -14400)
    plain = (await client.users_info(user="U777"))["user"]
    assert plain["tz"] == "Europe/London" and not plain["is_admin"] and not plain["is_owner"]
    err = await api_error(client.users_info(user="UBAD1"))
    assert err.response["error"] == "user_not_found"

    ids = []
    async for page in await client.users_list(limit=2):
        ids += [m["id"] for m in page["members"]]
    assert ids == ["U1", "U2", "U3"]
    members = []
    async for page in await client.conversations_members(channel="C0001", limit=2):
        members += page["members"]
    assert members == ["U1", "U2", "U3"]
    assert len(slack.calls_to("conversations.members")) == 2

    assert (await client.usergroups_users_list(usergroup="S1"))["users"] == ["U1", "U2"]
    groups = (await client.usergroups_list(include_users=True))["usergroups"]
    assert groups[0]["id"] == "S1" and groups[0]["users"] == ["U1", "U2"]
    err = await api_error(client.usergroups_users_list(usergroup="S404"))
    assert err.response["error"] == "no_such_subteam"


# --------------------------------------------------------------------------- files / views / response_url


@pytest.mark.asyncio
async def test_files_upload_v2_end_to_end(slack: SlackDouble, client: AsyncWebClient):
    result = await client.files_upload_v2(channel="C0001", content=b"png bytes", filename="x.png", title="Chart")
    assert result["file"]["title"] == "Chart" and result["file"]["size"] == 9
    assert slack.files == [
        {
            "id": result["file"]["id"],
            "title": "Chart",
            "filename": "x.png",
            "length": 9,
            "content": b"png bytes",
            "channel_id": "C0001",
            "channels": ["C0001"],
            "initial_comment": None,
            "thread_ts": None,
            "alt_txt": None,
            "snippet_type": None,
        }
    ]
    assert [c.method for c in slack.calls] == [
        "files.getUploadURLExternal",
        "upload_url",
        "files.completeUploadExternal",
    ]
    err = await api_error(client.files_completeUploadExternal(files=[{"id": "F404", "title": "t"}]))
    assert err.response["error"] == "file_not_found"


@pytest.mark.asyncio
async def test_views_publish_open_update_recorded(slack: SlackDouble, client: AsyncWebClient):
    home = {"type": "home", "blocks": [section("home")]}
    published = await client.views_publish(user_id="U1", view=home)
    assert slack.views[0] == {"kind": "publish", "user_id": "U1", "view_id": published["view"]["id"], "view": home}

    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Pulse"}, "blocks": [section()]}
    opened = await client.views_open(trigger_id="123.456", view=modal)
    await client.views_update(view_id=opened["view"]["id"], hash=opened["view"]["hash"], view=modal)
    err = await api_error(client.views_update(view_id=opened["view"]["id"], hash="stale", view=modal))
    assert err.response["error"] == "hash_conflict"
    err = await api_error(client.views_open(trigger_id="123.456", view={**modal, "blocks": [section()] * 101}))
    assert err.response["error"] == "invalid_arguments"
    assert (
        "no more than 100 items allowed [json-pointer:/view/blocks]" in err.response["response_metadata"]["messages"][0]
    )
    assert [v["kind"] for v in slack.views] == ["publish", "open", "update"]


@pytest.mark.asyncio
async def test_response_url_records_bodies(slack: SlackDouble):
    url = slack.response_url()
    assert url.startswith(f"{slack.url}/response_url/") and slack.response_url() != url
    async with aiohttp.ClientSession() as http, http.post(url, json={"text": "done", "replace_original": True}) as r:
        assert r.status == 200
    assert slack.responses[0]["body"] == {"text": "done", "replace_original": True}
    assert slack.responses[0]["url"] == url


# --------------------------------------------------------------------------- scale / lifecycle


@pytest.mark.asyncio
async def test_high_concurrency_unique_monotonic_ts(slack: SlackDouble):
    total, in_flight = 1500, 64
    channels = [f"C{i:04d}" for i in range(10)]
    slack.faults.slow("chat.postMessage", 0.005)  # make handlers overlap so in-flight is observable
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = AsyncWebClient(token=slack.token, base_url=slack.api_url, session=session)
        gate = asyncio.Semaphore(in_flight)

        async def post(i: int) -> str:
            async with gate:
                return (await client.chat_postMessage(channel=channels[i % 10], text=str(i)))["ts"]

        started = time.monotonic()
        stamps = await asyncio.gather(*(post(i) for i in range(total)))
        elapsed = time.monotonic() - started
    assert len(set(stamps)) == total
    keys = [ts_key(m["ts"]) for m in slack.messages]
    assert keys == sorted(keys)
    assert sum(len(slack.messages_in(c)) for c in channels) == total
    assert slack.max_in_flight >= in_flight // 2, slack.max_in_flight
    assert elapsed < 6, elapsed


@pytest.mark.asyncio
async def test_reset_and_wrong_base_url_hint(slack: SlackDouble, client: AsyncWebClient):
    await client.chat_postMessage(channel="C0001", text="x")
    slack.faults.fail_next("auth.test", 5)
    slack.reset()
    assert slack.calls == [] and slack.messages == [] and slack.messages_in("C0001") == []
    assert (await client.auth_test())["ok"]  # faults cleared too
    wrong = AsyncWebClient(token=slack.token, base_url=slack.url)  # forgot the /api/ suffix
    err = await api_error(wrong.auth_test())
    assert err.response.status_code == 404 and "/api/" in err.response["hint"]


def test_double_requires_start_for_url():
    double = SlackDouble()
    with pytest.raises(RuntimeError):
        _ = double.url
