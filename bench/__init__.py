"""Benchmarks: `make bench` (or `python -m bench [--quick]`) runs them; see bench/README.md."""
