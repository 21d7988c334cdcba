"""JSONB parameters are encoded by pydantic-core (Rust), not the standard library's encoder:
the decision path writes each decision's document into three JSONB columns, and the stdlib's
`iterencode` was 7 % of the engine's samples."""

from __future__ import annotations

import enum
import json

from shared.db import json_text, make_engine


class _Band(enum.StrEnum):
    HIGH = "HIGH"


def test_the_engine_encodes_jsonb_with_pydantic_core() -> None:
    engine = make_engine("postgresql+asyncpg://u:p@127.0.0.1:1/none")
    assert engine.sync_engine.dialect._json_serializer is json_text  # type: ignore[attr-defined]
    # Compact, as pydantic-core writes it (the stdlib puts a space after ':' and ',').
    assert json_text({"a": 1, "b": [1, 2]}) == '{"a":1,"b":[1,2]}'


def test_the_document_is_the_one_the_stdlib_would_have_written() -> None:
    doc = {
        "rule_id": "L6",
        "payout": 249_900,
        "facts": {"weights_g": [1000, 640], "note": "écran fêlé \u2028", "qc": None},
        "ok": True,
        "band": _Band.HIGH,
        7: "an int key becomes a string",
        "pair": (1, 2),
    }
    assert json.loads(json_text(doc)) == json.loads(json.dumps(doc))
