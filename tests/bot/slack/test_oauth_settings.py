"""Start-up checks with multi-workspace installs: no bot token needed, the client secret is."""

from __future__ import annotations

import pytest

from bot.settings import MissingSetting, Settings

BASE = {"slack_signing_secret": "s", "pulse_anonymity_secret": "a" * 32}


def test_token_mode_needs_the_bot_token() -> None:
    with pytest.raises(MissingSetting, match="SLACK_BOT_TOKEN"):
        Settings(_env_file=None, slack_bot_token=None, **BASE).require_serve()  # type: ignore[call-arg]


def test_oauth_mode_needs_the_client_secret_and_not_a_bot_token() -> None:
    oauth = Settings(_env_file=None, slack_client_id="1.2", **BASE)  # type: ignore[call-arg]
    assert oauth.slack_oauth_enabled
    with pytest.raises(MissingSetting, match="SLACK_CLIENT_SECRET"):
        oauth.require_serve()
    Settings(_env_file=None, slack_client_id="1.2", slack_client_secret="c", **BASE).require_serve()  # type: ignore[call-arg]


def test_oauth_mode_still_needs_the_signing_secret() -> None:
    with pytest.raises(MissingSetting, match="SLACK_SIGNING_SECRET"):
        Settings(  # type: ignore[call-arg]
            _env_file=None, slack_client_id="1.2", slack_client_secret="c", pulse_anonymity_secret="a" * 32
        ).require_serve()
