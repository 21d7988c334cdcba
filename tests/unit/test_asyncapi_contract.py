"""The AsyncAPI document as a contract: its committed snapshot is current, nothing in it breaks
a consumer of the snapshot, every example validates, and the document says what the services
really consume (docs/events.md)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from shared.asyncapi import SUBSCRIPTIONS, asyncapi_document, breaking_changes
from shared.events import TOPICS
from tests.support.routes import service_apps

SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"
REFRESH = "refresh it with `disputedesk asyncapi --out docs/asyncapi.json`"


def _snapshot() -> dict[str, Any]:
    return json.loads(SNAPSHOT.read_text())  # type: ignore[no-any-return]


def test_the_committed_snapshot_is_the_generated_document() -> None:
    assert asyncapi_document() == _snapshot(), f"docs/asyncapi.json is stale: {REFRESH}"


def test_no_event_schema_breaks_a_consumer_of_the_snapshot() -> None:
    assert breaking_changes(_snapshot(), asyncapi_document()) == [], (
        "a breaking change to an event: publish a new versioned type (….v2) beside the old one"
    )


def _payload(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return doc["components"]["schemas"][name]  # type: ignore[no-any-return]


def test_a_removed_or_retyped_field_or_a_moved_topic_is_breaking() -> None:
    old = asyncapi_document()
    new = copy.deepcopy(old)
    escalation = _payload(new, "SellerEscalationFiled")
    del escalation["properties"]["description"]
    escalation["properties"]["claimed_amount"] = {"type": "string"}
    channels = new["channels"]
    channels["intake_seller_feedback_v1"]["address"] = "intake.feedback.v2"
    ret = _payload(new, "ReturnInitiated")
    ret["properties"]["note"] = {"type": "string"}
    ret["required"] = [*ret["required"], "note"]
    del new["components"]["messages"]["CaseNoteAdded"]
    channels["reconciliation_cases_v1"]["messages"].pop("CaseNoteAdded")
    assert breaking_changes(old, new) == [
        "disputedesk.intake.return_initiated.v1: field note is now required",
        "disputedesk.intake.seller_escalation_filed.v1: field claimed_amount retyped",
        "disputedesk.intake.seller_escalation_filed.v1: field description removed",
        "disputedesk.intake.seller_feedback_received.v1: topic changed from "
        "intake.seller-feedback.v1 to intake.feedback.v2",
        "disputedesk.reconciliation.case_note_added.v1: event type removed",
    ]


def test_a_new_optional_field_or_event_type_is_compatible() -> None:
    old = asyncapi_document()
    new = copy.deepcopy(old)
    ret = _payload(new, "ReturnInitiated")
    ret["properties"]["gift_wrapped"] = {"type": "boolean", "default": False}
    del old["components"]["messages"]["CaseNoteAdded"]
    old["channels"]["reconciliation_cases_v1"]["messages"].pop("CaseNoteAdded")
    assert breaking_changes(old, new) == []


def test_every_message_example_validates_against_its_schemas() -> None:
    doc = asyncapi_document()
    schemas = doc["components"]["schemas"]

    def errors(schema: dict[str, Any], value: Any) -> list[str]:
        validator = Draft202012Validator({**schema, "components": doc["components"]})
        return [e.message for e in validator.iter_errors(value)]

    for name, message in doc["components"]["messages"].items():
        assert message["examples"], name
        headers = schemas[message["headers"]["$ref"].rsplit("/", 1)[-1]]
        for ex in message["examples"]:
            assert errors(headers, ex["headers"]) == [], name
            assert errors(message["payload"], ex["payload"]) == [], name
            if not name.startswith("DeadLetter_"):
                assert ex["payload"]["type"] == message["name"] == ex["headers"]["ce_type"]


def test_servers_operations_and_dead_letter_channels() -> None:
    doc = asyncapi_document()
    assert {s["protocol"] for s in doc["servers"].values()} == {"kafka"}
    addresses = {c["address"] for c in doc["channels"].values()}
    assert {t.dlq for t in TOPICS.values()} <= addresses
    ops = doc["operations"]
    sends = {k.split("_sends_")[0] for k, o in ops.items() if "_sends_" in k}
    receives = {k.split("_receives_")[0] for k, o in ops.items() if o["action"] == "receive"}
    assert sends == {"intake", "fraud", "reconciliation", "notifications"}
    assert receives == {"fraud", "reconciliation", "notifications"}
    for service, groups in SUBSCRIPTIONS.items():
        for topics in groups.values():
            for topic in topics:
                cid = topic.replace(".", "_").replace("-", "_")
                assert ops[f"{service}_receives_{cid}"]["action"] == "receive"
                assert ops[f"{service}_dead_letters_{cid}"]["channel"] == {
                    "$ref": f"#/channels/{cid}_dlq"
                }


@pytest.mark.parametrize("service", ["intake", "fraud", "reconciliation", "notifications"])
def test_the_document_says_what_each_service_consumes(service: str) -> None:
    specs = service_apps()[service].state.consumer_specs
    wired = {spec.group_id: tuple(spec.topics) for spec in specs}
    assert wired == SUBSCRIPTIONS.get(service, {})
