"""A closed-loop load generator: N clicks in flight, each from a new user, correctly signed.

Every worker sends a block_actions request, waits for the response, and sends the next one at
once, until the time is up. Each request comes from a user who has not clicked before, so every
request the product acknowledges should become one new stored response.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

TEAM = "T0001"


def user_id(n: int) -> str:
    return f"U{n:06d}"


@dataclass
class Button:
    channel: str
    action_id: str
    block_id: str
    value: str


@dataclass
class LoadResult:
    concurrency: int
    duration: float
    started: float = 0.0
    last_ack: float = 0.0
    acked: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    # user -> monotonic time the click was sent, for click-to-confirmation latency.
    sent_at: dict[str, float] = field(default_factory=dict)
    acked_users: set[str] = field(default_factory=set)

    @property
    def elapsed(self) -> float:
        return max(self.last_ack - self.started, 1e-9)

    @property
    def ack_throughput(self) -> float:
        return self.acked / self.elapsed


def click_body(user: str, button: Button, n: int) -> str:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A0PULSE",
        "token": "legacy",
        "trigger_id": f"{n}.{n}.bench",
        "channel": {"id": button.channel},
        "container": {"type": "message", "channel_id": button.channel, "message_ts": "1700000000.000100"},
        "message": {"ts": "1700000000.000100"},
        "response_url": "https://hooks.slack.invalid/actions/T0001/1/bench",
        "actions": [
            {
                "type": "button",
                "action_id": button.action_id,
                "block_id": button.block_id,
                "value": button.value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def closed_loop(
    url: str,
    button: Button | Sequence[Button],
    *,
    signing_secret: str,
    users: itertools.count[int],
    concurrency: int,
    duration: float,
    request_timeout: float = 30.0,
) -> LoadResult:
    """Drive `url` (…/slack/events) for `duration` seconds with `concurrency` requests in flight."""
    # Several buttons (items, rounds): each new person clicks the next one in turn.
    buttons = [button] if isinstance(button, Button) else list(button)
    signer = SignatureVerifier(signing_secret)
    result = LoadResult(concurrency=concurrency, duration=duration)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=request_timeout)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def worker() -> None:
            while time.monotonic() < deadline:
                n = next(users)
                user = user_id(n)
                body = click_body(user, buttons[n % len(buttons)], n)
                ts = str(int(time.time()))
                headers = {
                    "X-Slack-Request-Timestamp": ts,
                    "X-Slack-Signature": signer.generate_signature(timestamp=ts, body=body) or "",
                    "Content-Type": "application/x-www-form-urlencoded",
                }
                t0 = time.monotonic()
                result.sent_at[user] = t0
                try:
                    async with http.post(url, data=body.encode(), headers=headers) as resp:
                        await resp.read()
                        status = resp.status
                except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                    status = 0
                    reason = type(exc).__name__
                else:
                    reason = f"HTTP {status}"
                t1 = time.monotonic()
                if status == 200:
                    result.acked += 1
                    result.acked_users.add(user)
                    result.latencies.append(t1 - t0)
                    result.last_ack = max(result.last_ack, t1)
                else:
                    result.errors += 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(reason)

        result.started = time.monotonic()
        deadline = result.started + duration
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return result
