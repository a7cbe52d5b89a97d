"""Benchmark 4, memory: peak resident memory (VmHWM) of `pulse serve`, idle and under benchmark 1's load.

Idle is read a second after /healthz first answers (so it includes start-up and migrations); under
load is read after the ingestion rounds. The baseline is the bare ack-and-confirm Bolt app from the
same run, read the same way. When `python -m bench` has just run the ingestion benchmark its
figures are used; run on its own, this starts a shorter ingestion run (one round of each app).
"""

from __future__ import annotations

from pathlib import Path

from bench import ingestion
from bench.report import Outcome, ratio

GOAL_MB = 150.0


async def run(workdir: Path, from_ingestion: object | None = None, *, quick: bool = False, pin: bool = True) -> Outcome:
    outcome = Outcome("memory", params={"goal_mb": GOAL_MB})
    source = from_ingestion if isinstance(from_ingestion, Outcome) else None
    if source is None:
        params = ingestion.Params(rounds=1, duration=10.0, warmup=1.0, pin=pin)
        if quick:
            params = ingestion.Params(concurrency=4, duration=1.0, rounds=1, warmup=0.3, pin=pin)
        source = await ingestion.run(workdir, params)
        outcome.params["load"] = f"own ingestion run: {params.rounds} round(s) of {params.duration:g} s"
    else:
        outcome.params["load"] = "this run's ingestion benchmark"
    # The numbers only stand if the load they were taken under was itself correct.
    for c in source.checks:
        outcome.check(f"under load: {c.name}", c.expected, c.actual, c.ok)
    memory = source.figures.get("memory") or {}
    outcome.figures["memory"] = memory
    product, base = memory.get("product", {}), memory.get("bare-confirm", {})
    for label, key in (("idle", "idle_peak_mb"), ("under ingestion load", "loaded_peak_mb")):
        value = product.get(key)
        outcome.row(
            f"pulse serve peak RSS, {label}",
            value,
            "MB",
            base.get(key),
            "bare ack+confirm",
            ratio(value, base.get(key)),
            f"< {GOAL_MB:g} MB",
            None if value is None else value < GOAL_MB,
        )
    return outcome
