"""Requests Slack sends that are not clicks or commands: the real app answers them as Bolt would."""

from __future__ import annotations

from tests.harness import Harness, signed_headers


async def test_slacks_ssl_check_gets_200(app: Harness) -> None:
    # Slack checks a slash command's certificate with a signed form post carrying ssl_check=1.
    body = "ssl_check=1&token=legacy-verification-token"
    status, _ = await app.post(body, {**signed_headers(body), "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
