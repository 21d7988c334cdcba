"""Helpers the partner adapters share for turning validation failures into field paths."""

from __future__ import annotations

from pydantic import ValidationError


def validation_errors(exc: ValidationError, prefix: str = "body") -> list[dict[str, str]]:
    return [
        {"field": ".".join([prefix, *(str(p) for p in e["loc"])]), "message": e["msg"]}
        for e in exc.errors()
    ]
