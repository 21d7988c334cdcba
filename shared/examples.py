"""Examples for the API documents, made from the JSON schemas they illustrate.

Where a model or field declares `examples` (or a default), that is used; elsewhere a value is
made from the field's name and constraints (an `item_value` is paise, a `return_id` looks like
one, a date-time is UTC). The contract tests validate every example against its own schema, so
an example can never drift from the model it shows.
"""

from __future__ import annotations

import re
from typing import Any

# Values tried for a constrained string, best first: the first that fits the pattern and the
# length bounds wins.
_BY_NAME: dict[str, str] = {
    "return_id": "RET-1001",
    "order_id": "O-1001",
    "seller_id": "S-1001",
    "buyer_id": "B-1001",
    "case_id": "CASE-RET-1001",
    "escalation_id": "ESC-7f3a9c",
    "partner_id": "swiftship",
    "awb": "SS1001",
    "hub_id": "HUB-BLR-1",
    "agent_id": "AG-17",
    "entity_id": "S-1001",
    "feedback_id": "FB-1001",
    "appeal_id": "APL-1001",
    "category": "electronics",
    "currency": "INR",
    "version": "sop-v1",
    "rule": "L6",
    "rule_id": "L6",
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "address_hash": "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b",
    "seller_contact": "sc1.k1.c2VhbGVkLWFkZHJlc3M",
    "seller_email": "seller@example.com",
    "email": "seller@example.com",
    "address": "seller@example.com",
    "recipient": "seller@example.com",
    "phone": "+919876543210",
    "description": "The phone came back with a cracked screen.",
    "reason": "Chargebacks on three recent orders",
    "template": "acknowledgement",
    "assignee": "agent.asha",
    "name": "acknowledgement",
    # Free text and states, so that a published example reads like a real request or answer
    # (a client copies it): never a placeholder. `test_api_examples` keeps it so.
    "actor": "agent.asha",
    "owner": "agent.ravi",
    "appeal_reason": "The unboxing video shows the seal intact; please look again.",
    "ask": "Check the hub's scale reading for this parcel and confirm the pickup weight.",
    "audience": "seller",
    "band": "LOW",
    "fraud_band": "LOW",
    "body": "The hub confirms the parcel was re-taped at BLR-HSR-01.",
    "body_encoding": "utf-8",
    "body_html": "<p>We have your claim about return RET-1001.</p>",
    "body_text": "We have your claim about return RET-1001.",
    "buyer_address_hash": "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
    "buyer_contact_hash": "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
    "ce_type": "disputedesk.intake.seller_escalation_filed.v1",
    "changed_field": "emails",
    "checklist": "An unboxing video from the moment the parcel is opened",
    "evidence_missing": "UNBOXING_VIDEO",
    "claim_type": "DAMAGED",
    "delivery": "sent",
    "detail": "550 5.1.1 mailbox unavailable (hard bounce)",
    "direction": "outbound",
    "display_name": "Asha Electronics",
    "entity_type": "seller",
    "error": "451 4.7.1 greylisted, try again later",
    "last_error": "451 4.7.1 greylisted, try again later",
    "failing_email": "s***@example.com",
    "id": "RAW-1001",
    "kind": "EMAIL_SENT",
    "language": "en",
    "match_reason": "the subject names the case",
    "model_version": "fraud-2026.12",
    "next": "eyJhZnRlciI6WyIyMDI2LTExLTI0VDEwOjAwOjAwWiIsIlJFVC0xMDAxIl19",
    "note": "The seller confirmed on the phone that the outer seal was broken on arrival.",
    "origin": "SELLER",
    "outcome": "sent",
    "pattern": "claim_abuse",
    "perceptual_hash": "c3d4a1f09b7e5268",
    "raw_ref": "RAW-1001",
    "reason_code": "PARTNER_LIABLE",
    "refused_reason": "seller_mismatch",
    "resolution": "Scale checked: the reading matched the pickup weight.",
    "scheme": "swiftship",
    "severity": "HIGH",
    "source": "analyst",
    "state": "OPEN",
    "status": "OPEN",
    "subject": "Your claim CASE-RET-1001: we have it",
    "subject_type": "escalation",
    "suggested_action": "Review the seller's last five claims before paying out.",
    "summary": "The seller called: the screen was cracked on arrival; the video follows tonight.",
    "text": "Please find the unboxing video attached.",
    "token": "reply+case-ret-1001.k1.7f3a9c2e",
    "trigger": "P1",
    "unmapped": "RTO-HUB-HOLD",
    "verdict": "accepted",
    "waiting_for": "finance",
    "policy_version": "sop-v1",
    "explanation": "The partner's quality check at pickup passed, so a wrong item points to what "
    "happened in the partner's custody.",
    "ce_subject": "RET-1001",
    "subject_key": "case:CASE-RET-1001",
    "image": "https://evidence.example/returns/RET-1001/photo-1.jpg",
    "qc_failure_reason": "Item does not match the listing photo",
    "escalation_reason": "The payout is above the approval cap",
    "report_html": "<h1>Escalations this week</h1>",
    "statement_csv": "date,case_id,amount\n2026-11-24,CASE-RET-1001,249900\n",
    "filename": "debit-statement-swiftship-2026-11.csv",
    "content_type": "text/csv",
    "refused_because": "seller_mismatch",
}
# Who did something is a client id, whatever the field's name.
_CLIENT_ID = "agent.asha"
_FALLBACKS = (
    "EXAMPLE-1",
    "sc1.k1.c2VhbGVk",
    "seller@example.com",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "0123456789abcdef",
    "L6",
    "swiftship",
    "+919876543210",
    "example",
)
_FORMATS = {
    "date-time": "2026-11-24T10:00:00Z",
    "date": "2026-11-24",
    "uuid": "3f1c2e8a-5b7d-4c1e-9a2f-6d8b0e4c7a15",
    "uri": "https://evidence.example/returns/RET-1001/unboxing.mp4",
    "email": "seller@example.com",
}
# Money fields are integer paise: Rs 2,499.00 reads like a price, 1 does not.
_PAISE = re.compile(r"(amount|value|paise|payout|balance|cap)$")


