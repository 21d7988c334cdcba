"""The outbox row's payload is exactly the JSON the event serialises to: the relay publishes it
as is, so building it from `model_dump(mode="json")` (without the text round trip it replaced)
must give the same document for every event type."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from shared.events import MODEL_OF_TYPE
from shared.examples import example
from shared.outbox import outbox_columns, outbox_envelope_columns, outbox_row


@pytest.mark.parametrize("ce_type", sorted(MODEL_OF_TYPE))
def test_outbox_payload_is_the_events_json(ce_type: str) -> None:
    model = MODEL_OF_TYPE[ce_type]
    schema = model.model_json_schema()
    payload = model.model_validate(example(schema, schema.get("$defs", {})))
    envelope, row = outbox_row(payload, source="test", time=datetime(2026, 12, 3, tzinfo=UTC))
    assert row["payload"] == json.loads(envelope.value())
    assert json.dumps(row["payload"]) == json.dumps(json.loads(envelope.value()))


@pytest.mark.parametrize("ce_type", sorted(MODEL_OF_TYPE))
def test_the_envelope_columns_are_the_rows_own_without_its_payload(ce_type: str) -> None:
    model = MODEL_OF_TYPE[ce_type]
    schema = model.model_json_schema()
    payload = model.model_validate(example(schema, schema.get("$defs", {})))
    fixed = {"ce_id": uuid4(), "time": datetime(2026, 12, 3, tzinfo=UTC)}
    _, row = outbox_row(payload, source="test", subject="R-1", **fixed)
    _, columns = outbox_envelope_columns(payload, source="test", subject="R-1", **fixed)
    assert "payload" not in columns
    assert columns == {k: v for k, v in row.items() if k != "payload"}


@pytest.mark.parametrize("ce_type", sorted(MODEL_OF_TYPE))
def test_the_columns_without_an_envelope_are_the_envelopes(ce_type: str) -> None:
    """Reconciliation's batch writes `outbox_columns` rows: the same columns as the envelope's."""
    model = MODEL_OF_TYPE[ce_type]
    schema = model.model_json_schema()
    payload = model.model_validate(example(schema, schema.get("$defs", {})))
    fixed = {"ce_id": uuid4(), "time": datetime(2026, 12, 3, tzinfo=UTC)}
    envelope, columns = outbox_envelope_columns(payload, source="test", subject="R-1", **fixed)
    assert outbox_columns(payload, source="test", subject="R-1", **fixed) == columns
    assert columns["ce_id"] == envelope.id and columns["ce_time"] == envelope.time
    assert (columns["ce_type"], columns["key"]) == (envelope.type, envelope.key)
    fresh = outbox_columns(payload, source="test")
    assert fresh["ce_id"] != outbox_columns(payload, source="test")["ce_id"]
    assert fresh["ce_time"].tzinfo is not None
