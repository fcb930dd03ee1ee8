"""Benchmarks: `make bench` runs all; each `python -m benchmarks.bench_NAME` runs one."""
