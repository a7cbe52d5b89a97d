"""A Teams survey configured once from the command line, and a round sent from it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bot.teams.ids import conversation_key
from storage.models import Survey
from tests.e2e.teams.conftest import ELMHURST, LEADERS, OAKFIELD, installed
from tests.harness import SimClock
from tests.teams_double import TENANT, TeamsDouble, cards_of
from tests.teams_double.harness import TeamsHarness

PULSE = str(Path(sys.executable).with_name("pulse"))


async def pulse(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "SLACK_", "DATABASE_", "TEAMS_"))}
    env.update(
        DATABASE_URL=db_url,
        PULSE_ANONYMITY_SECRET="cli-test-secret-of-32-characters-or-more",
        TEAMS_APP_ID="a1b2c3d4-0000-4000-8000-00000000b071",
        TEAMS_TENANT_ID=TENANT,
        TEAMS_AUTH_DISABLED="true",
    )
    return await asyncio.to_thread(
        subprocess.run, [PULSE, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


async def test_create_a_teams_survey_and_send_a_round_from_the_command_line(
    db_url: str, teams: TeamsDouble, clock: SimClock, tmp_path: Path
) -> None:
    async with TeamsHarness(db_url, double=teams, clock=clock, auth=False) as app:
        oak, elm, leaders = await installed(app)
        made = await pulse(
            db_url,
            "surveys", "create", "--platform", "teams", "--bank", "staff-trust-in-leadership",
            "--channel", oak, "--channel", elm, "--digest-channel", leaders, "--items", "2",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        survey_id = int(made.stdout.strip().splitlines()[-1])
        async with app.db.session() as s:
            survey = (await s.scalars(select(Survey).where(Survey.id == survey_id))).one()
        assert (survey.platform, survey.workspace_id) == ("teams", TENANT)
        assert survey.segment_labels == {oak: "Oakfield Primary", elm: "Elmhurst Academy"}
        assert survey.digest_channel == conversation_key(LEADERS)

        sent = await pulse(db_url, "rounds", "open", str(survey_id))
        assert sent.returncode == 0, sent.stderr + sent.stdout
        assert "2 sent" in sent.stdout
        for team in (OAKFIELD, ELMHURST):
            assert len([m for m in teams.messages_in(team) if cards_of(m)]) == 1

        refused = await pulse(
            db_url,
            "surveys", "create", "--platform", "teams", "--bank", "staff-trust-in-leadership",
            "--channel", "T0123456789ABCDEF", "--digest-channel", leaders,
        )  # fmt: skip
        assert refused.returncode == 1 and "not installed" in refused.stderr
