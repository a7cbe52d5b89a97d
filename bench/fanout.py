"""Benchmark 2, fan-out: one round to 10,000 people by DM under Slack's rate limits and random 429s.

The audience is a user group, so the round is one DM per member, posted by user id (no
conversations.open, whose Tier 3 limit would pace the round at ~50 a minute). The Slack double (in its own
process) enforces a per-channel and a workspace-wide chat.postMessage limit and answers 5% of
posts with 429 + Retry-After. The product opens the round with surveys.operations.open_and_send
and then drains the outbox as its clock does, every OUTBOX_SECONDS, until everyone has the round.

Baseline: the least time the limits allow, (recipients - workspace burst) / workspace rate. The
figure is that minimum over the time the product took (1.0 = as fast as the limits allow).

A sender that is too slow is cut off at `cutoff_factor` x the minimum (it cannot meet the goal by
then); its time is projected from the share delivered so far. The double's limits and faults are
then lifted for a short while so the rest can arrive: doubles are always counted, losses only when
everyone was reached in the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench import product
from bench.double import RemoteDouble
from bench.load import user_id
from bench.profile import Profile, describe
from bench.report import Outcome

GROUP = "S0BENCH"


@dataclass
class Params:
    recipients: int = 10_000
    workspace_per_second: float = 200.0
    workspace_burst: int | None = None
    per_channel_per_second: float = 1.0
    burst: int = 1
    random_429: float = 0.05
    retry_after: int = 1
    cutoff_factor: float = 1.5
    finish_timeout: float = 45.0
    # With py-spy installed: sample this process (the sender) while it sends (bench/profile.py).
    profile_dir: Path | None = None
    seed: int = 2012

    @property
    def burst_tokens(self) -> int:
        return self.workspace_burst or max(1, math.ceil(self.workspace_per_second))

    @property
    def minimum_seconds(self) -> float:
        return max(0.0, (self.recipients - self.burst_tokens) / self.workspace_per_second)


async def _sender(ctx: Any, platform: Any, options: Any, survey_id: int, double: RemoteDouble, n: int) -> None:
    """Open the round, then drain the outbox on the clock's interval until everyone is reached."""
    now = dt.datetime.now(dt.UTC)
    await product.open_and_send(ctx.db, ctx.banks, platform, survey_id, now=now, options=options)
    interval = product.outbox_interval()
    while (await double.progress(GROUP))["reached"] < n:
        await asyncio.sleep(interval)
        await product.drain(ctx.db, ctx.banks, platform, options=options)


async def _wait_all(double: RemoteDouble, n: int, until: float, task: asyncio.Task[None], *, stall: float) -> int:
    """Wait until all `n` are reached, the time is up, the sender stops, or nothing moves for `stall` s."""
    last, moved = -1, time.monotonic()
    while True:
        reached = (await double.progress(GROUP))["reached"]
        now = time.monotonic()
        if reached != last:
            last, moved = reached, now
        if reached >= n or now >= until or now - moved > stall:
            return reached
        if task.done():
            task.result()  # the sender stopped on its own: raise its exception, if any
            return reached
        await asyncio.sleep(0.25)


async def _statuses(db: Any) -> dict[str, int]:
    with contextlib.suppress(Exception):
        async with db.session() as session:
            rows = await session.execute(text("SELECT status, count(*) FROM deliveries GROUP BY status"))
            return {str(s): int(c) for s, c in rows}
    return {}


