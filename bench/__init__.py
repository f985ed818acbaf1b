"""The sheets-connector benchmark: `python -m bench` (see README, "Benchmark")."""
