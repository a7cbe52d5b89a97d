"""Run the Slack double standalone: ``python -m tests.slack_double --port 0``.

Prints the base URL on the first line (then a hint line) and serves until
interrupted (Ctrl-C / SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from .server import SlackDouble


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.slack_double", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = ephemeral port (default)")
    parser.add_argument("--token", default="xoxb-test")
    parser.add_argument("--team-id", default="T0001")
    parser.add_argument("--strict-channels", action="store_true", help="accept_any_channel=False")
    parser.add_argument("--per-channel-per-second", type=float, default=None, help="chat.postMessage limit")
    parser.add_argument("--burst", type=int, default=1)
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    double = SlackDouble(token=args.token, team_id=args.team_id, accept_any_channel=not args.strict_channels)
    double.limits.per_channel_per_second = args.per_channel_per_second
    double.limits.burst = args.burst
    url = await double.start(host=args.host, port=args.port)
    print(url, flush=True)
    print(f"# AsyncWebClient(token={args.token!r}, base_url={double.api_url!r})", flush=True)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, done.set)
    try:
        await done.wait()
    finally:
        await double.stop()


def main(argv: list[str] | None = None) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(_parse(argv)))


if __name__ == "__main__":
    main()
