"""`python -m bench [ingestion|fanout|digest|memory|startup ...] [--quick]`: run, print a table, write results.json.

Exit status: 1 when a correctness check failed (a fast wrong answer), 2 on a crash; goals that are
missed are shown as MISSED in the table but do not fail the run unless --strict is given.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench import BENCHMARKS, machine
from bench.report import Outcome, table, write_results


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("names", nargs="*", metavar="BENCHMARK", help="any of: " + ", ".join(BENCHMARKS) + " (default all)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the benchmarks work, figures mean little")
    p.add_argument("--no-pin", action="store_true", help="do not pin the server under test to its own core")
    p.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed too")
    p.add_argument("--keep", action="store_true", help="keep the work directories (logs, databases)")
    p.add_argument("--no-write", action="store_true", help="do not update bench/results.json")
    p.add_argument("--markdown", action="store_true", help="print bench/results.json as Markdown tables and exit")
    p.add_argument(
        "--profile", action="store_true", help="sample with py-spy (pip install py-spy); stacks in bench/.data/profiles"
    )
    return p


async def _run_all(names: list[str], args: argparse.Namespace) -> list[Outcome]:
    from bench import runner

    outcomes: list[Outcome] = []
    state: dict[str, object] = {}
    for name in names:
        workdir = Path(tempfile.mkdtemp(prefix=f"pulse-bench-{name}-"))
        started = time.monotonic()
        print(f"== {name} (work dir {workdir})", flush=True)
        try:
            outcome = await runner.run(
                name, workdir, quick=args.quick, pin=not args.no_pin, profile=args.profile, state=state
            )
        except Exception:
            traceback.print_exc()
            outcome = Outcome(name)
            outcome.check("benchmark ran to the end", "no exception", traceback.format_exc(limit=3), ok=False)
            args.keep = True
        outcome.seconds = round(time.monotonic() - started, 1)
        print(table([outcome]), flush=True)
        print(f"   ({outcome.seconds:.0f} s)\n", flush=True)
        outcomes.append(outcome)
        if args.keep:
            print(f"   kept {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.markdown:
        from bench.report import markdown

        print(markdown())
        return 0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        _parser().error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    if args.profile:
        from bench import profile

        if not profile.available():
            _parser().error("--profile needs py-spy: .venv/bin/pip install py-spy")
    info = machine.describe()
    print(f"machine: {info['nproc']} core(s), {info['cpu_model']}, Python {info['python']}", flush=True)
    started = time.monotonic()
    outcomes = asyncio.run(_run_all(names, args))
    print("== summary")
    print(table(outcomes))
    print(f"total {time.monotonic() - started:.0f} s")
    if not args.no_write and not args.quick:
        print(f"wrote {write_results(outcomes, info)}")
    if not all(o.correct for o in outcomes):
        return 1
    if args.strict and not all(o.goals_met for o in outcomes):
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
