"""A local, real-HTTP double of Slack's Web API for tests.

The real ``slack_sdk`` ``AsyncWebClient`` talks to it over TCP::

    async with SlackDouble() as slack:
        client = AsyncWebClient(token=slack.token, base_url=f"{slack.url}/api/")
        await client.chat_postMessage(channel="C0001", text="hi")
        assert slack.messages_in("C0001")[0]["text"] == "hi"

See ``tests/slack_double/__init__.py`` for the overview.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import contextlib
import hashlib
import json
import mimetypes
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import BodyPartReader, web

from .blocks import MAX_MESSAGE_TEXT, validate_blocks, validate_view
from .faults import Faults, OneShotFault
from .limits import Limits

TS_BASE = 1_700_000_000
DEFAULT_TZ = "Europe/London"
_JSON_ARG_KEYS = ("blocks", "attachments", "metadata", "view", "files")
_MAX_ATTACHMENTS = 100
_MAX_DM_USERS = 8


@dataclass(slots=True)
class Call:
    """One request the double received (recorded whatever the outcome)."""

    method: str
    args: dict[str, Any]
    status: int
    ok: bool
    error: str | None
    at: float
    retry_after: int | None = None


class _ApiError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class _BadBody(Exception):
    pass


class _ChannelLog:
    """Per-channel message index (no scans over all messages)."""

    __slots__ = ("by_ts", "keys", "posted", "threads")

    def __init__(self) -> None:
        self.posted: list[dict] = []  # every accepted message, post order (append-only)
        self.keys: list[int] = []  # sorted ts keys of history-visible live messages
        self.by_ts: dict[str, dict] = {}  # live messages (top-level and replies)
        self.threads: dict[str, list[str]] = {}  # parent ts -> reply ts (post order)


def ts_key(ts: Any) -> int:
    """``"1700000000.000100"`` -> integer microseconds (exact, sortable)."""
    if not isinstance(ts, str | int | float):
        raise ValueError(ts)
    sec, _, frac = str(ts).partition(".")
    if not sec.isdigit() or (frac and not frac.isdigit()):
        raise ValueError(ts)
    return int(sec) * 1_000_000 + int((frac + "000000")[:6])


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True", "TRUE")


def _enc_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(f"c:{value}".encode()).decode()


def _dec_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise _ApiError("invalid_cursor") from None
    if not raw.startswith("c:"):
        raise _ApiError("invalid_cursor")
    return raw[2:]


def _limit(args: dict, default: int, maximum: int = 1000) -> int:
    raw = args.get("limit")
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise _ApiError("invalid_limit") from None
    if value <= 0:
        return default
    return min(value, maximum)


def _paginate(items: list, args: dict, default_limit: int = 100) -> tuple[list, dict]:
    limit = _limit(args, default_limit)
    offset = 0
    cursor = args.get("cursor")
    if cursor:
        try:
            offset = int(_dec_cursor(str(cursor)))
        except ValueError:
            raise _ApiError("invalid_cursor") from None
    end = offset + limit
    next_cursor = _enc_cursor(end) if end < len(items) else ""
    return items[offset:end], {"next_cursor": next_cursor}


def _is_user_id(value: str) -> bool:
    return len(value) > 1 and value[0] in "UW" and value.isalnum() and value.isupper()


def _is_bad(value: str) -> bool:
    """``CBAD...``, ``UBAD...``, ``VBAD...`` etc. are always rejected."""
    return value[1:4] == "BAD"


def _tz_info(tz: str) -> tuple[int, str]:
    try:
        zone = ZoneInfo(tz)
    except Exception:  # unknown tz or no tzdata: behave like UTC
        return 0, tz
    now = datetime.now(UTC).astimezone(zone)
    offset = now.utcoffset()
    return int(offset.total_seconds()) if offset else 0, now.tzname() or tz


class SlackDouble:
    """Real aiohttp server on 127.0.0.1 speaking a subset of Slack's Web API.

    Construct, ``await start()`` (or ``async with``), point the client at
    ``f"{double.url}/api/"`` and inspect ``calls`` / ``messages`` / ``files`` /
    ``views`` / ``responses``.  Configure ``limits`` and ``faults`` at any time.
    """

    def __init__(
        self,
        *,
        token: str = "xoxb-test",
        team_id: str = "T0001",
        users: dict[str, dict] | None = None,
        channels: dict[str, dict] | None = None,
        usergroups: dict[str, list[str]] | None = None,
        accept_any_channel: bool = True,
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        team_name: str = "Pulse Test",
        team_domain: str = "pulse-test",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.token = token
        #: All tokens accepted (add more for multi-workspace tests).
        self.tokens: set[str] = {token}
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.users: dict[str, dict] = dict(users or {})
        self.channels: dict[str, dict] = dict(channels or {})
        self.usergroups: dict[str, list[str]] = {k: list(v) for k, v in (usergroups or {}).items()}
        self.accept_any_channel = accept_any_channel
        self.host = host
        self.port = port
        self.clock: Callable[[], float] = clock or time.monotonic

        self.faults = Faults()
        self.limits = Limits(clock=self.clock)
        #: DM channels opened via conversations.open (or by posting to a user id): id -> users.
        self.dms: dict[str, list[str]] = {}

        self.calls: list[Call] = []
        self.messages: list[dict] = []
        self.ephemerals: list[dict] = []
        self.updates: list[dict] = []
        self.deletions: list[dict] = []
        self.files: list[dict] = []
        self.views: list[dict] = []
        self.responses: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0

        self._calls_by_method: dict[str, list[Call]] = {}
        self._logs: dict[str, _ChannelLog] = {}
        self._ts_counter = 0
        self._id_counter = 0
        self._pending_uploads: dict[str, dict] = {}
        self._view_store: dict[str, dict] = {}
        self._views_by_external: dict[str, str] = {}
        self._home_by_user: dict[str, str] = {}
        self._response_ids: set[str] = set()

        self._url: str | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None

        self._handlers: dict[str, Callable[[dict], dict]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "usergroups.users.list": self._usergroups_users_list,
            "usergroups.list": self._usergroups_list,
            "team.info": self._team_info,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (Web API lives under ``/api/``)."""
        if self._url is None:
            raise RuntimeError("SlackDouble is not started; await double.start() first")
        return self._url

    @property
    def api_url(self) -> str:
        """Value for ``AsyncWebClient(base_url=...)``: ``f"{url}/api/"``."""
        return f"{self.url}/api/"

    @property
    def methods(self) -> list[str]:
        return sorted(self._handlers)

    async def start(self, *, host: str | None = None, port: int | None = None) -> str:
        if self._runner is not None:
            return self.url
        host = host or self.host
        port = self.port if port is None else port
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/response_url/{rid}", self._handle_response_url)
        app.router.add_route("*", "/{tail:.*}", self._handle_not_found)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.setblocking(False)
            site = web.SockSite(runner, sock, backlog=1024)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._stopping = asyncio.Event()
        self._runner = runner
        self._url = f"http://{host}:{sock.getsockname()[1]}"
        return self._url

    async def stop(self) -> None:
        """Stop serving.  Requests held by ``timeout_next``/``slow`` are released first."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._stopping is not None:
            self._stopping.set()
        await runner.cleanup()

    async def __aenter__(self) -> SlackDouble:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def client(self, **kwargs: Any):
        """Convenience: a real ``AsyncWebClient`` pointed at this double."""
        from slack_sdk.web.async_client import AsyncWebClient

        kwargs.setdefault("token", self.token)
        kwargs.setdefault("base_url", self.api_url)
        return AsyncWebClient(**kwargs)

    def response_url(self) -> str:
        """Mint a fresh interaction ``response_url`` served by this double."""
        self._id_counter += 1
        rid = f"R{self._id_counter:08d}"
        self._response_ids.add(rid)
        return f"{self.url}/response_url/{rid}"

    # ------------------------------------------------------------------ inspection
    def calls_to(self, method: str) -> list[Call]:
        return list(self._calls_by_method.get(method, ()))

    def messages_in(self, channel: str, *, include_deleted: bool = False) -> list[dict]:
        """Messages accepted by chat.postMessage in ``channel`` (incl. thread replies), oldest first."""
        log = self._logs.get(channel.lstrip("#"))
        if log is None:
            return []
        if include_deleted:
            return list(log.posted)
        return [m for m in log.posted if not m["deleted"]]

    def reset(self, *, faults: bool = True, limits: bool = True) -> None:
        """Clear recorded state (calls, messages, files, views, responses...).

        Also clears faults and rate-limit buckets unless told otherwise.
        Configuration (users/channels/usergroups/tokens) and opened DMs are
        kept; ``ts`` values keep increasing across resets.
        """
        for lst in (
            self.calls,
            self.messages,
            self.ephemerals,
            self.updates,
            self.deletions,
            self.files,
            self.views,
            self.responses,
        ):
            lst.clear()
        self._calls_by_method.clear()
        self._logs.clear()
        self._pending_uploads.clear()
        self._view_store.clear()
        self._views_by_external.clear()
        self._home_by_user.clear()
        self.max_in_flight = self.in_flight
        if faults:
            self.faults.clear()
        if limits:
            self.limits.reset()

    # ------------------------------------------------------------------ HTTP plumbing
    def _record(
        self,
        method: str,
        args: dict,
        status: int,
        ok: bool,
        error: str | None,
        at: float,
        retry_after: int | None = None,
    ) -> Call:
        call = Call(method, args, status, ok, error, at, retry_after)
        self.calls.append(call)
        bucket = self._calls_by_method.get(method)
        if bucket is None:
            bucket = self._calls_by_method[method] = []
        bucket.append(call)
        return call

    @staticmethod
    def _json(body: dict, status: int = 200, headers: dict | None = None) -> web.Response:
        return web.Response(
            body=json.dumps(body).encode(),
            status=status,
            headers=headers,
            content_type="application/json",
        )

    def _ratelimited(self, method: str, args: dict, at: float, retry_after: int) -> web.Response:
        self._record(method, args, 429, False, "ratelimited", at, retry_after)
        return self._json({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(retry_after)})

    async def _hold(self, seconds: float) -> None:
        if seconds <= 0:
            return
        stopping = self._stopping
        if stopping is None or stopping.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), seconds)

    async def _parse(self, request: web.Request) -> tuple[dict, str | None]:
        args: dict[str, Any] = dict(request.query)
        if request.body_exists:
            ctype = request.content_type
            if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    args[key] = value.file.read() if isinstance(value, web.FileField) else value
            else:
                raw = await request.read()
                if raw.strip() and ctype in ("application/json", "text/json", "application/octet-stream", ""):
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise _BadBody from None
                    if not isinstance(body, dict):
                        raise _BadBody
                    args.update(body)
        token = None
        auth = request.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            token = auth[7:].strip() or None
        param_token = args.pop("token", None)
        if token is None and param_token:
            token = str(param_token)
        for key in _JSON_ARG_KEYS:
            value = args.get(key)
            if isinstance(value, str):
                # undecodable values stay strings: the handler reports a *_format error
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(value)
        return args, token

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        if self.in_flight > self.max_in_flight:
            self.max_in_flight = self.in_flight
        try:
            return await self._dispatch(request.match_info["method"], request)
        finally:
            self.in_flight -= 1

    async def _dispatch(self, method: str, request: web.Request) -> web.StreamResponse:
        at = self.clock()
        try:
            args, token = await self._parse(request)
        except _BadBody:
            self._record(method, {}, 200, False, "invalid_json", at)
            return self._json({"ok": False, "error": "invalid_json"})
        handler = self._handlers.get(method)
        if handler is None:
            self._record(method, args, 200, False, "unknown_method", at)
            return self._json({"ok": False, "error": "unknown_method"})
        if token is None:
            self._record(method, args, 200, False, "not_authed", at)
            return self._json({"ok": False, "error": "not_authed"})
        if token not in self.tokens:
            self._record(method, args, 200, False, "invalid_auth", at)
            return self._json({"ok": False, "error": "invalid_auth"})
        return await self._faulted(method, args, at, lambda: handler(args), rate_limited=True)

    async def _faulted(
        self,
        method: str,
        args: dict,
        at: float,
        run: Callable[[], Any],
        *,
        rate_limited: bool = False,
    ) -> web.StreamResponse:
        fault: OneShotFault | None = self.faults.take(method)
        delay = self.faults.delay(method)
        if delay:
            await self._hold(delay)
        if fault is not None:
            if fault.kind == "timeout":
                self._record(method, args, 504, False, "timeout", at)
                await self._hold(fault.seconds)
                return self._json({"ok": False, "error": "timeout"}, 504)
            if fault.kind == "fail":
                self._record(method, args, fault.status, False, fault.error, at)
                return self._json({"ok": False, "error": fault.error}, fault.status)
            if fault.kind == "rate_limit":
                return self._ratelimited(method, args, at, fault.retry_after)
        retry_after = self.faults.storm(method)
        if retry_after is not None:
            return self._ratelimited(method, args, at, retry_after)
        if rate_limited:
            channel = self._channel_key(args.get("channel")) if method == "chat.postMessage" else None
            retry_after = self.limits.admit(method, channel)
            if retry_after is not None:
                return self._ratelimited(method, args, at, retry_after)
        try:
            result = run()
        except _ApiError as exc:
            self._record(method, args, 200, False, exc.error, at)
            return self._json({"ok": False, "error": exc.error, **exc.extra})
        if fault is not None and fault.kind == "drop_after_accept":
            self._record(method, args, fault.status, False, fault.error, at)
            return self._json({"ok": False, "error": fault.error}, fault.status)
        if isinstance(result, web.StreamResponse):
            ok = result.status == 200
            self._record(method, args, result.status, ok, None if ok else "http_error", at)
            return result
        self._record(method, args, 200, True, None, at)
        return self._json({"ok": True, **result})

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        at = self.clock()
        file_id = request.match_info["file_id"]
        content = await _read_upload_body(request)
        args = {"file_id": file_id, "length": len(content)}

        def run() -> web.Response:
            pending = self._pending_uploads.get(file_id)
            if pending is None:
                return web.Response(status=404, text="Not Found", content_type="text/plain")
            pending["content"] = content
            return web.Response(status=200, text=f"OK - {len(content)}", content_type="text/plain")

        return await self._faulted("upload_url", args, at, run)

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        at = self.clock()
        rid = request.match_info["rid"]
        raw = await request.read()
        body: Any
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            body = raw.decode("utf-8", "replace")
        args = {"id": rid, "body": body}

        def run() -> web.Response:
            self.responses.append({"id": rid, "url": str(request.url), "body": body, "at": at})
            return self._json({"ok": True})

        return await self._faulted("response_url", args, at, run)

    async def _handle_not_found(self, request: web.Request) -> web.StreamResponse:
        self._record(request.path, {}, 404, False, "not_found", self.clock())
        return self._json(
            {"ok": False, "error": "not_found", "hint": "Web API lives under /api/; use base_url=f'{url}/api/'"},
            404,
        )

    # ------------------------------------------------------------------ helpers
    def _next_ts(self) -> str:
        self._ts_counter += 1
        micros = self._ts_counter * 100
        return f"{TS_BASE + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        self._id_counter += 1
        return f"{prefix}{self._id_counter:09d}"

    @staticmethod
    def dm_id(users: list[str]) -> str:
        """Stable D-prefixed channel id for a set of users (order-insensitive)."""
        key = ",".join(sorted(set(users)))
        return "D" + hashlib.sha1(key.encode()).hexdigest()[:10].upper()

    def _channel_by_name(self, name: str) -> str | None:
        for cid, cfg in self.channels.items():
            if cfg.get("name") == name:
                return cid
        return None

    def _channel_key(self, raw: Any) -> str | None:
        """Pure (no side effects) channel key used for per-channel rate limiting."""
        if not isinstance(raw, str) or not raw:
            return None
        name = raw.lstrip("#")
        if name in self.channels or name in self.dms:
            return name
        if _is_user_id(name):
            return self.dm_id([name])
        return self._channel_by_name(name) or name

    def _resolve_channel(self, raw: Any, *, open_dm_for_user: bool = True) -> str:
        if not isinstance(raw, str) or not raw:
            raise _ApiError("channel_not_found")
        name = raw.lstrip("#")
        if name in self.channels or name in self.dms:
            return name
        if _is_bad(name):
            raise _ApiError("channel_not_found")
        by_name = self._channel_by_name(name)
        if by_name is not None:
            return by_name
        if _is_user_id(name) and open_dm_for_user:
            return self._open_dm([name])[0]
        if self.accept_any_channel:
            return name
        raise _ApiError("channel_not_found")

    def _check_postable(self, cid: str) -> None:
        cfg = self.channels.get(cid)
        if cfg:
            if cfg.get("is_archived"):
                raise _ApiError("is_archived")
            if cfg.get("is_member") is False:
                raise _ApiError("not_in_channel")

    def _open_dm(self, users: list[str]) -> tuple[str, bool]:
        cid = self.dm_id(users)
        existed = cid in self.dms
        if not existed:
            self.dms[cid] = sorted(set(users))
        return cid, existed

    def _log(self, cid: str) -> _ChannelLog:
        log = self._logs.get(cid)
        if log is None:
            log = self._logs[cid] = _ChannelLog()
        return log

    def _content(self, args: dict, *, require: bool = True) -> tuple[str, Any, Any]:
        text = args.get("text")
        if text is not None and not isinstance(text, str):
            text = str(text)
        blocks = args.get("blocks")
        attachments = args.get("attachments")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise _ApiError("invalid_blocks_format")
            errors = validate_blocks(blocks, surface="message")
            if errors:
                raise _ApiError("invalid_blocks", response_metadata={"messages": errors})
        if attachments is not None:
            if not isinstance(attachments, list):
                raise _ApiError("invalid_attachments")
            if len(attachments) > _MAX_ATTACHMENTS:
                raise _ApiError("too_many_attachments")
        if text and len(text) > MAX_MESSAGE_TEXT:
            raise _ApiError("msg_too_long")
        if require and not text and not blocks and not attachments:
            raise _ApiError("no_text")
        return text or "", blocks, attachments

    @staticmethod
    def _metadata(args: dict) -> dict | None:
        md = args.get("metadata")
        if md is None:
            return None
        if (
            not isinstance(md, dict)
            or not isinstance(md.get("event_type"), str)
            or not isinstance(md.get("event_payload", {}), dict)
        ):
            raise _ApiError("invalid_metadata_format")
        return md

    @staticmethod
    def _thread_ts(args: dict) -> str | None:
        thread_ts = args.get("thread_ts")
        if thread_ts in (None, ""):
            return None
        try:
            ts_key(thread_ts)
        except ValueError:
            raise _ApiError("invalid_thread_ts") from None
        return str(thread_ts)

    def _public_message(self, msg: dict, *, include_metadata: bool = True) -> dict:
        out: dict[str, Any] = {
            "type": "message",
            "ts": msg["ts"],
            "text": msg["text"],
            "user": msg["user"],
            "bot_id": msg["bot_id"],
            "team": self.team_id,
        }
        for key in ("blocks", "attachments", "thread_ts", "reply_count", "latest_reply", "edited"):
            if msg.get(key) is not None:
                out[key] = msg[key]
        if include_metadata and msg.get("metadata") is not None:
            out["metadata"] = msg["metadata"]
        return out

    def _user(self, uid: Any) -> dict | None:
        if not isinstance(uid, str) or not uid or _is_bad(uid):
            return None
        cfg = self.users.get(uid, {})
        tz = cfg.get("tz", DEFAULT_TZ)
        offset, label = _tz_info(tz)
        name = cfg.get("name", uid.lower())
        real_name = cfg.get("real_name", f"User {uid}")
        user: dict[str, Any] = {
            "id": uid,
            "team_id": self.team_id,
            "name": name,
            "real_name": real_name,
            "deleted": False,
            "tz": tz,
            "tz_label": label,
            "tz_offset": offset,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": TS_BASE,
        }
        profile = {"real_name": real_name, "display_name": name, "email": f"{name}@example.com"}
        profile.update(cfg.get("profile", {}))
        user.update({k: v for k, v in cfg.items() if k != "profile"})
        user["profile"] = profile
        return user

    # ------------------------------------------------------------------ Web API methods
    def _auth_test(self, args: dict) -> dict:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": "pulse-audit",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _team_info(self, args: dict) -> dict:
        return {
            "team": {
                "id": self.team_id,
                "name": self.team_name,
                "domain": self.team_domain,
                "email_domain": "example.com",
                "icon": {"image_default": True},
            }
        }

    def _chat_post_message(self, args: dict) -> dict:
        cid = self._resolve_channel(args.get("channel"))
        self._check_postable(cid)
        text, blocks, attachments = self._content(args)
        metadata = self._metadata(args)
        thread_ts = self._thread_ts(args)
        ts = self._next_ts()
        msg = {
            "type": "message",
            "channel": cid,
            "ts": ts,
            "text": text,
            "blocks": blocks,
            "attachments": attachments,
            "metadata": metadata,
            "thread_ts": thread_ts,
            "reply_broadcast": _flag(args.get("reply_broadcast")),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "deleted": False,
        }
        self.messages.append(msg)
        log = self._log(cid)
        log.posted.append(msg)
        log.by_ts[ts] = msg
        visible = True
        if thread_ts is not None and thread_ts != ts:
            log.threads.setdefault(thread_ts, []).append(ts)
            parent = log.by_ts.get(thread_ts)
            if parent is not None:
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                parent["latest_reply"] = ts
                parent.setdefault("thread_ts", thread_ts)
            visible = msg["reply_broadcast"]
        if visible:
            log.keys.append(ts_key(ts))  # ts is globally monotonic, so keys stay sorted
        return {"channel": cid, "ts": ts, "message": self._public_message(msg)}

    def _chat_post_ephemeral(self, args: dict) -> dict:
        cid = self._resolve_channel(args.get("channel"))
        user = args.get("user")
        if not user:
            raise _ApiError("user_not_found")
        if self._user(user) is None:
            raise _ApiError("user_not_found")
        text, blocks, attachments = self._content(args)
        ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": cid,
                "user": user,
                "text": text,
                "blocks": blocks,
                "attachments": attachments,
                "thread_ts": self._thread_ts(args),
                "message_ts": ts,
            }
        )
        return {"message_ts": ts}

    def _find_message(self, args: dict) -> tuple[str, _ChannelLog, dict]:
        cid = self._resolve_channel(args.get("channel"), open_dm_for_user=False)
        ts = args.get("ts")
        log = self._logs.get(cid)
        msg = log.by_ts.get(str(ts)) if (log is not None and ts) else None
        if msg is None:
            raise _ApiError("message_not_found")
        return cid, log, msg

    def _chat_update(self, args: dict) -> dict:
        cid, _log, msg = self._find_message(args)
        text, blocks, attachments = self._content(args)
        metadata = self._metadata(args)
        if "text" in args:
            msg["text"] = text
        if "blocks" in args:
            msg["blocks"] = blocks
        if "attachments" in args:
            msg["attachments"] = attachments
        if metadata is not None:
            msg["metadata"] = metadata
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        self.updates.append(
            {
                "channel": cid,
                "ts": msg["ts"],
                "text": msg["text"],
                "blocks": msg["blocks"],
                "attachments": msg["attachments"],
                "metadata": msg["metadata"],
            }
        )
        return {"channel": cid, "ts": msg["ts"], "text": msg["text"], "message": self._public_message(msg)}

    def _chat_delete(self, args: dict) -> dict:
        cid, log, msg = self._find_message(args)
        ts = msg["ts"]
        del log.by_ts[ts]
        msg["deleted"] = True
        key = ts_key(ts)
        i = bisect.bisect_left(log.keys, key)
        if i < len(log.keys) and log.keys[i] == key:
            del log.keys[i]
        parent_ts = msg.get("thread_ts")
        if parent_ts and parent_ts != ts:
            replies = log.threads.get(parent_ts)
            if replies and ts in replies:
                replies.remove(ts)
            parent = log.by_ts.get(parent_ts)
            if parent is not None and parent.get("reply_count"):
                parent["reply_count"] -= 1
        self.deletions.append({"channel": cid, "ts": ts})
        return {"channel": cid, "ts": ts}

    def _conversations_open(self, args: dict) -> dict:
        channel = args.get("channel")
        if channel:
            if channel not in self.dms:
                raise _ApiError("channel_not_found")
            return {"no_op": True, "already_open": True, "channel": self._channel_info(channel)}
        raw = args.get("users")
        if isinstance(raw, list):
            users = [str(u).strip() for u in raw]
        else:
            users = [u.strip() for u in str(raw or "").split(",")]
        users = [u for u in users if u]
        if not users:
            raise _ApiError("users_list_not_supplied")
        if len(set(users)) > _MAX_DM_USERS:
            raise _ApiError("too_many_users")
        if any(self._user(u) is None for u in users):
            raise _ApiError("user_not_found")
        cid, existed = self._open_dm(users)
        channel_obj = self._channel_info(cid) if _flag(args.get("return_im")) else {"id": cid}
        body: dict[str, Any] = {"channel": channel_obj}
        if existed:
            body.update(no_op=True, already_open=True)
        return body

    def _channel_info(self, cid: str) -> dict:
        if cid in self.dms:
            users = self.dms[cid]
            info: dict[str, Any] = {
                "id": cid,
                "created": TS_BASE,
                "is_im": len(users) == 1,
                "is_mpim": len(users) > 1,
                "is_channel": False,
                "is_private": True,
                "is_open": True,
                "is_archived": False,
            }
            if len(users) == 1:
                info["user"] = users[0]
            return info
        cfg = self.channels.get(cid, {})
        info = {
            "id": cid,
            "name": cid.lower(),
            "created": TS_BASE,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": False,
            "is_archived": False,
            "is_general": False,
            "is_member": True,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        info.update({k: v for k, v in cfg.items() if k != "members"})
        return info

    def _members_of(self, cid: str) -> list[str]:
        if cid in self.dms:
            return [*self.dms[cid], self.bot_user_id]
        cfg = self.channels.get(cid)
        if cfg is not None and "members" in cfg:
            return list(cfg["members"])
        return list(self.users)

    def _conversations_info(self, args: dict) -> dict:
        cid = self._resolve_channel(args.get("channel"), open_dm_for_user=False)
        info = self._channel_info(cid)
        if _flag(args.get("include_num_members")):
            info["num_members"] = len(self._members_of(cid))
        return {"channel": info}

    def _conversations_members(self, args: dict) -> dict:
        cid = self._resolve_channel(args.get("channel"), open_dm_for_user=False)
        page, meta = _paginate(self._members_of(cid), args, default_limit=100)
        return {"members": page, "response_metadata": meta}

    def _conversations_history(self, args: dict) -> dict:
        cid = self._resolve_channel(args.get("channel"), open_dm_for_user=False)
        limit = _limit(args, 100, 999)
        include_md = _flag(args.get("include_all_metadata"))
        inclusive = _flag(args.get("inclusive"))
        log = self._logs.get(cid)
        if log is None:
            return {"messages": [], "has_more": False, "pin_count": 0, "response_metadata": {"next_cursor": ""}}
        keys = log.keys
        try:
            latest = args.get("latest")
            oldest = args.get("oldest")
            hi = len(keys)
            if latest not in (None, ""):
                lk = ts_key(latest)
                hi = bisect.bisect_right(keys, lk) if inclusive else bisect.bisect_left(keys, lk)
            lo = 0
            if oldest not in (None, "", "0"):
                ok_ = ts_key(oldest)
                lo = bisect.bisect_left(keys, ok_) if inclusive else bisect.bisect_right(keys, ok_)
        except ValueError:
            raise _ApiError("invalid_ts_latest") from None
        cursor = args.get("cursor")
        if cursor:
            try:
                ck = int(_dec_cursor(str(cursor)))
            except ValueError:
                raise _ApiError("invalid_cursor") from None
            hi = min(hi, bisect.bisect_left(keys, ck))
        start = max(lo, hi - limit)
        page_keys = keys[start:hi][::-1]
        has_more = start > lo
        messages = []
        for k in page_keys:
            ts = f"{k // 1_000_000}.{k % 1_000_000:06d}"
            messages.append(self._public_message(log.by_ts[ts], include_metadata=include_md))
        next_cursor = _enc_cursor(page_keys[-1]) if has_more and page_keys else ""
        return {
            "messages": messages,
            "has_more": has_more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_replies(self, args: dict) -> dict:
        _cid, log, parent = self._find_message({"channel": args.get("channel"), "ts": args.get("ts")})
        include_md = _flag(args.get("include_all_metadata"))
        items = [parent] + [log.by_ts[t] for t in log.threads.get(parent["ts"], ()) if t in log.by_ts]
        page, meta = _paginate(items, args, default_limit=1000)
        return {
            "messages": [self._public_message(m, include_metadata=include_md) for m in page],
            "has_more": bool(meta["next_cursor"]),
            "response_metadata": meta,
        }

    def _users_info(self, args: dict) -> dict:
        user = self._user(args.get("user"))
        if user is None:
            raise _ApiError("user_not_found")
        return {"user": user}

    def _users_list(self, args: dict) -> dict:
        page, meta = _paginate(list(self.users), args, default_limit=100)
        return {"members": [self._user(uid) for uid in page], "cache_ts": TS_BASE, "response_metadata": meta}

    def _usergroups_users_list(self, args: dict) -> dict:
        gid = args.get("usergroup")
        if not gid or gid not in self.usergroups:
            raise _ApiError("no_such_subteam")
        return {"users": list(self.usergroups[gid])}

    def _usergroups_list(self, args: dict) -> dict:
        include_users = _flag(args.get("include_users"))
        include_count = _flag(args.get("include_count"))
        groups = []
        for gid, members in self.usergroups.items():
            group: dict[str, Any] = {
                "id": gid,
                "team_id": self.team_id,
                "is_usergroup": True,
                "name": gid,
                "handle": gid.lower(),
                "description": "",
                "date_delete": 0,
            }
            if include_users:
                group["users"] = list(members)
            if include_count:
                group["user_count"] = len(members)
            groups.append(group)
        return {"usergroups": groups}

    # -- views
    def _parse_view(self, args: dict, surface: str | None) -> dict:
        view = args.get("view")
        if not isinstance(view, dict):
            raise _ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing or invalid view"]})
        errors = validate_view(view, surface=surface)  # type: ignore[arg-type]
        if errors:
            raise _ApiError("invalid_arguments", response_metadata={"messages": errors})
        return view

    @staticmethod
    def _check_trigger(args: dict) -> str:
        trigger = args.get("trigger_id")
        if not trigger:
            raise _ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing trigger_id"]})
        trigger = str(trigger)
        if trigger.startswith("expired"):
            raise _ApiError("expired_trigger_id")
        if "BAD" in trigger:
            raise _ApiError("invalid_trigger_id")
        return trigger

    def _store_view(self, view: dict, *, view_id: str | None = None) -> dict:
        view_id = view_id or self._new_id("V")
        stored = dict(view)
        stored.update(
            id=view_id,
            team_id=self.team_id,
            app_id="A0APP",
            bot_id=self.bot_id,
            state={"values": {}},
            hash=hashlib.sha1(f"{view_id}:{self._next_ts()}".encode()).hexdigest()[:20],
        )
        self._view_store[view_id] = stored
        ext = view.get("external_id")
        if ext:
            self._views_by_external[ext] = view_id
        return stored

    def _views_open_or_push(self, args: dict, kind: str) -> dict:
        trigger = self._check_trigger(args)
        view = self._parse_view(args, "modal")
        ext = view.get("external_id")
        if ext and ext in self._views_by_external:
            raise _ApiError("duplicate_external_id")
        stored = self._store_view(view)
        self.views.append(
            {"kind": kind, "trigger_id": trigger, "view_id": stored["id"], "external_id": ext, "view": view}
        )
        return {"view": stored}

    def _views_open(self, args: dict) -> dict:
        return self._views_open_or_push(args, "open")

    def _views_push(self, args: dict) -> dict:
        return self._views_open_or_push(args, "push")

    def _views_update(self, args: dict) -> dict:
        view_id, ext = args.get("view_id"), args.get("external_id")
        if not view_id and not ext:
            raise _ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing view_id"]})
        if not view_id:
            view_id = self._views_by_external.get(ext)
            if view_id is None:
                raise _ApiError("not_found")
        view_id = str(view_id)
        if _is_bad(view_id):
            raise _ApiError("not_found")
        view = self._parse_view(args, None)
        previous = self._view_store.get(view_id)
        expected = args.get("hash")
        if expected and previous is not None and previous["hash"] != expected:
            raise _ApiError("hash_conflict")
        stored = self._store_view(view, view_id=view_id)
        self.views.append(
            {"kind": "update", "view_id": view_id, "external_id": view.get("external_id") or ext, "view": view}
        )
        return {"view": stored}

    def _views_publish(self, args: dict) -> dict:
        user_id = args.get("user_id")
        if not user_id:
            raise _ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing user_id"]})
        if self._user(user_id) is None:
            raise _ApiError("user_not_found")
        view = self._parse_view(args, "home")
        previous_id = self._home_by_user.get(user_id)
        expected = args.get("hash")
        if expected and previous_id is not None and self._view_store[previous_id]["hash"] != expected:
            raise _ApiError("hash_conflict")
        stored = self._store_view(view, view_id=previous_id)
        self._home_by_user[user_id] = stored["id"]
        self.views.append({"kind": "publish", "user_id": user_id, "view_id": stored["id"], "view": view})
        return {"view": stored}

    # -- files (files_upload_v2 flow)
    def _files_get_upload_url(self, args: dict) -> dict:
        filename = args.get("filename")
        try:
            length = int(args.get("length"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            length = -1
        if not filename or length < 0:
            raise _ApiError("invalid_arguments")
        file_id = self._new_id("F")
        self._pending_uploads[file_id] = {
            "filename": filename,
            "declared_length": length,
            "alt_txt": args.get("alt_txt"),
            "snippet_type": args.get("snippet_type"),
            "content": None,
        }
        return {"upload_url": f"{self.url}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: dict) -> dict:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            raise _ApiError("invalid_arguments")
        entries = []
        for item in files:
            fid = item.get("id") if isinstance(item, dict) else None
            pending = self._pending_uploads.get(fid) if fid else None
            if pending is None or pending["content"] is None:
                raise _ApiError("file_not_found")
            entries.append((fid, item, pending))
        channel_ids: list[str] = []
        if args.get("channel_id"):
            channel_ids.append(self._resolve_channel(args["channel_id"]))
        if args.get("channels"):
            for raw in str(args["channels"]).split(","):
                if raw.strip():
                    channel_ids.append(self._resolve_channel(raw.strip()))
        thread_ts = self._thread_ts(args)
        out = []
        for fid, item, pending in entries:
            del self._pending_uploads[fid]
            content: bytes = pending["content"]
            filename = pending["filename"]
            title = item.get("title") or filename
            mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            record = {
                "id": fid,
                "title": title,
                "filename": filename,
                "length": len(content),
                "content": content,
                "channel_id": channel_ids[0] if channel_ids else None,
                "channels": list(channel_ids),
                "initial_comment": args.get("initial_comment"),
                "thread_ts": thread_ts,
                "alt_txt": pending["alt_txt"],
                "snippet_type": pending["snippet_type"],
            }
            self.files.append(record)
            out.append(
                {
                    "id": fid,
                    "created": TS_BASE,
                    "timestamp": TS_BASE,
                    "name": filename,
                    "title": title,
                    "mimetype": mimetype,
                    "filetype": filename.rsplit(".", 1)[-1] if "." in filename else "binary",
                    "user": self.bot_user_id,
                    "size": len(content),
                    "channels": list(channel_ids),
                    "url_private": f"{self.url}/files/{fid}/{filename}",
                    "permalink": f"https://{self.team_domain}.slack.com/files/{self.bot_user_id}/{fid}/{filename}",
                }
            )
        return {"files": out}


async def _read_upload_body(request: web.Request) -> bytes:
    """Raw body, or the first file part of a multipart body (``curl -F file=@x``)."""
    if request.content_type != "multipart/form-data":
        return await request.read()
    reader = await request.multipart()
    first: bytes | None = None
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            continue
        data = bytes(await part.read())
        if part.filename is not None:
            return data
        if first is None:
            first = data
    return first or b""


__all__ = ["Call", "SlackDouble", "ts_key"]
