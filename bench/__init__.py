"""Benchmarks of opstui (not tests): ``python -m bench``."""
