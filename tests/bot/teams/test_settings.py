"""Teams settings: authentication is complete, or switched off on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import MissingSetting, Settings
from bot.teams.auth import teams_auth

BASE = {"pulse_anonymity_secret": "s" * 32, "_env_file": None}


def settings(**values: object) -> Settings:
    return Settings(**{**BASE, **values})  # type: ignore[arg-type]


def test_teams_alone_needs_no_slack_secrets_but_its_own() -> None:
    settings(teams_app_id="app", teams_app_password="pw", teams_tenant_id="tenant").require_serve()
    with pytest.raises(MissingSetting, match="TEAMS_APP_PASSWORD"):
        settings(teams_app_id="app", teams_tenant_id="tenant").require_serve()
    with pytest.raises(MissingSetting, match="TEAMS_TENANT_ID"):
        settings(teams_app_id="app", teams_app_password="pw").require_serve()
    with pytest.raises(MissingSetting, match="SLACK_BOT_TOKEN"):
        settings().require_serve()


def test_authentication_is_on_unless_disabled() -> None:
    on = teams_auth(settings(teams_app_id="app", teams_app_password="pw", teams_tenant_id="tenant"))
    assert on.enabled and on.app_id == "app" and not on.config.ANONYMOUS_ALLOWED
    assert on.host_validator is not None and on.host_validator.enabled
    off = teams_auth(settings(teams_auth_disabled=True))
    assert not off.enabled and off.config.ANONYMOUS_ALLOWED and off.host_validator is None


def test_a_certificate_instead_of_a_password(tmp_path: Path) -> None:
    pfx = tmp_path / "bot.pfx"
    pfx.write_bytes(b"not read until a token is asked for")
    auth = teams_auth(settings(teams_app_id="app", teams_certificate_file=pfx, teams_tenant_id="tenant"))
    assert str(pfx) == auth.config.CERT_PFX_FILE and auth.config.CLIENT_SECRET is None
