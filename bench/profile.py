"""Where the time goes: py-spy samples a process while a benchmark runs (`python -m bench --profile`).

py-spy is not a dependency of the product: `.venv/bin/pip install py-spy` to use this. It attaches
to a running process by pid (the server under test, or the benchmark process itself for fan-out
and the digest), writes the sampled stacks to bench/.data/profiles/<name>.txt (collapsed, one
stack per line, usable with any flame-graph tool) and summarises them: the functions of our own
code (bot/, surveys/, storage/) with the largest share of samples including what they call, and
the leaf functions where the samples landed.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

OURS = ("bot/", "surveys/", "storage/")
# Leaves that mean a thread sat waiting for work (py-spy counts a blocking queue.get as busy).
IDLE_LEAVES = ("_connection_worker_thread", "_worker")


def available() -> bool:
    return _py_spy() is not None


def _py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


class Profile:
    """py-spy recording one process until stopped."""

    def __init__(self, out_dir: Path, name: str, pid: int, *, rate: int = 100) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.path = out_dir / f"{name}.txt"
        self.name = name
        exe = _py_spy()
        if exe is None:
            raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
        self.proc = subprocess.Popen(
            [exe, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw", "--output", str(self.path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self) -> dict[str, Any]:
        # py-spy writes its output when interrupted.
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        if not self.path.exists():
            return {"file": None, "error": (err or b"").decode(errors="replace")[-500:]}
        return summarise(self.path)


def _frames(stack: str) -> list[tuple[str, str]]:
    """(function, file) pairs, outermost first, from one collapsed py-spy stack."""
    out = []
    for frame in stack.split(";"):
        name, _, rest = frame.partition(" (")
        out.append((name.strip(), rest.rsplit(":", 1)[0]))
    return out


def summarise(path: Path, top: int = 12) -> dict[str, Any]:
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = _frames(stack)
        if frames[-1][0] in IDLE_LEAVES:
            continue
        total += n
        seen = set()
        for name, file in frames:
            if (file.startswith(OURS) or any(f"/{part}" in file for part in OURS)) and "bot/cli/" not in file:
                key = f"{name} ({_short(file)})"
                if key not in seen:
                    seen.add(key)
                    inclusive[key] += n
        name, file = frames[-1]
        leaf[f"{name} ({_short(file)})"] += n

    def pct(counter: Counter[str]) -> list[list[Any]]:
        return [[k, round(100.0 * v / total, 1)] for k, v in counter.most_common(top)] if total else []

    return {"file": str(path), "busy_samples": total, "ours_inclusive_pct": pct(inclusive), "leaf_pct": pct(leaf)}


def _short(file: str) -> str:
    for marker in ("site-packages/", "/work/", "lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def describe(summary: dict[str, Any], top: int = 6) -> str:
    """One line for the table's notes: where the samples went."""
    if not summary.get("busy_samples"):
        return f"no samples ({summary.get('error', 'py-spy wrote nothing')})"
    ours = ", ".join(f"{name} {p}%" for name, p in summary["ours_inclusive_pct"][:top])
    leaves = ", ".join(f"{name} {p}%" for name, p in summary["leaf_pct"][:top])
    where = f"{summary['busy_samples']} busy samples in {summary['file']}"
    return f"{where}; our code (incl. callees): {ours}; leaves: {leaves}"
