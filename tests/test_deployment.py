"""The deployment files, checked without a container engine (none runs here): the image builds
from files that exist, runs as a non-root user with the hash-checked lock, and every command it or
the compose file or the Procfile runs is a real `pulse` command; its health check asks a path the
web process answers."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli.main import _parser

ROOT = Path(__file__).resolve().parents[1]


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _is_pulse_command(argv: list[str]) -> bool:
    """Whether `argv` (pulse …) parses as a command of the real CLI, without running it."""
    if not argv or argv[0] != "pulse":
        return False
    try:
        args = _parser().parse_args(argv[1:])
    except SystemExit:
        return False
    return callable(getattr(args, "run", None))


def test_the_image_builds_from_files_that_exist_as_a_non_root_user_with_hashes() -> None:
    steps = _instructions()
    assert steps[0][0] == "FROM" and re.fullmatch(r"python:3\.1[1-9]-slim", steps[0][1])
    for word, rest in steps:
        if word == "COPY":
            *sources, _dest = shlex.split(rest)
            for source in sources:
                assert (ROOT / source).exists(), source
    runs = " ".join(rest for word, rest in steps if word == "RUN")
    assert "pip install --require-hashes -r requirements.lock" in runs
    users = [rest for word, rest in steps if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    # Nothing the image copies is left out by .dockerignore.
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()}
    copied = {s for word, rest in steps if word == "COPY" for s in shlex.split(rest)[:-1]}
    assert not copied & ignored


def test_the_image_runs_pulse_web_and_checks_the_health_path() -> None:
    steps = dict(_instructions())
    assert _is_pulse_command(json.loads(steps["CMD"]))
    assert json.loads(steps["CMD"]) == ["pulse", "web"]
    assert "/healthz" in steps["HEALTHCHECK"]


async def test_the_health_path_answers_on_the_web_app(db_url: str) -> None:
    from tests.harness import Harness
    from tests.slack_double import SlackDouble

    async with SlackDouble() as double, Harness(db_url, double=double) as app:
        assert app.http is not None
        async with app.http.get(f"{app.url}/healthz") as resp:
            assert resp.status == 200 and (await resp.json())["database"] == "up"


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_starts_postgres_migrations_two_webs_and_one_clock() -> None:
    services = _compose()["services"]
    commands = {name: s.get("command") for name, s in services.items()}
    assert services["db"]["image"].startswith("postgres:")
    assert commands["release"] == ["pulse", "db", "upgrade"]
    assert sorted(n for n, c in commands.items() if c == ["pulse", "web"]) == ["web", "web-2"]
    assert [n for n, c in commands.items() if c == ["pulse", "clock"]] == ["clock"]
    for name, command in commands.items():
        if command is not None:
            assert _is_pulse_command(command), name
    for name in ("web", "web-2", "clock"):
        assert services[name]["depends_on"]["release"]["condition"] == "service_completed_successfully"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert services["release"]["depends_on"]["db"]["condition"] == "service_healthy"


@pytest.mark.parametrize("line", (ROOT / "Procfile").read_text().splitlines())
def test_every_procfile_process_is_a_pulse_command(line: str) -> None:
    _name, _, command = line.partition(":")
    assert _is_pulse_command(shlex.split(command))


def test_the_env_example_names_every_secret_the_image_needs() -> None:
    names = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line}
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "PULSE_ANONYMITY_SECRET", "POSTGRES_PASSWORD"} <= names
