"""What a benchmark hands back, the table it prints, and results.json."""

from __future__ import annotations

import datetime as dt
import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass
class Row:
    """One figure, next to the baseline measured in the same run and their ratio."""

    metric: str
    value: float | None
    unit: str = ""
    baseline: float | None = None
    baseline_label: str = ""
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None


@dataclass
class Check:
    """A correctness check made after the timing: a fast wrong answer fails here."""

    name: str
    expected: Any
    actual: Any
    ok: bool


@dataclass
class Outcome:
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def row(self, *args: Any, **kwargs: Any) -> Row:
        r = Row(*args, **kwargs)
        self.rows.append(r)
        return r

    def check(self, name: str, expected: Any, actual: Any, ok: bool | None = None) -> Check:
        c = Check(name, expected, actual, (expected == actual) if ok is None else ok)
        self.checks.append(c)
        return c

    @property
    def correct(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def goals_met(self) -> bool:
        return all(r.met is not False for r in self.rows)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["correct"] = self.correct
        data["goals_met"] = self.goals_met
        return data


def ratio(value: float | None, baseline: float | None) -> float | None:
    if value is None or not baseline:
        return None
    return round(value / baseline, 3)


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}"
    return str(value)


def _one_line(value: Any, limit: int = 160) -> str:
    text = " | ".join(line.strip() for line in str(value).splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def table(outcomes: list[Outcome]) -> str:
    header = ["benchmark", "metric", "value", "baseline", "ratio", "goal", "met"]
    lines: list[list[str]] = []
    for o in outcomes:
        for r in o.rows:
            value = f"{fmt(r.value)} {r.unit}".strip()
            base = f"{fmt(r.baseline)} {r.unit} ({r.baseline_label})".strip() if r.baseline is not None else ""
            met = "" if r.met is None else ("ok" if r.met else "MISSED")
            lines.append([o.name, r.metric, value, base, fmt(r.ratio), r.goal, met])
        bad = [c for c in o.checks if not c.ok]
        summary = f"{len(o.checks) - len(bad)}/{len(o.checks)} passed" if o.checks else "none"
        lines.append([o.name, "correctness checks", summary, "", "", "all pass", "ok" if not bad else "FAILED"])
        for c in bad:
            lines.append(
                [o.name, f"  FAILED: {c.name}", _one_line(c.actual), f"expected {_one_line(c.expected)}", "", "", ""]
            )
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)]
    out = [
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    for o in outcomes:
        for note in o.notes:
            out.append(f"note ({o.name}): {note}")
    return "\n".join(out)


def write_results(outcomes: list[Outcome], machine: dict[str, Any], path: Path = RESULTS) -> Path:
    """Merge into results.json: a run of one benchmark replaces that benchmark's entry only."""
    existing: dict[str, Any] = {}
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except ValueError:
            existing = {}
    benchmarks = dict(existing.get("benchmarks") or {})
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for o in outcomes:
        benchmarks[o.name] = {"measured_at": now, "machine": machine, **o.as_json()}
    data = {"updated_at": now, "machine": machine, "benchmarks": benchmarks}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.rename(path)
    return path


def markdown(path: Path = RESULTS) -> str:
    """results.json as the Markdown tables docs/benchmarks.md carries (`python -m bench --markdown`)."""
    data = json.loads(path.read_text())
    m = data["machine"]
    out = [
        f"Measured {data['updated_at']} on {m['nproc']} cores ({m['cpu_model']}), Python {m['python']}, "
        f"{m.get('memory_mb') or '?'} MB RAM, {m['platform']}.",
        "",
        "| benchmark | metric | value | baseline (same run) | ratio | goal | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, b in data["benchmarks"].items():
        for r in b["rows"]:
            value = f"{fmt(r['value'])} {r['unit']}".strip()
            base = f"{fmt(r['baseline'])} {r['unit']} ({r['baseline_label']})" if r["baseline"] is not None else ""
            met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
            out.append(f"| {name} | {r['metric']} | {value} | {base} | {fmt(r['ratio'])} | {r['goal']} | {met} |")
        bad = [c for c in b["checks"] if not c["ok"]]
        verdict = "all passed" if not bad else "**failed**: " + "; ".join(_one_line(c["name"]) for c in bad)
        out.append(
            f"| {name} | correctness checks ({len(b['checks'])}) | {verdict} | | | all pass | "
            f"{'yes' if not bad else '**no**'} |"
        )
    return "\n".join(out)
