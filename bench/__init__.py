"""Benchmarks: `python -m bench.NAME --json` prints a JSON object as its last line."""
