"""Benchmark of the MFA service on the production stack (not a test): ``uv run python -m bench.run``."""
