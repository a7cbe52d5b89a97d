"""Child processes for the benchmarks: start them, pin them to cores, wait for them, measure them, stop them.

Every process here is one the benchmark started itself, and it is stopped by its own pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Settings a developer's shell might carry that would point a child at the wrong place.
_SCRUB = (
    "DATABASE_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "PULSE_ANONYMITY_SECRET",
    "PULSE_BANKS_DIR",
    "PULSE_COORDINATORS",
    "PORT",
    "HOST",
    "LOG_LEVEL",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def pulse_command(*args: str) -> list[str]:
    """The installed `pulse` script next to this interpreter, or the module when it is not installed."""
    script = Path(sys.executable).parent / "pulse"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "bot.cli.main", *args]


class Placement:
    """Which cores the server under test gets, and which the load generator and the Slack double share.

    On two or more cores the server gets core 0 to itself and everything else shares the rest, so the
    load generator never steals the server's core; on one core nothing is pinned.
    """

    def __init__(self, enabled: bool = True) -> None:
        cpus = sorted(os.sched_getaffinity(0))
        self.all = set(cpus)
        self.enabled = enabled and len(cpus) >= 2
        self.server = {cpus[0]} if self.enabled else set(cpus)
        self.load = set(cpus[1:]) if self.enabled else set(cpus)

    def describe(self) -> str:
        if not self.enabled:
            return f"not pinned ({len(self.all)} core(s) shared by all processes)"
        return (
            f"server under test pinned to core(s) {sorted(self.server)}; load generator and Slack double "
            f"share core(s) {sorted(self.load)}"
        )

    @contextlib.contextmanager
    def load_side(self):  # type: ignore[no-untyped-def]
        """Run this process (the load generator) on the load cores for the duration."""
        before = os.sched_getaffinity(0)
        if self.enabled:
            os.sched_setaffinity(0, self.load)
        try:
            yield
        finally:
            os.sched_setaffinity(0, before)


class Child:
    """One child process with its output in a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str],
        cwd: Path,
        log_path: Path,
        cpus: set[int] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.cwd = cwd
        self.log_path = log_path
        self.cpus = cpus
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> Child:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            self.argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()
        if self.cpus:
            # Threads the child creates later inherit this mask.
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(self.proc.pid, self.cpus)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def status_kib(self, field: str) -> int | None:
        """A memory figure from /proc/<pid>/status (VmHWM = peak resident, VmRSS = resident now), in KiB."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        except (OSError, ValueError):
            return None
        return None

    def peak_rss_mb(self) -> float | None:
        kib = self.status_kib("VmHWM")
        return None if kib is None else round(kib / 1024, 1)

    def rss_mb(self) -> float | None:
        kib = self.status_kib("VmRSS")
        return None if kib is None else round(kib / 1024, 1)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the whole process (all its threads) so far."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        # After the command name: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


async def wait_http_ok(url: str, *, child: Child | None = None, within: float = 60.0, interval: float = 0.005) -> float:
    """Poll `url` until it answers 200; returns the monotonic time it did."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError, asyncio.TimeoutError):
                async with http.get(url) as resp:
                    await resp.read()
                    if resp.status == 200:
                        return time.monotonic()
            if child is not None and not child.alive():
                raise RuntimeError(f"{child.name} exited before {url} answered:\n{child.log_tail()}")
            if time.monotonic() > deadline:
                tail = child.log_tail() if child is not None else ""
                raise TimeoutError(f"{url} did not answer 200 within {within:.0f}s\n{tail}")
            await asyncio.sleep(interval)


def _read_if_written(path: Path) -> str | None:
    return path.read_text() if path.exists() and path.stat().st_size else None


async def wait_file(path: Path, *, child: Child, within: float = 30.0) -> str:
    """Wait for a child to write `path` (it writes it whole, by rename)."""
    deadline = time.monotonic() + within
    while True:
        text = _read_if_written(path)
        if text is not None:
            return text
        if not child.alive():
            raise RuntimeError(f"{child.name} exited before it was ready:\n{child.log_tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{child.name} was not ready within {within:.0f}s\n{child.log_tail()}")
        await asyncio.sleep(0.01)
