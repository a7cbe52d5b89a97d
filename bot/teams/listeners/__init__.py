"""Agents SDK listeners, one module per kind; each exposes register(bot)."""
