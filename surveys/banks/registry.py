"""The banks a process knows: the built-in ones plus a coordinator's folder of YAML files."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from surveys.banks.loader import BankError, BankProblem, line_of, load_bank_file
from surveys.banks.model import Bank

BUILTIN_DIR = Path(__file__).parent / "builtin"
log = logging.getLogger(__name__)


class BankRegistry:
    def __init__(self, banks: list[Bank] | None = None) -> None:
        self._banks: dict[str, Bank] = {}
        # Where each bank came from: "builtin" or the custom file's path.
        self.sources: dict[str, str] = {}
        self.refused: list[BankProblem] = []
        for bank in banks or []:
            self.add(bank)

    @classmethod
    def load(cls, custom_dir: Path | None = None, *, builtin_dir: Path = BUILTIN_DIR) -> BankRegistry:
        """Built-in banks must load; a broken custom file is refused whole and reported."""
        registry = cls()
        for path in sorted(builtin_dir.glob("*.yaml")):
            bank = load_bank_file(path)
            registry.add(bank)
            registry.sources[bank.id] = "builtin"
        if custom_dir is not None and custom_dir.is_dir():
            for path in sorted(custom_dir.glob("*.y*ml")):
                try:
                    registry.add(load_bank_file(path), source=str(path), line=line_of(path, "id"))
                except BankError as exc:
                    registry.refused.extend(exc.problems)
                    for problem in exc.problems:
                        log.warning("bank refused: %s", problem)
        return registry

    def add(self, bank: Bank, source: str = "", *, line: int = 1) -> None:
        if bank.id in self._banks and source:
            taken_by = self.sources.get(bank.id, "another bank")
            raise BankError([BankProblem(source, line, "id", f"bank id '{bank.id}' is already taken ({taken_by})")])
        self._banks[bank.id] = bank
        if source:
            self.sources[bank.id] = source

    def get(self, bank_id: str) -> Bank | None:
        return self._banks.get(bank_id)

    def __getitem__(self, bank_id: str) -> Bank:
        return self._banks[bank_id]

    def __contains__(self, bank_id: object) -> bool:
        return bank_id in self._banks

    def __iter__(self) -> Iterator[Bank]:
        return iter(sorted(self._banks.values(), key=lambda b: b.id))
