"""Benchmark 7, ingestion at the floor: `pulse serve` under a long, heavy load of distinct people.

What the ingestion benchmark does in 20-second runs, here for a minute at a time, as a school
would run it: `pulse serve` (web and clock in one process) against the bare Bolt app that acks
and sends the same private confirmation, loaded in turn, alternating. The clicks come from at
least 50,000 people who have not clicked before, spread over several items of two open rounds.

Reported beside the bare app in the same run: throughput; p50, p99 and p99.9 of the ack and of the
private confirmation; the server's peak RSS (VmHWM) and its RSS once a second over each run, to
show whether memory grows with the number of people seen. Checked after the timing: every
acknowledged click is stored exactly once and confirmed exactly once, to its clicker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import ingestion, product
from bench.double import RemoteDouble
from bench.ingestion import Run, Servers, _log_errors, _ms, _one_run, _start_servers, _stored
from bench.load import Button, percentile
from bench.procs import Placement
from bench.report import Outcome, median, ratio
from tests.harness import buttons_of

CHANNELS = ("C0FLOOR1", "C0FLOOR2")
APPS = ("product", "bare-confirm")
ITEMS = (3, 2)  # items per round of the two surveys: clicks land on five items of two rounds

# The goals, against the bare ack+confirm app in the same run.
THROUGHPUT_GOAL = 0.9
ACK_P99_RATIO_GOAL = 1.5
ACK_P99_MS_GOAL = 100.0
CONFIRM_P99_RATIO_GOAL = 2.0
PEAK_RSS_MB_GOAL = 120.0
# "Flat": RSS at the end of the product's runs no more than this above the level at a quarter of
# the way in (after start-up, caches and the pool have filled), however many people came since.
FLAT_GROWTH_MB = 10.0
PEOPLE_GOAL = 50_000


@dataclass
class Params(ingestion.Params):
    """The ingestion benchmark's knobs, at the floor's sizes, and how many people must come."""

    duration: float = 60.0
    rounds: int = 2
    warmup: float = 3.0
    settle_timeout: float = 30.0
    people_goal: int = PEOPLE_GOAL


async def _open_rounds(db: Any, ctx: Any, double: RemoteDouble) -> tuple[list[int], list[Button]]:
    """Two surveys, each with a round open now; every option button of every item, in turn."""
    rounds: list[int] = []
    buttons: list[Button] = []
    platform = product.slack_platform(ctx)
    for channel, items in zip(CHANNELS, ITEMS, strict=True):
        survey_id = await product.create_survey(db, audience=[channel], items_per_round=items, round_hours=72)
        round_, _ = await product.open_and_send(db, ctx.banks, platform, survey_id, now=dt.datetime.now(dt.UTC))
        rounds.append(round_.id)
        [message] = await double.messages_in(channel)
        for options in buttons_of(message).values():
            buttons += [Button(channel, b["action_id"], b["block_id"], b["value"]) for b in options]
    return rounds, buttons


async def run(workdir: Path, params: Params | None = None) -> Outcome:
    params = params or Params()
    placement = Placement(enabled=params.pin)
    outcome = Outcome("floor", params={k: v for k, v in params.__dict__.items()})
    outcome.figures["placement"] = placement.describe()
    db_url = product.sqlite_url(workdir / "floor.db")
    await asyncio.to_thread(product.migrate, db_url)
    rss: dict[str, list[list[tuple[float, float]]]] = {app: [] for app in APPS}
    async with RemoteDouble(workdir, cpus=placement.load) as double:
        await double.configure(channels={c: {"name": c.lower(), "members": []} for c in CHANNELS})
        ctx = product.context(product.settings(database_url=db_url, api_url=double.api_url, token=double.token))
        db = ctx.db
        try:
            round_ids, buttons = await _open_rounds(db, ctx, double)
            outcome.figures["items_clicked"] = len({(b.channel, b.block_id) for b in buttons})
            servers: Servers = await _start_servers(workdir, db_url, double, placement, APPS)
            try:
                users = itertools.count(1)
                one = functools.partial(
                    _one_run, servers=servers, double=double, db=db, round_id=round_ids, button=buttons, users=users
                )
                runs: list[Run] = []
                with placement.load_side():
                    if params.warmup > 0:
                        for app in APPS:
                            await one(app, 0, params=params, duration=params.warmup)
                    for r in range(1, params.rounds + 1):
                        order = APPS if r % 2 else APPS[::-1]  # alternating: neither always runs first
                        for app in order:
                            samples: list[tuple[float, float]] = []
                            runs.append(await one(app, r, params=params, duration=params.duration, rss=samples))
                            rss[app].append(samples)
                    # Each click comes from a new person: those the product acknowledged, it stored.
                    people = sum(len(r.load.acked_users) for r in runs if r.app == "product")
                memory = {app: child.peak_rss_mb() for app, child in servers.children.items()}
                log_errors = _log_errors(servers.children["product"])
                stored = await _stored(db, round_ids)
            finally:
                for child in servers.children.values():
                    child.stop()
        finally:
            await db.dispose()
    _summarise(outcome, runs, rss, memory, people, params)
    product_acked = sum(r.load.acked for r in runs if r.app == "product")
    warm = outcome.figures["stored_before_timed_runs"] = stored - sum(r.stored or 0 for r in runs if r.app == "product")
    outcome.check("stored answers = product clicks acknowledged, warm-up included", product_acked + warm, stored)
    outcome.check("no errors in the product's log", 0, log_errors)
    return outcome


def _latencies(runs: list[Run]) -> tuple[list[float], list[float]]:
    acks = [x for r in runs for x in r.load.latencies]
    confirms = [x for r in runs for x in r.confirm_latencies]
    return acks, confirms


def _summarise(
    outcome: Outcome,
    runs: list[Run],
    rss: dict[str, list[list[tuple[float, float]]]],
    peak: dict[str, float | None],
    people: int,
    params: Params,
) -> None:
    by_app = {app: [r for r in runs if r.app == app] for app in APPS}
    stats: dict[str, dict[str, float | None]] = {}
    for app, rs in by_app.items():
        acks, confirms = _latencies(rs)
        stats[app] = {
            "throughput_per_s": median([r.throughput for r in rs]),
            **{f"ack_p{q:g}_ms": _ms(percentile(acks, q)) for q in (50, 99, 99.9)},
            **{f"confirm_p{q:g}_ms": _ms(percentile(confirms, q)) for q in (50, 99, 99.9)},
            "peak_rss_mb": peak.get(app),
        }
    p, base = stats["product"], stats["bare-confirm"]
    outcome.figures.update(
        stats=stats, runs=[r.summary() for r in runs], rss_curves=rss, people=people, concurrency=params.concurrency
    )
    label = "bare ack+confirm"
    thr = ratio(p["throughput_per_s"], base["throughput_per_s"])
    outcome.row(
        "throughput",
        _round(p["throughput_per_s"]),
        "clicks/s",
        _round(base["throughput_per_s"]),
        label,
        thr,
        f"≥ {THROUGHPUT_GOAL}",
        None if thr is None else thr >= THROUGHPUT_GOAL,
    )
    for q in (50, 99, 99.9):
        key = f"ack_p{q:g}_ms"
        goal, met = "", None
        r = ratio(p[key], base[key])
        if q == 99:
            goal = f"≤ {ACK_P99_RATIO_GOAL}x and < {ACK_P99_MS_GOAL:g} ms"
            met = None if r is None or p[key] is None else r <= ACK_P99_RATIO_GOAL and p[key] < ACK_P99_MS_GOAL
        outcome.row(f"ack latency p{q:g}", p[key], "ms", base[key], label, r, goal, met)
    for q in (50, 99, 99.9):
        key = f"confirm_p{q:g}_ms"
        goal, met = "", None
        r = ratio(p[key], base[key])
        if q == 99:
            goal, met = f"≤ {CONFIRM_P99_RATIO_GOAL}x", None if r is None else r <= CONFIRM_P99_RATIO_GOAL
        outcome.row(f"click-to-confirmation p{q:g}", p[key], "ms", base[key], label, r, goal, met)
    peak_mb = p["peak_rss_mb"]
    outcome.row(
        "pulse serve peak RSS (VmHWM)",
        peak_mb,
        "MB",
        base["peak_rss_mb"],
        label,
        ratio(peak_mb, base["peak_rss_mb"]),
        f"≤ {PEAK_RSS_MB_GOAL:g} MB",
        None if peak_mb is None else peak_mb <= PEAK_RSS_MB_GOAL,
    )
    growth = _growth(rss["product"])
    outcome.row(
        "pulse serve RSS growth over the timed runs",
        growth,
        "MB",
        _growth(rss["bare-confirm"]),
        label,
        None,
        f"≤ {FLAT_GROWTH_MB:g} MB (flat)",
        None if growth is None else growth <= FLAT_GROWTH_MB,
    )
    outcome.row(
        "distinct people whose click pulse serve took",
        float(people),
        "",
        goal=f"≥ {params.people_goal:,}",
        met=people >= params.people_goal,
    )
    errors = sum(r.load.errors for r in runs)
    outcome.row("request errors", float(errors), "", goal="0", met=errors == 0)
    for app in APPS:
        rs = by_app[app]
        outcome.check(
            f"{app}: one confirmation per acknowledged click, to the clicker",
            [r.load.acked for r in rs],
            [r.confirmed_users if r.confirmations == r.confirmed_users else -r.confirmations for r in rs],
        )
    outcome.check(
        "product: stored answers = clicks acknowledged, each run",
        [r.load.acked for r in by_app["product"]],
        [r.stored for r in by_app["product"]],
    )
    outcome.check("no failed Slack calls at the double", {}, {k: v for r in runs for k, v in r.double_errors.items()})


def _growth(curves: list[list[tuple[float, float]]]) -> float | None:
    """RSS at the end of the last run minus RSS a quarter of the way into the first (MB)."""
    samples = [mb for curve in curves for _t, mb in curve]
    if len(samples) < 4:
        return None
    return round(samples[-1] - samples[len(samples) // 4], 1)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
