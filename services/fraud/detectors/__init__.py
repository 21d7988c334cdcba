"""Fraud detectors: pure functions from feature counts to findings, one module per pattern.

Nothing here does I/O; the scoring service reads the counts, calls these, and records the result.
"""
