"""The start-up baseline: the smallest aiohttp server that answers GET /healthz with 200.

``python -m bench.hello_server --port P``; imports aiohttp and nothing of the product.
"""

from __future__ import annotations

import argparse

from aiohttp import web


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hello_server")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
