"""The Slack app manifests ask for exactly the scopes the code needs: every one, and no other.

The code is scanned for calls to slack_sdk's Web API methods (any `.chat_postMessage(`,
`.conversations_open(`, ...: every public method of AsyncWebClient is looked for by name, so the
variable it is called on does not matter). Each method found must be in SCOPES below, a table
taken from Slack's method reference; a new method fails this test until it is added here, and
its scopes then must be in the manifests.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.oauth import BOT_SCOPES

ROOT = Path(__file__).resolve().parents[3]
MANIFESTS = [ROOT / "slack" / "manifest.yaml", ROOT / "slack" / "manifest.socket.yaml"]

# Web API method (as slack_sdk names it) -> bot scopes it needs, for the conversation types the
# product uses: public and private channels, one-to-one DMs, and group DMs for introducing a JPD
# exchange's groups.
SCOPES: dict[str, set[str]] = {
    "chat_postMessage": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_delete": {"chat:write"},
    "conversations_open": {"im:write", "mpim:write"},
    "conversations_members": {"channels:read", "groups:read"},
    "conversations_info": {"channels:read", "groups:read"},
    # Looked through for an earlier post of a delivery: school channels and people's DMs.
    "conversations_history": {"channels:history", "groups:history", "im:history"},
    "users_info": {"users:read"},
    "users_list": {"users:read"},
    "usergroups_list": {"usergroups:read"},
    "usergroups_users_list": {"usergroups:read"},
    # files.getUploadURLExternal and files.completeUploadExternal.
    "files_upload_v2": {"files:write"},
    "views_open": set(),
    "views_update": set(),
    "views_push": set(),
    "views_publish": set(),
    "auth_test": set(),
    "oauth_v2_access": set(),
}
# Not a method: the /pulse slash command itself needs it.
FEATURE_SCOPES = {"commands"}
EVENTS = {"app_home_opened", "app_uninstalled", "tokens_revoked"}


def web_api_methods() -> set[str]:
    return {
        name
        for name in dir(AsyncWebClient)
        if not name.startswith("_") and "_" in name and callable(getattr(AsyncWebClient, name))
    }


def methods_called(paths: list[Path]) -> dict[str, list[str]]:
    """Web API methods called anywhere in `paths`, with where."""
    pattern = re.compile(r"\.(" + "|".join(sorted(web_api_methods(), key=len, reverse=True)) + r")\(")
    found: dict[str, list[str]] = {}
    for path in paths:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for match in pattern.finditer(line):
                found.setdefault(match.group(1), []).append(f"{path.name}:{n}")
    return found


def code_paths() -> list[Path]:
    return sorted(p for p in (ROOT / "bot").rglob("*.py") if "__pycache__" not in p.parts)


def test_the_scan_finds_calls_whatever_they_are_called_on(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("await self._sender.chat_postMessage(x)\nawait app.client.views_publish(\nuser_id=1)\n")
    assert set(methods_called([sample])) == {"chat_postMessage", "views_publish"}


def test_every_web_api_method_the_code_calls_is_in_the_table() -> None:
    called = methods_called(code_paths())
    assert {"chat_postMessage", "views_open", "views_publish", "users_info"} <= set(called)
    unknown = {m: where for m, where in called.items() if m not in SCOPES}
    assert not unknown, f"add these methods and their scopes to SCOPES: {unknown}"
    assert "api_call" not in called, "api_call hides which method is called; use the named method"


def needed_scopes() -> set[str]:
    called = methods_called(code_paths())
    return set().union(*(SCOPES[m] for m in called)) | FEATURE_SCOPES


def test_manifests_ask_for_exactly_the_scopes_the_code_needs() -> None:
    needed = needed_scopes()
    for path in MANIFESTS:
        manifest = yaml.safe_load(path.read_text())
        listed = manifest["oauth_config"]["scopes"]["bot"]
        assert len(listed) == len(set(listed)), f"{path.name} lists a scope twice"
        assert set(listed) - needed == set(), f"{path.name} asks for scopes the code never uses"
        assert needed - set(listed) == set(), f"{path.name} lacks scopes the code needs"
        assert "user" not in manifest["oauth_config"]["scopes"], "the app needs no user token"
    assert set(BOT_SCOPES) == needed, "the OAuth flow must request the manifest's scopes"


def test_manifests_wire_the_command_interactivity_and_events() -> None:
    http, socket = (yaml.safe_load(p.read_text()) for p in MANIFESTS)
    for manifest in (http, socket):
        [command] = manifest["features"]["slash_commands"]
        assert command["command"] == "/pulse"
        assert manifest["settings"]["interactivity"]["is_enabled"] is True
        assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == EVENTS
        assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert http["settings"]["socket_mode_enabled"] is False
    assert socket["settings"]["socket_mode_enabled"] is True
    events_url = "/slack/events"
    assert http["features"]["slash_commands"][0]["url"].endswith(events_url)
    assert http["settings"]["interactivity"]["request_url"].endswith(events_url)
    assert http["settings"]["event_subscriptions"]["request_url"].endswith(events_url)
    assert http["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
    # Socket Mode has no request URLs at all.
    assert "url" not in socket["features"]["slash_commands"][0]
    assert "request_url" not in socket["settings"]["interactivity"]
    assert "request_url" not in socket["settings"]["event_subscriptions"]


def test_the_app_listens_for_the_events_the_manifest_subscribes_to() -> None:
    source = "\n".join(p.read_text() for p in code_paths())
    assert '@app.event("app_home_opened")' in source
    # tokens_revoked and app_uninstalled: Bolt's own listeners, switched on for OAuth installs.
    assert "enable_token_revocation_listeners()" in source
