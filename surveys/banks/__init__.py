"""Question banks: the pydantic model, the YAML loader and the registry of loaded banks."""

from surveys.banks.loader import BankError, BankProblem, line_of, load_bank_file, parse_bank
from surveys.banks.model import Bank, Dimension, Item, Levels, Option, Picks, Scale
from surveys.banks.registry import BUILTIN_DIR, BankRegistry

__all__ = [
    "BUILTIN_DIR",
    "Bank",
    "BankError",
    "BankProblem",
    "BankRegistry",
    "Dimension",
    "Item",
    "Levels",
    "Option",
    "Picks",
    "Scale",
    "line_of",
    "load_bank_file",
    "parse_bank",
]
