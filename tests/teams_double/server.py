"""A local Bot Connector: the REST service a Teams bot calls at the activity's `serviceUrl`.

It records every call, keeps the messages posted per conversation, answers roster and
create-conversation calls, checks what Teams checks (Adaptive Cards against the 1.5 schema,
the ~28 KB message limit, the bearer token when one is expected), and can inject 429s with
`Retry-After` and 5xx errors.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.teams_double.cards import first_problem

CARD = "application/vnd.microsoft.card.adaptive"
MAX_MESSAGE_BYTES = 28_000
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
APP_ID = "a1b2c3d4-0000-4000-8000-00000000b071"


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    body: Any
    status: int = 0
    at: float = 0.0


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: str | None = None
    path_contains: str = ""


@dataclass
class Team:
    name: str
    # Entra object ids of the members.
    members: list[str]
    aad_group_id: str = "f2b3c4d5-0000-4000-8000-000000000abc"
    channels: dict[str, str] = field(default_factory=dict)


def user_id_for(aad: str) -> str:
    """A Teams user id ('29:...') for an Entra object id, as stable as the real ones."""
    return "29:1" + hashlib.sha256(aad.encode()).hexdigest()[:60]


class TeamsDouble:
    """Run with `async with TeamsDouble(teams={...}) as teams:`; point activities at `teams.service_url`."""

    def __init__(
        self,
        *,
        teams: dict[str, Team] | None = None,
        chats: dict[str, list[str]] | None = None,
        region: str = "amer",
        expect_token: str | None = None,
    ) -> None:
        self.teams = teams or {}
        self.chats = chats or {}
        self.region = region
        self.expect_token = expect_token
        self.calls: list[Call] = []
        # conversation id (without ';messageid=') -> posted activities, in order; updates applied in place.
        self.posted: dict[str, list[dict[str, Any]]] = {}
        self.created: list[dict[str, Any]] = []
        # (conversation id, activity id) of every activity deleted, in order.
        self.deleted: list[tuple[str, str | None]] = []
        # Teams the app was removed from (remove_app).
        self.removed_from: set[str] = set()
        self._faults: deque[_Fault] = deque()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle -----------------------------------------------------------------
    async def __aenter__(self) -> TeamsDouble:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def service_url(self) -> str:
        return f"{self.url}/{self.region}/"

    # -- people ----------------------------------------------------------------------
    def account(self, aad: str, name: str | None = None) -> dict[str, str]:
        """The `from` of an activity sent by this person."""
        return {"id": user_id_for(aad), "name": name or f"Staff {aad[-4:]}", "aadObjectId": aad}

    def personal_conversation(self, aad: str) -> str:
        """The 1:1 chat between the bot and this person, as creating it returns."""
        return "a:1" + hashlib.sha256(user_id_for(aad).encode()).hexdigest()

    def _member(self, aad: str) -> dict[str, Any]:
        return {
            **self.account(aad),
            "givenName": "Staff",
            "surname": aad[-4:],
            "email": f"{aad[-6:]}@school.example",
            "userPrincipalName": f"{aad[-6:]}@school.example",
            "tenantId": TENANT,
            "userRole": "user",
        }

    def team_of(self, conversation_id: str) -> str | None:
        base = conversation_id.split(";", 1)[0]
        return next((t for t, team in self.teams.items() if base == t or base in team.channels), None)

    def remove_app(self, team_id: str) -> None:
        """Someone removed the app from a team: Teams refuses its posts there from now on (403)."""
        self.removed_from.add(team_id)

    def roster(self, conversation_id: str) -> list[str] | None:
        base = conversation_id.split(";", 1)[0]
        if base in self.teams:
            return self.teams[base].members
        for team in self.teams.values():
            if base in team.channels:
                return team.members
        return self.chats.get(base)

    # -- what was sent ---------------------------------------------------------------
    def messages_in(self, conversation_id: str) -> list[dict[str, Any]]:
        return list(self.posted.get(conversation_id.split(";", 1)[0], []))

    def cards_in(self, conversation_id: str) -> list[dict[str, Any]]:
        return [card for activity in self.messages_in(conversation_id) for card in cards_of(activity)]

    def calls_to(self, method: str, path_contains: str = "") -> list[Call]:
        return [c for c in self.calls if c.method == method and path_contains in c.path]

    # -- faults ------------------------------------------------------------------------
    def rate_limit_next(self, n: int = 1, *, retry_after: str | None = "1", path_contains: str = "") -> None:
        """The next `n` matching calls get 429 (with `Retry-After` unless None), as Teams throttles."""
        self._faults.append(_Fault(429, n, retry_after, path_contains))

    def fail_next(self, n: int = 1, *, status: int = 502, path_contains: str = "") -> None:
        self._faults.append(_Fault(status, n, None, path_contains))

    def _take_fault(self, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.path_contains in path:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # -- the REST API ----------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read() if request.can_read_body else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        call = Call(
            request.method,
            request.path,
            dict(request.query),
            request.headers.get("Authorization"),
            body,
            at=time.monotonic(),
        )
        self.calls.append(call)
        response = await self._respond(request, call, raw)
        call.status = response.status
        return response

    async def _respond(self, request: web.Request, call: Call, raw: bytes) -> web.Response:
        if self.expect_token is not None and call.authorization != f"Bearer {self.expect_token}":
            return _error(401, "Unauthorized", "Authorization has been denied for this request.")
        fault = self._take_fault(call.path)
        if fault is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            code = "Throttled" if fault.status == 429 else "ServiceError"
            return _error(fault.status, code, "injected by the double", headers)
        prefix = f"/{self.region}/v3/"
        if not call.path.startswith(prefix):
            return _error(404, "NotFound", "unknown path")
        parts = call.path[len(prefix) :].split("/")
        await asyncio.sleep(0)
        if parts[0] == "conversations" and len(parts) == 1 and call.method == "POST":
            return self._create_conversation(call.body)
        if parts[0] == "conversations" and len(parts) >= 3 and parts[2] == "activities":
            return self._activity(call, parts[1], parts[3] if len(parts) > 3 else None, len(raw))
        if parts[0] == "conversations" and len(parts) >= 3 and parts[2].lower() in ("members", "pagedmembers"):
            return self._members(parts[1], parts[2], parts[3] if len(parts) > 3 else None, call.query)
        if parts[0] == "teams" and len(parts) == 2 and call.method == "GET":
            team = self.teams.get(parts[1])
            if team is None:
                return _error(404, "NotFound", "team not found")
            return web.json_response(
                {"id": parts[1], "name": team.name, "aadGroupId": team.aad_group_id, "memberCount": len(team.members)}
            )
        return _error(404, "NotFound", "unknown path")

    def _create_conversation(self, body: Any) -> web.Response:
        members = (body or {}).get("members") or []
        if len(members) != 1:
            return _error(400, "BadArgument", "a 1:1 conversation needs exactly one member")
        conversation_id = "a:1" + hashlib.sha256(str(members[0]["id"]).encode()).hexdigest()
        self.created.append(body)
        return web.json_response({"id": conversation_id, "activityId": str(next(self._ids))}, status=201)

    def _activity(self, call: Call, conversation_id: str, activity_id: str | None, size: int) -> web.Response:
        activity = call.body if isinstance(call.body, dict) else {}
        if call.method == "DELETE":
            return self._delete(conversation_id, activity_id)
        if call.method not in ("POST", "PUT"):
            return _error(405, "MethodNotAllowed", call.method)
        if size > MAX_MESSAGE_BYTES:
            return _error(413, "MessageSizeTooBig", f"{size} bytes; Teams takes about {MAX_MESSAGE_BYTES}")
        for card in cards_of(activity):
            problem = first_problem(card)
            if problem is not None:
                return _error(400, "BadArgument", f"invalid Adaptive Card: {problem}")
        base = conversation_id.split(";", 1)[0]
        if self.roster(base) is None and not base.startswith("a:"):
            return _error(404, "ConversationNotFound", "Conversation not found.")
        if self.team_of(base) in self.removed_from:
            return _error(403, "BotNotInConversationRoster", "The bot is not part of the conversation roster.")
        thread = self.posted.setdefault(base, [])
        if call.method == "PUT":
            for i, earlier in enumerate(thread):
                if earlier["id"] == activity_id:
                    thread[i] = {**activity, "id": activity_id}
                    return web.json_response({"id": activity_id})
            return _error(404, "ActivityNotFound", "no such activity")
        new_id = f"17{next(self._ids):011d}"
        thread.append({**activity, "id": new_id, "replyToId": activity.get("replyToId") or activity_id})
        return web.json_response({"id": new_id}, status=201)

    def _delete(self, conversation_id: str, activity_id: str | None) -> web.Response:
        thread = self.posted.get(conversation_id.split(";", 1)[0], [])
        for i, earlier in enumerate(thread):
            if earlier["id"] == activity_id:
                del thread[i]
                self.deleted.append((conversation_id, activity_id))
                return web.Response(status=200)
        return _error(404, "ActivityNotFound", "no such activity")

    def _members(self, conversation_id: str, kind: str, member: str | None, query: dict[str, str]) -> web.Response:
        roster = self.roster(conversation_id)
        if roster is None:
            return _error(404, "ConversationNotFound", "Conversation not found.")
        people = [self._member(aad) for aad in roster]
        if member is not None:
            found = next((p for p in people if member in (p["id"], p["aadObjectId"])), None)
            return web.json_response(found) if found else _error(404, "MemberNotFound", "not a member")
        if kind == "members":
            return web.json_response(people)
        size = int(query.get("pageSize") or 100)
        start = int(query.get("continuationToken") or 0)
        page: dict[str, Any] = {"members": people[start : start + size]}
        if start + size < len(people):
            # The last page leaves the token out (an explicit null trips the SDK's model).
            page["continuationToken"] = str(start + size)
        return web.json_response(page)


def cards_of(activity: dict[str, Any]) -> list[dict[str, Any]]:
    return [a["content"] for a in activity.get("attachments") or [] if a.get("contentType") == CARD]


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)
