"""The Slack double in a process of its own, with a small control API for the benchmark.

Child side: ``python -m bench.double --ready-file F`` starts tests.slack_double.SlackDouble on one
port and a control API on another, and writes both URLs to F. Parent side: RemoteDouble starts it
and asks it for configuration changes and counts. Only the double's public API is used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.procs import Child, child_env, python_module, wait_file

TOKEN = "xoxb-bench"


# -- child ---------------------------------------------------------------------------------------


def _control_app(double: Any) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)

    async def configure(request: web.Request) -> web.Response:
        body = await request.json()
        for gid, members in (body.get("usergroups") or {}).items():
            double.usergroups[gid] = list(members)
        for cid, cfg in (body.get("channels") or {}).items():
            double.channels[cid] = dict(cfg)
        if "limits" in body:
            lim = body["limits"] or {}
            double.limits.disable()
            double.limits.per_channel_per_second = lim.get("per_channel_per_second")
            double.limits.burst = int(lim.get("burst", 1))
            double.limits.workspace_per_second = lim.get("workspace_per_second")
            double.limits.workspace_burst = lim.get("workspace_burst")
            double.limits.method_per_minute.update(lim.get("method_per_minute") or {})
        if "random_429" in body:
            storm = body["random_429"]
            if storm:
                double.faults.random_429(
                    storm["method"], storm["probability"], storm.get("seed", 0), retry_after=storm.get("retry_after", 1)
                )
            else:
                double.faults.clear()
        return web.json_response({"ok": True})

    async def reset(_request: web.Request) -> web.Response:
        double.reset(faults=True, limits=True)
        return web.json_response({"ok": True})

    async def stats(_request: web.Request) -> web.Response:
        by_method: dict[str, dict[str, Any]] = {}
        for call in double.calls:
            entry = by_method.setdefault(call.method, {"ok": 0, "errors": Counter()})
            if call.ok:
                entry["ok"] += 1
            else:
                entry["errors"][call.error or str(call.status)] += 1
        return web.json_response(
            {
                "calls": {m: {"ok": e["ok"], "errors": dict(e["errors"])} for m, e in by_method.items()},
                "messages": len(double.messages),
                "ephemerals": len(double.ephemerals),
                "max_in_flight": double.max_in_flight,
            }
        )

    async def ephemerals(_request: web.Request) -> web.Response:
        # (user, channel, monotonic arrival) of every accepted private confirmation.
        rows = [
            [c.args.get("user"), c.args.get("channel"), c.at] for c in double.calls_to("chat.postEphemeral") if c.ok
        ]
        return web.json_response({"ephemerals": rows})

    async def messages(request: web.Request) -> web.Response:
        return web.json_response({"messages": double.messages_in(request.query["channel"])}, dumps=_dumps)

    async def progress(request: web.Request) -> web.Response:
        """How many members of a user group have had at least one message in their DM."""
        members = double.usergroups.get(request.query["usergroup"], [])
        reached = sum(1 for u in members if double.messages_in(double.dm_id([u])))
        return web.json_response({"members": len(members), "reached": reached})

    async def deliveries(request: web.Request) -> web.Response:
        """Per-recipient message counts for a user group's DMs, and when the posts happened."""
        members = double.usergroups.get(request.query["usergroup"], [])
        counts = [len(double.messages_in(double.dm_id([u]))) for u in members]
        posts = double.calls_to("chat.postMessage")
        accepted = [c.at for c in posts if c.ok]
        limited = sum(1 for c in posts if c.status == 429)
        return web.json_response(
            {
                "members": len(members),
                "lost": sum(1 for n in counts if n == 0),
                "doubled_recipients": sum(1 for n in counts if n > 1),
                "extra_messages": sum(n - 1 for n in counts if n > 1),
                "accepted_posts": len(accepted),
                "rate_limited_posts": limited,
                "other_failed_posts": sum(1 for c in posts if not c.ok and c.status != 429),
                "first_post_at": min((c.at for c in posts), default=None),
                "last_accepted_at": max(accepted, default=None),
                "conversations_open": len(double.calls_to("conversations.open")),
            }
        )

    app.router.add_post("/configure", configure)
    app.router.add_post("/reset", reset)
    app.router.add_get("/stats", stats)
    app.router.add_get("/ephemerals", ephemerals)
    app.router.add_get("/messages", messages)
    app.router.add_get("/progress", progress)
    app.router.add_get("/deliveries", deliveries)
    return app


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


async def _serve(ready_file: Path) -> None:
    from tests.slack_double import SlackDouble

    double = SlackDouble(token=TOKEN)
    api = await double.start()
    runner = web.AppRunner(_control_app(double), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    tmp = ready_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"url": api, "control": f"http://127.0.0.1:{port}", "pid": os.getpid()}))
    tmp.rename(ready_file)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    await done.wait()
    await runner.cleanup()
    await double.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.double")
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.ready_file))


# -- parent --------------------------------------------------------------------------------------


class RemoteDouble:
    """Starts the double's process and talks to its control API."""

    def __init__(self, workdir: Path, *, cpus: set[int] | None = None) -> None:
        self.workdir = workdir
        self.ready = workdir / "double.ready"
        self.child = Child(
            "slack-double",
            python_module("bench.double", "--ready-file", str(self.ready)),
            env=child_env(),
            cwd=workdir,
            log_path=workdir / "double.log",
            cpus=cpus,
        )
        self.url = ""
        self.control = ""
        self.token = TOKEN
        self._http: aiohttp.ClientSession | None = None

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    async def __aenter__(self) -> RemoteDouble:
        self.child.start()
        info = json.loads(await wait_file(self.ready, child=self.child))
        self.url, self.control = info["url"], info["control"]
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()
        self.child.stop()

    async def _get(self, path: str, **params: str) -> Any:
        assert self._http is not None
        async with self._http.get(self.control + path, params=params) as resp:
            resp.raise_for_status()
            return await resp.json()

    async def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        assert self._http is not None
        async with self._http.post(self.control + path, json=body or {}) as resp:
            resp.raise_for_status()
            return await resp.json()

    async def configure(self, **body: Any) -> None:
        await self._post("/configure", body)

    async def reset(self) -> None:
        await self._post("/reset")

    async def stats(self) -> dict[str, Any]:
        return dict(await self._get("/stats"))

    async def ephemerals(self) -> list[tuple[str, str, float]]:
        return [(str(u), str(c), float(at)) for u, c, at in (await self._get("/ephemerals"))["ephemerals"]]

    async def messages_in(self, channel: str) -> list[dict[str, Any]]:
        return list((await self._get("/messages", channel=channel))["messages"])

    async def progress(self, usergroup: str) -> dict[str, int]:
        return dict(await self._get("/progress", usergroup=usergroup))

    async def deliveries(self, usergroup: str) -> dict[str, Any]:
        return dict(await self._get("/deliveries", usergroup=usergroup))


if __name__ == "__main__":
    main()