def _fits(value: str, schema: dict[str, Any]) -> bool:
    pattern = schema.get("pattern")
    if pattern is not None and re.search(pattern, value) is None:
        return False
    low: int = schema.get("minLength", 0)
    high: int = schema.get("maxLength", 10**9)
    return low <= len(value) <= high


def _string(schema: dict[str, Any], name: str) -> str:
    fmt = str(schema.get("format"))
    if fmt in _FORMATS:
        return _FORMATS[fmt]
    candidates = [_BY_NAME[name]] if name in _BY_NAME else []
    if name.endswith("_by"):
        candidates.append(_CLIENT_ID)
    if name.endswith("_id"):
        candidates.append(f"{name[:-3].upper().replace('_', '-')}-1001")
    for value in (*candidates, *_FALLBACKS):
        if _fits(value, schema):
            return value
    shortest: int = schema.get("minLength", 1)
    return "x" * max(1, shortest)


def _number(schema: dict[str, Any], name: str, integer: bool) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
    high = schema.get("maximum", schema.get("exclusiveMaximum", 10**12))
    if integer and _PAISE.search(name):
        wanted: float = 249_900
    elif integer:
        wanted = 1
    else:
        wanted = 0.5
    if "exclusiveMinimum" in schema and wanted <= low:
        wanted = low + (1 if integer else (high - low) / 2)
    wanted = min(max(wanted, low), high)
    return int(wanted) if integer else float(wanted)


def example(
    schema: dict[str, Any], components: dict[str, Any], name: str = "", depth: int = 0
) -> Any:
    """A value valid under `schema`; `components` resolves `#/.../Name` references."""
    if depth > 12:
        return None
    if "$ref" in schema:
        target = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        return example(target, components, name, depth + 1)
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    if schema.get("default") is not None:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return example(options[0], components, name, depth + 1)
    if "allOf" in schema:
        return example(schema["allOf"][0], components, name, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        return {
            prop: example(sub, components, prop, depth + 1)
            for prop, sub in schema.get("properties", {}).items()
        }
    if kind == "array":
        item = example(schema.get("items", {}), components, name.rstrip("s"), depth + 1)
        return [item] * max(1, schema.get("minItems", 1))
    if kind == "string":
        return _string(schema, name)
    if kind == "integer":
        return _number(schema, name, integer=True)
    if kind == "number":
        return _number(schema, name, integer=False)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return {}
