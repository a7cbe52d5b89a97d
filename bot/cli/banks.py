"""`pulse banks list|show ID|validate FILE...`, each with `--json`. No database needed."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path
from typing import Any

from bot.cli.common import CliError
from bot.settings import get_settings
from surveys.banks import BUILTIN_DIR, Bank, BankError, BankProblem, BankRegistry, line_of, load_bank_file


def add_parser(sub: Any) -> None:
    banks = sub.add_parser("banks", help="question banks: list, show, validate").add_subparsers(
        dest="banks_command", required=True
    )
    list_ = banks.add_parser("list", help="the banks this installation knows (built-in and $PULSE_BANKS_DIR)")
    list_.add_argument("--json", action="store_true", help="machine-readable output")
    list_.set_defaults(run=_list)
    show = banks.add_parser("show", help="one bank's scales and items")
    show.add_argument("bank", metavar="ID")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(run=_show)
    validate = banks.add_parser("validate", help="check bank files; exit 1 with file:line: field: message")
    validate.add_argument("files", metavar="FILE", nargs="+", type=Path)
    validate.add_argument("--json", action="store_true", help="machine-readable output")
    validate.set_defaults(run=_validate)


def _registry() -> BankRegistry:
    return BankRegistry.load(get_settings().pulse_banks_dir)


def _summary(bank: Bank, source: str) -> dict[str, Any]:
    return {
        "id": bank.id,
        "version": bank.version,
        "kind": bank.kind,
        "title": bank.title,
        "items": len(bank.items),
        "loaded_from": source,
    }


def _problem(p: BankProblem) -> dict[str, Any]:
    return {"file": p.file, "line": p.line, "field": p.field, "message": p.message}


def _list(args: argparse.Namespace) -> int:
    registry = _registry()
    rows = [_summary(b, registry.sources.get(b.id, "")) for b in registry]
    if args.json:
        print(
            json.dumps(
                {"banks": rows, "refused": [_problem(p) for p in registry.refused]}, indent=2, ensure_ascii=False
            )
        )
        return 0
    print(f"{'id':<30} {'ver':>3}  {'kind':<10} {'items':>5}  title")
    for r in rows:
        where = "" if r["loaded_from"] == "builtin" else f"  [{r['loaded_from']}]"
        print(f"{r['id']:<30} {r['version']:>3}  {r['kind']:<10} {r['items']:>5}  {r['title']}{where}")
    for p in registry.refused:
        print(f"refused: {p}")
    return 0


def bank_json(bank: Bank) -> dict[str, Any]:
    """The bank as `show --json` prints it: every field that is set, levels only on strands."""
    data = bank.model_dump(mode="json", exclude_none=True)
    for item in data["items"]:
        item.setdefault("reverse", False)
    return data


def _show(args: argparse.Namespace) -> int:
    registry = _registry()
    bank = registry.get(args.bank)
    if bank is None:
        raise CliError(f"no bank '{args.bank}' (see `pulse banks list`)")
    if args.json:
        print(
            json.dumps(
                {**bank_json(bank), "loaded_from": registry.sources.get(bank.id, "")}, indent=2, ensure_ascii=False
            )
        )
        return 0
    print("\n".join(_show_lines(bank)))
    return 0


def _show_lines(bank: Bank) -> list[str]:
    lines = [f"{bank.title}  ({bank.id}, version {bank.version}, {bank.kind})"]
    if bank.source:
        lines.append(f"source: {bank.source}")
    if bank.intro:
        lines.append(f"intro: {bank.intro}")
    if bank.picks is not None:
        lines.append(
            f"picks: up to {bank.picks.strongest} strongest and {bank.picks.weakest} weakest, "
            f"for each of: {', '.join(bank.picks.perspectives)}"
        )
    for name, scale in bank.scales.items():
        options = ", ".join(f"{o.label} = {o.score} ({o.valence})" for o in scale.options)
        lines.append(f"scale {name}: {options}")
    dimensions = {d.id: d.title for d in bank.dimensions}
    lines.append("")
    for item in bank.items:
        flags = [item.aspect, item.scale] + (["reverse-scored"] if item.reverse else [])
        if item.dimension:
            flags.insert(0, dimensions.get(item.dimension, item.dimension))
        lines.append(f"{item.id}  [{', '.join(flags)}]")
        lines.append(textwrap.fill(item.text, 100, initial_indent="    ", subsequent_indent="    "))
        if item.levels is not None:
            for level, text in item.levels.as_list():
                lines.append(
                    textwrap.fill(f"{level}: {text}", 100, initial_indent="      - ", subsequent_indent="        ")
                )
    return lines


def _validate(args: argparse.Namespace) -> int:
    builtin = BankRegistry.load(None)
    results: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for path in args.files:
        problems: list[BankProblem] = []
        bank: Bank | None = None
        try:
            bank = load_bank_file(path)
        except BankError as exc:
            problems = exc.problems
        if bank is not None:
            is_builtin_file = path.resolve().parent == BUILTIN_DIR.resolve()
            line = line_of(path, "id")
            if bank.id in builtin and not is_builtin_file:
                problems.append(BankProblem(str(path), line, "id", f"bank id '{bank.id}' is taken by a built-in bank"))
            elif bank.id in seen:
                problems.append(BankProblem(str(path), line, "id", f"bank id '{bank.id}' is also in {seen[bank.id]}"))
            seen.setdefault(bank.id, str(path))
        results.append(
            {
                "file": str(path),
                "ok": not problems,
                "bank": _summary(bank, str(path)) if bank is not None and not problems else None,
                "problems": [_problem(p) for p in problems],
            }
        )
    if args.json:
        print(json.dumps({"ok": all(r["ok"] for r in results), "files": results}, indent=2, ensure_ascii=False))
    else:
        for r in results:
            if r["ok"]:
                b = r["bank"]
                print(f"{r['file']}: ok ({b['id']}, version {b['version']}, {b['kind']}, {b['items']} items)")
            for p in r["problems"]:
                print(f"{p['file']}:{p['line']}: {p['field'] + ': ' if p['field'] else ''}{p['message']}")
    return 0 if all(r["ok"] for r in results) else 1
