"""The Teams app package in teams-app/: a manifest Teams accepts and the two icons it asks for."""

from __future__ import annotations

import json
import re
from pathlib import Path

from PIL import Image

from bot.commands.parser import COMMANDS

APP = Path(__file__).resolve().parents[3] / "teams-app"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_manifest_has_what_teams_requires() -> None:
    manifest = json.loads((APP / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["manifestVersion"] == "1.17" and manifest["$schema"].endswith("/v1.17/MicrosoftTeams.schema.json")
    assert GUID.match(manifest["id"]) and re.match(r"^\d+\.\d+\.\d+$", manifest["version"])
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["name"]["full"]) <= 100
    assert len(manifest["description"]["short"]) <= 80 and len(manifest["description"]["full"]) <= 4000
    assert all(manifest["developer"][k].startswith("https://") for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl"))
    assert re.match(r"^#[0-9A-Fa-f]{6}$", manifest["accentColor"])
    [bot] = manifest["bots"]
    assert GUID.match(bot["botId"])
    assert set(bot["scopes"]) == {"team", "groupChat", "personal"}
    for commands in bot["commandLists"]:
        assert len(commands["commands"]) <= 10
        for command in commands["commands"]:
            verb = command["title"].split()[1]
            assert command["title"].startswith("pulse ") and verb in COMMANDS
            assert len(command["title"]) <= 32 and len(command["description"]) <= 128


def test_icons_are_the_sizes_teams_asks_for() -> None:
    with Image.open(APP / "color.png") as color:
        assert color.format == "PNG" and color.size == (192, 192)
    with Image.open(APP / "outline.png") as outline:
        assert outline.format == "PNG" and outline.size == (32, 32) and outline.mode == "RGBA"
        raw = outline.tobytes()
    pixels = [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]
    # White on transparent: every pixel white, some of them visible, the corners clear.
    assert all(p[:3] == (255, 255, 255) for p in pixels)
    assert any(p[3] > 200 for p in pixels) and pixels[0][3] == 0
