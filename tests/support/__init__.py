"""Test support: the real local stack, services run in-process, and small waiting helpers."""
