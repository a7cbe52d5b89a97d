"""`pulse`, the command line. Each command group lives in its own module with add_parser()."""

from bot.cli.main import main

__all__ = ["main"]
