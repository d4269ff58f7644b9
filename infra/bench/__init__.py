"""Benchmarks: each goal measured beside the alternative, in the same run, and reported as a ratio."""
