"""PostgreSQL restarts in the middle of a fan-out: the app carries on by itself.

This test starts its own throwaway PostgreSQL cluster on a free port of its own (the same steps
as .ci/postgres.sh; PULSE_RESTART_PG_PORT picks the port), so stopping it cannot disturb the
server the rest of the suite uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from storage.db import Database
from storage.migrate import upgrade
from storage.models import HeldAnswer
from surveys.banks import BankRegistry
from surveys.sending import drain
from tests.harness import Harness, buttons_of
from tests.reliability.conftest import (
    GROUP,
    add_survey,
    assert_exactly_once,
    assert_rows_match_messages,
    open_only,
    options,
    platform_for,
    round_messages,
    staff,
)
from tests.slack_double import SlackDouble


def _free_port() -> int:
    """A port nobody listens on now (a fixed one can be held by any client's ephemeral socket)."""
    if os.environ.get("PULSE_RESTART_PG_PORT"):
        return int(os.environ["PULSE_RESTART_PG_PORT"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    port: int
    bin: Path
    data: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        subprocess.run(
            [*as_postgres, str(self.bin / "pg_ctl"), "-D", str(self.data / "db"), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        self._pg_ctl("-l", str(self.data / "log"), "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "-w", "stop")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin); .ci/run installs them")
    pg_bin = Path(found[-1]).parent
    data = Path(tempfile.mkdtemp(prefix="pulse-pg-restart-"))
    as_postgres = []
    if os.getuid() == 0:
        shutil.chown(data, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    c = Cluster(_free_port(), pg_bin, data)
    try:
        subprocess.run(
            [*as_postgres, str(pg_bin / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        c.start()
        upgrade(c.url)
        yield c
    finally:
        with contextlib.suppress(Exception):
            c.stop("immediate")
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
async def pg(cluster: Cluster) -> AsyncIterator[Database]:
    db = Database(cluster.url)
    async with db.session() as session:
        names = (
            await session.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            )
        ).scalars()
        await session.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
    yield db
    await db.dispose()


async def _keep_draining(db: Database, platform, banks: BankRegistry, stop: asyncio.Event) -> int:  # type: ignore[no-untyped-def]
    """What the clock's outbox job does every few seconds, database or not."""
    failures = 0
    while not stop.is_set():
        try:
            await drain(db, platform, banks, options=options(concurrency=8))
        except Exception:
            failures += 1
        await asyncio.sleep(0.1)
    return failures


@pytest.mark.slow
async def test_the_database_restarts_mid_fan_out_and_everything_recovers_by_itself(
    cluster: Cluster, pg: Database, banks: BankRegistry
) -> None:
    users = staff(600)
    double = SlackDouble(usergroups={GROUP: users})
    async with double, Harness(cluster.url, double=double, banks=banks) as app:
        platform = platform_for(double)
        await open_only(pg, banks, platform, await add_survey(pg))
        double.faults.slow("chat.postMessage", 0.01)
        stop = asyncio.Event()
        sender = asyncio.create_task(_keep_draining(pg, platform, banks, stop))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while len(round_messages(double)) < len(users) // 4:
            assert loop.time() < deadline and not sender.done()
            await asyncio.sleep(0.01)

        await asyncio.to_thread(cluster.stop, "immediate")  # a crash, not a polite shutdown
        status, _ = await _healthz(app)
        assert status == 503
        await asyncio.sleep(1.0)
        await asyncio.to_thread(cluster.start)

        while len(round_messages(double)) < len(users) or await _unfinished(pg):
            assert loop.time() < deadline, "sending did not recover after the restart"
            await asyncio.sleep(0.05)
        stop.set()
        failed_drains = await sender
        assert failed_drains >= 1  # the outage was felt, and ridden out
        assert_exactly_once(double, users)
        await assert_rows_match_messages(pg, double)

        # The web side needed no restart either: health is back and a click is answered. The
        # round's key lived in an unlogged table, which a crash empties (so no WAL, archive or
        # replica ever held it): the round can take no more answers, and says so politely.
        assert (await _healthz(app))[0] == 200
        message = round_messages(double)[0]
        user = double.dms[message["channel"]][0]
        button = next(iter(buttons_of(message).values()))[0]
        assert await app.click(user, message["channel"], button) == 200
        await app.wait_for(lambda: len(double.ephemerals) == 1)
        assert "has closed" in double.ephemerals[0]["text"]
        async with pg.session() as session:
            assert await session.scalar(select(func.count()).select_from(HeldAnswer)) == 0


async def _healthz(app: Harness) -> tuple[int, str]:
    assert app.http is not None
    async with app.http.get(f"{app.url}/healthz") as resp:
        return resp.status, await resp.text()


async def _unfinished(db: Database) -> int:
    from storage import repo

    try:
        async with db.session() as session:
            return await repo.unfinished_deliveries(session)
    except Exception:
        return -1
