"""Benchmarks for Pulse Audit (not tests): `python -m bench` runs them all, `python -m bench NAME` one.

Every figure is reported next to a baseline measured in the same run, and every benchmark checks
its answer after the timing, so a fast wrong answer cannot pass. See docs/benchmarks.md.
"""

BENCHMARKS = ("ingestion", "fanout", "digest", "sealing", "memory", "startup", "floor", "jpd")
