"""Local double of Slack's Web API for Pulse Audit tests.

A real aiohttp HTTP server on 127.0.0.1 (ephemeral port) that the real
``slack_sdk`` ``AsyncWebClient`` talks to::

    from tests.slack_double import SlackDouble

    async with SlackDouble(users={"U1": {"is_admin": True}}) as slack:
        client = AsyncWebClient(token=slack.token, base_url=f"{slack.url}/api/")
        ...
        assert slack.messages_in("C0001")[-1]["text"] == "hi"

Pieces:

* :class:`SlackDouble` -- the server, recorded state, ``faults`` and ``limits``.
* :func:`validate_blocks` / :func:`validate_view` -- pure Block Kit checks
  (also used by the server) for renderer unit tests.
* :class:`Limits` -- token-bucket rate limits (off by default).
* :class:`Faults` -- fault injection (500s, 429s, timeouts, slowness, drops).
"""

from .blocks import MAX_BLOCKS, MAX_MESSAGE_TEXT, validate_blocks, validate_view
from .faults import Faults
from .limits import METHOD_TIERS, TIER_PER_MINUTE, Limits, TokenBucket, retry_after_seconds
from .server import Call, SlackDouble, ts_key

__all__ = [
    "MAX_BLOCKS",
    "MAX_MESSAGE_TEXT",
    "METHOD_TIERS",
    "TIER_PER_MINUTE",
    "Call",
    "Faults",
    "Limits",
    "SlackDouble",
    "TokenBucket",
    "retry_after_seconds",
    "ts_key",
    "validate_blocks",
    "validate_view",
]
