"""Benchmarks: `make bench` (or `python -m bench`). Each prints figures next to a baseline
measured in the same run; results are written to bench/results/ and summarised in
docs/benchmarks.md."""