async def run(workdir: Path, params: Params | None = None) -> Outcome:
    params = params or Params()
    outcome = Outcome("fanout", params={**params.__dict__, "minimum_seconds": params.minimum_seconds})
    db_url = product.sqlite_url(workdir / "fanout.db")
    await asyncio.to_thread(product.migrate, db_url)
    members = [user_id(i) for i in range(1, params.recipients + 1)]
    limits = {
        "per_channel_per_second": params.per_channel_per_second,
        "burst": params.burst,
        "workspace_per_second": params.workspace_per_second,
        "workspace_burst": params.burst_tokens,
    }
    storm = {
        "method": "chat.postMessage",
        "probability": params.random_429,
        "seed": params.seed,
        "retry_after": params.retry_after,
    }
    # The operator tells the product the workspace's budget (Slack does not publish it), as
    # bot/settings.py asks; everything else about sending is the product's own defaults.
    budget = product.known_settings(
        pulse_send_workspace_per_second=params.workspace_per_second,
        pulse_send_workspace_burst=params.burst_tokens,
        pulse_send_channel_per_second=params.per_channel_per_second,
        pulse_send_channel_burst=params.burst,
    )
    outcome.figures["product_send_settings"] = budget

    async with RemoteDouble(workdir) as double:
        await double.configure(usergroups={GROUP: members}, limits=limits, random_429=storm)
        s = product.settings(database_url=db_url, api_url=double.api_url, token=double.token, **budget)
        ctx = product.context(s)
        try:
            survey_id = await product.create_survey(
                ctx.db, audience_kind="usergroup", audience=[GROUP], items_per_round=1
            )
            platform = product.slack_platform(ctx)
            profile = Profile(params.profile_dir, "fanout-sender", os.getpid()) if params.profile_dir else None
            t0 = time.monotonic()
            task = asyncio.create_task(
                _sender(ctx, platform, product.send_options(s), survey_id, double, params.recipients)
            )
            cutoff = t0 + params.cutoff_factor * max(params.minimum_seconds, 1.0)
            reached = await _wait_all(double, params.recipients, cutoff, task, stall=params.cutoff_factor * 60)
            cut_at = time.monotonic()
            if profile is not None:
                outcome.figures["profile"] = profile.stop()
                outcome.notes.append("profile of the sender: " + describe(outcome.figures["profile"]))
            cut_off = reached < params.recipients
            finished = not cut_off
            if cut_off:
                # Too slow: lift the double's limits and faults and give the sender a little longer,
                # so that what it does deliver can still be checked for doubles.
                await double.configure(limits=None, random_429=None)
                more = await _wait_all(
                    double, params.recipients, time.monotonic() + params.finish_timeout, task, stall=10
                )
                finished = more >= params.recipients
            # Let a sender that is still busy finish its last sends, then stop it.
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), 5)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            await asyncio.sleep(0.5)
            seen = await double.deliveries(GROUP)
            statuses = await _statuses(ctx.db)
        finally:
            await ctx.db.dispose()

    minimum = params.minimum_seconds
    actual: float | None
    if cut_off:
        actual = (cut_at - t0) * params.recipients / max(reached, 1)
    else:
        actual = float(seen["last_accepted_at"] - t0) if seen["last_accepted_at"] is not None else None
    score = round(minimum / actual, 3) if actual else None
    outcome.figures.update(
        double=seen,
        delivery_statuses=statuses,
        cut_off=cut_off,
        reached_before_cutoff=reached,
        cutoff_seconds=round(cut_at - t0, 2) if cut_off else None,
        finished=finished,
        actual_seconds=round(actual, 2) if actual else None,
        actual_is_projection=cut_off,
        first_post_after_seconds=round(seen["first_post_at"] - t0, 2) if seen["first_post_at"] else None,
    )
    outcome.row("min time / actual time", score, "", goal="≥ 0.9", met=None if score is None else score >= 0.9)
    outcome.row(
        "time to reach everyone" + (" (projected)" if cut_off else ""),
        round(actual, 2) if actual else None,
        "s",
        round(minimum, 2),
        "limit-imposed minimum",
        round(actual / minimum, 3) if actual and minimum else None,
    )
    if cut_off:
        outcome.row("reached before the cut-off", float(reached), f"of {params.recipients}", goal="all", met=False)
    lost = seen["lost"] if finished else None
    outcome.row(
        "lost", None if lost is None else float(lost), "recipients", goal="0", met=None if lost is None else lost == 0
    )
    outcome.row(
        "doubled", float(seen["doubled_recipients"]), "recipients", goal="0", met=seen["doubled_recipients"] == 0
    )
    outcome.row("429s answered by the double", float(seen["rate_limited_posts"]), "posts")
    # DMs are posted by user id; conversations.open (Tier 3, ~50 a minute) is only for look-ups.
    outcome.row("DMs opened (conversations.open)", float(seen["conversations_open"]), "calls")
    if cut_off:
        outcome.notes.append(
            f"cut off at {cut_at - t0:.0f} s with {reached}/{params.recipients} reached; time projected from that "
            f"share; {'everyone was reached' if finished else 'not everyone was reached'} once the double's limits "
            "and faults were lifted, so 'lost' is "
            + ("counted" if finished else "not counted (the run did not finish)")
        )
    outcome.check("no recipient got the round twice", 0, seen["doubled_recipients"])
    if finished:
        outcome.check("no recipient left without the round", 0, seen["lost"])
    outcome.check("recipients in the audience", params.recipients, seen["members"])
    outcome.check("no post failed other than with 429", 0, seen["other_failed_posts"])
    return outcome
