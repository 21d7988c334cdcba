"""Pure checks of the shared machinery: contracts, envelope, AsyncAPI, problem fields, PII."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.asyncapi import asyncapi_document
from shared.envelope import Envelope, EnvelopeError, decode_envelope, header_map
from shared.events import (
    MODEL_OF_TYPE,
    TOPICS,
    PartnerStatementIssued,
    ReturnInitiated,
    SellerFeedbackReceived,
    topic_for,
)
from shared.logging import configure_logging, scrub
from tests.unit.test_openapi_lint import patterns


def _return() -> ReturnInitiated:
    return ReturnInitiated(
        return_id="RET-1",
        order_id="O-1",
        seller_id="S-1",
        buyer_id="B-1",
        category="toys",
        item_value=1000,
        qc_required=False,
        partner_id="swiftship",
        awb="SS1",
        initiated_at=datetime(2026, 11, 26, tzinfo=UTC),
    )


def test_every_model_has_a_distinct_versioned_type_and_one_topic() -> None:
    types = [m.ce_type for t in TOPICS.values() for m in t.models]
    assert len(types) == len(set(types)) == len(MODEL_OF_TYPE)
    assert all(t.startswith("disputedesk.") and t.endswith(".v1") for t in types)


def test_envelope_round_trip_keeps_id_key_and_payload() -> None:
    env = Envelope(_return(), source="disputedesk/intake", subject="RET-1")
    decoded = decode_envelope(header_map(env.headers()), env.value())
    assert decoded.id == env.id and decoded.payload == env.payload
    assert env.key == "RET-1" and topic_for(env.payload).name == "intake.returns.v1"


def test_feedback_is_keyed_by_seller() -> None:
    fb = SellerFeedbackReceived(
        feedback_id="F1", seller_id="S-9", rating=2, received_at=datetime.now(UTC)
    )
    assert Envelope(fb, source="t").key == "S-9"


def test_envelope_rejects_missing_headers_and_bad_payloads() -> None:
    env = Envelope(_return(), source="t")
    headers = header_map(env.headers())
    with pytest.raises(EnvelopeError):
        decode_envelope({k: v for k, v in headers.items() if k != "ce_id"}, env.value())
    with pytest.raises(ValidationError):
        decode_envelope(headers, json.dumps({"type": env.type}).encode())


def test_event_patterns_take_ascii_digits_and_letters_only() -> None:
    found = patterns(asyncapi_document())
    assert found
    assert [p for p in found if "\\d" in p or "\\w" in p] == []
    statement = {
        "statement_id": "5a0e4c2b-9d1f-4b7a-8e36-1c2d3e4f5a6b",
        "partner_id": "desipost",
        "opening_balance": 0,
        "debits": 0,
        "reversals": 0,
        "contests_filed": 0,
        "contests_amount": 0,
        "closing_balance": 0,
        "lines": 0,
        "issued_by": "finance.meera",
        "issued_at": datetime(2026, 12, 1, tzinfo=UTC),
    }
    assert PartnerStatementIssued.model_validate({**statement, "month": "2026-11"})
    for month in ("٢٠٢٦-١١", "２０２６-１１"):
        with pytest.raises(ValidationError, match="month"):
            PartnerStatementIssued.model_validate({**statement, "month": month})


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValidationError):
        ReturnInitiated.model_validate(
            {**_return().model_dump(), "initiated_at": "2026-11-26T10:00:00"}
        )


def test_asyncapi_document_names_every_topic_and_message() -> None:
    doc = asyncapi_document()
    assert doc["asyncapi"].startswith("3.")
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == set(TOPICS) | {t.dlq for t in TOPICS.values()}
    for model in MODEL_OF_TYPE.values():
        assert model.__name__ in doc["components"]["messages"]
        assert model.__name__ in doc["components"]["schemas"]


def test_scrub_removes_emails_and_indian_phone_numbers() -> None:
    text = "mail seller.one@example.com or call +91 98765 43210 / 9876543210 about RET-1"
    out = scrub(text)
    assert "example.com" not in out and "98765" not in out and "RET-1" in out
    assert scrub("to विक्रेता@उदाहरण.भारत, ok") == "to [email], ok"
    # An identifier made of digits is not a phone number.
    assert scrub("case CASE-919876543210 failed") == "case CASE-919876543210 failed"


def test_log_lines_never_carry_an_email(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("test", "INFO")
    logging.getLogger("anything").warning("could not reach %s", "seller.one@example.com")
    err = capsys.readouterr().err
    assert "seller.one@example.com" not in err and "[email]" in err
    assert json.loads(err.strip().splitlines()[-1])["service"] == "test"
