"""Benchmarks of Outpost (``python bench/sync_bench.py``); results in ``docs/benchmarks.md``."""
