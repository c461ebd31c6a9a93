"""Benchmarks, run on demand (bench/README.md); never collected by pytest."""
