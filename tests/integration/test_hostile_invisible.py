"""Invisible and control characters wherever a caller writes something the services read,
generated from the four OpenAPI documents (`test_hostile_sweep.OPERATIONS`), so a new route,
header or body field is probed the day it is added.

- The deciding headers (`Authorization`, `X-Api-Key`, `Idempotency-Key`, `Content-Type`, a
  partner's `webhook-id` and signatures) are ASCII by their own definitions. The UTF-8 bytes of
  U+202E or U+200B, or a control byte, reached Starlette decoded as Latin-1 (`â\\x80®`): a
  partner's `webhook-id` holding them was stored as its event id. Each is refused 422 naming
  the header, before any route, and nothing is archived.
- Every body string of every operation: a C1 control (U+0085), a word joiner (U+2060), a
  byte-order mark inside the text (U+FEFF), a right-to-left override (U+202E) are refused
  naming the field. An identifier (a field with an id or address pattern, a partner's status)
  also refuses a zero-width space (U+200B) and a soft hyphen (U+00AD): `"S-1\\u200b"` shows as
  `"S-1"`. Free text keeps the zero-width space, which Thai, Khmer, Lao and Burmese write
  between words.
- A partner's identifiers in its scans (event id, hub, agent, status) refuse them too, naming
  the field and batch item.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from tests.conftest import Harness
from tests.integration.test_hostile_sweep import OPERATIONS, Operation, _key, _send, _url, check
from tests.support.db import scalar
from tests.support.factories import (
    escalation_body,
    rapidroute_batch,
    rapidroute_event,
    swiftship_event,
    uid,
)
from tests.support.feed import feed_return
from tests.support.services import RunningService
from tests.support.signing import rapidroute_headers, swiftship_headers

# The characters, by what they do; each value as its UTF-8 bytes where a header carries it.
BIDI = "\u202e"
ZWSP = "\u200b"
INVISIBLE = {"word joiner": "\u2060", "byte-order mark": "\ufeff", "C1 control": "\x85"}
IDENTIFIER_ONLY = {"zero-width space": ZWSP, "soft hyphen": "\xad"}

HEADER_BYTES = {
    "U+202E": BIDI.encode(),
    "U+200B": ZWSP.encode(),
    "U+FEFF": "\ufeff".encode(),
    "a control byte": b"\x01",
    "a Latin-1 byte": b"\xe9",
}


def _deciding_headers(harness: Harness, op: Operation) -> dict[str, bytes]:
    """Each deciding header as the operation would be sent it, well formed."""
    key = _key(harness, op).get("Authorization", "Bearer dd_test_" + "A" * 43)
    return {
        "Authorization": key.encode(),
        "X-Api-Key": key.removeprefix("Bearer ").encode(),
        "Idempotency-Key": b"key-1",
        "Content-Type": b"application/json",
    }


@pytest.mark.parametrize("op", OPERATIONS, ids=[o.id for o in OPERATIONS])
async def test_a_deciding_header_holding_anything_but_visible_ascii_is_refused_naming_it(
    harness: Harness, pipeline: dict[str, RunningService], op: Operation
) -> None:
    client = pipeline[op.service].client
    body = json.dumps(op.example).encode() if op.body is not None else None
    for header, value in _deciding_headers(harness, op).items():
        for what, extra in HEADER_BYTES.items():
            # In the middle of the value, where no trimming of the ends can take it away.
            cut = len(value) // 2
            headers = {header: value[:cut] + extra + value[cut:]}
            if header != "Content-Type" and body is not None:
                headers["Content-Type"] = b"application/json"
            r = await _send(client, op.method, _url(op), headers=headers, content=body)
            doc = check(r, f"{header} with {what}", named=f"header.{header}")
            assert r.status_code == 422, (op.id, header, what, r.status_code, r.text[:300])
            assert doc is not None and doc["errors"][0]["field"] == f"header.{header}", doc
            if what.startswith("U+"):
                assert what in doc["errors"][0]["message"], (op.id, header, doc)


async def test_a_partner_header_holding_anything_but_visible_ascii_archives_nothing(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    intake = pipeline["intake"]
    rid = (await feed_return(intake, harness))["return_id"]
    before = await scalar(intake, "SELECT count(*) FROM raw_requests")
    body = swiftship_event(rid)
    for what, extra in HEADER_BYTES.items():
        sent = uid("msg").encode() + extra
        # Signed over the id as the service reads it (Latin-1), so that the signature holds and
        # the refusal is for the characters: main accepted such a scan and stored the id.
        headers: dict[str, Any] = swiftship_headers(
            harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=sent.decode("latin-1")
        )
        headers["webhook-id"] = sent
        r = await intake.client.post("/v1/webhooks/swiftship", content=body, headers=headers)
        doc = check(r, f"webhook-id with {what}", named="header.webhook-id")
        assert r.status_code == 422, (what, r.text)
        assert doc is not None and doc["errors"][0]["field"] == "header.webhook-id", doc
        rr = rapidroute_batch([rapidroute_event(rid, "RPU")])
        rheaders: dict[str, Any] = rapidroute_headers(harness.secrets["RAPIDROUTE_SECRET"], rr)
        rheaders["RapidRoute-Signature"] = rheaders["RapidRoute-Signature"].encode() + extra
        r = await intake.client.post("/v1/webhooks/rapidroute", content=rr, headers=rheaders)
        check(r, f"RapidRoute-Signature with {what}", named="header.RapidRoute-Signature")
        assert r.status_code == 422, (what, r.text)
    assert await scalar(intake, "SELECT count(*) FROM raw_requests") == before


# --- every body string of every operation ------------------------------------------------------


def _string_fields(op: Operation) -> list[tuple[str, str, bool]]:
    """(field, kind, is a list) for each top-level string field a caller writes as text: no
    enum, no format (instants, days and URLs have parsers of their own). `kind` is `text` for
    free text (`Text`'s `\\S` pattern, or no pattern at all) and `id` for a patterned one."""
    out = []
    for name, schema in ((op.body or {}).get("properties") or {}).items():
        alts = [schema, *(schema.get("anyOf") or [])] if isinstance(schema, dict) else []
        for alt in alts:
            many = alt.get("type") == "array" and isinstance(alt.get("items"), dict)
            leaf = alt["items"] if many else alt
            if leaf.get("type") != "string" or "enum" in leaf or "format" in leaf:
                continue
            pattern = leaf.get("pattern")
            out.append((name, "text" if pattern in (None, "\\S") else "id", many))
            break
    return out


BODY_OPS = [op for op in OPERATIONS if op.roles and _string_fields(op)]


def test_the_body_strings_are_found() -> None:
    # Generated: an empty walk would pass. Ids and free text on each service with a body.
    kinds = {kind for op in BODY_OPS for _, kind, _ in _string_fields(op)}
    assert kinds == {"text", "id"}
    assert len(BODY_OPS) >= 20


@pytest.mark.parametrize("op", BODY_OPS, ids=[o.id for o in BODY_OPS])
async def test_a_body_string_with_an_invisible_or_control_character_is_refused_naming_it(
    harness: Harness, pipeline: dict[str, RunningService], op: Operation
) -> None:
    client = pipeline[op.service].client
    headers = {**_key(harness, op), "content-type": "application/json"}
    base = op.example if isinstance(op.example, dict) else {}
    # One character per (field, class), chosen with a fixed seed: every field meets every
    # class across the operations, at a cost of one request per field and class.
    pick = random.Random(f"{op.id}")
    for name, kind, many in _string_fields(op):
        refused = {**INVISIBLE, "right-to-left override": BIDI}
        if kind == "id":
            refused |= IDENTIFIER_ONLY
        for what, char in refused.items():
            # The character inside a value that shows something, where trimming cannot reach.
            word = pick.choice(["Cracked-01", "S-10000001", "abcdefghij"])
            text = f"{word}{char}{word}"
            sent = {**base, name: [text] if many else text}
            r = await _send(client, op.method, _url(op), headers=headers, json=sent)
            doc = check(r, f"body.{name} with a {what}", named=f"body.{name}")
            assert r.status_code == 422, (op.id, name, what, r.status_code, r.text[:300])
            assert doc is not None
            if kind == "text":  # an id's pattern refuses it first, in its own words
                assert any(
                    e["field"].startswith(f"body.{name}") and f"U+{ord(char):04X}" in e["message"]
                    for e in doc["errors"]
                ), (op.id, name, what, doc)


async def test_free_text_keeps_the_zero_width_space_of_thai_and_khmer(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    intake = pipeline["intake"]
    rid = (await feed_return(intake, harness))["return_id"]
    # Thai marks word breaks with U+200B, not spaces.
    text = "กล่อง\u200bแตก\u200bมา\u200bถึง"
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(rid, description=text),
        headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL"),
    )
    assert r.status_code in (200, 201, 202), r.text
    stored = await scalar(
        intake,
        "SELECT payload->>'description' FROM outbox WHERE key = :k "
        "AND ce_type = 'disputedesk.intake.seller_escalation_filed.v1'",
        k=rid,
    )
    assert stored == text


# --- a partner's identifiers in its scans ------------------------------------------------------


@pytest.mark.parametrize(
    "char", [ZWSP, "\xad", "\u2060", "\ufeff", "\x85"], ids=["ZWSP", "SHY", "WJ", "BOM", "NEL"]
)
async def test_a_partner_identifier_with_an_invisible_character_is_refused_naming_it(
    harness: Harness, pipeline: dict[str, RunningService], char: str
) -> None:
    intake = pipeline["intake"]
    rid = uid("RET")
    cases: list[tuple[str, bytes, str]] = [
        ("swiftship", swiftship_event(rid, hub=f"BLR{char}01"), "body.hub"),
        ("swiftship", swiftship_event(rid, agent=f"AG{char}7"), "body.agent"),
        (
            "rapidroute",
            rapidroute_batch(
                [rapidroute_event(rid, "RPU"), rapidroute_event(rid, agent=f"A{char}1")]
            ),
            "body.events.1.agent",
        ),
        (
            "rapidroute",
            rapidroute_batch(
                [rapidroute_event(rid, "RPU"), {**rapidroute_event(rid), "id": f"E{char}1"}]
            ),
            "body.events.1.id",
        ),
    ]
    for partner, body, field in cases:
        if partner == "swiftship":
            headers = swiftship_headers(
                harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=uid("msg")
            )
        else:
            headers = rapidroute_headers(harness.secrets["RAPIDROUTE_SECRET"], body)
        r = await intake.client.post(f"/v1/webhooks/{partner}", content=body, headers=headers)
        assert r.status_code == 422, (partner, field, r.text)
        fields = {e["field"]: e["message"] for e in r.json()["errors"]}
        assert field in fields and f"U+{ord(char):04X}" in fields[field], (partner, field, r.text)


# --- a partner's free text in its scans --------------------------------------------------------


@pytest.mark.parametrize("char", ["\u2060", "\ufeff"], ids=["WJ", "BOM"])
async def test_a_partner_free_text_with_a_hiding_character_is_refused_naming_it(
    harness: Harness, pipeline: dict[str, RunningService], char: str
) -> None:
    """A city and a QC reason are free text held to the desk's own rule: U+2060–U+2064 and
    U+FEFF inside are refused (`em⁠pty box` is shown to the desk and quoted to the partner in a
    dispute as "empty box", yet is no "empty box" to a search); before, they were kept."""
    intake = pipeline["intake"]
    rid = uid("RET")
    cases: list[tuple[str, bytes, str]] = [
        (
            "swiftship",
            swiftship_event(rid, qc_failure_reason=f"em{char}pty box"),
            "body.qc_failure_reason",
        ),
        (
            "rapidroute",
            rapidroute_batch(
                [
                    rapidroute_event(rid, "RPU"),
                    rapidroute_event(rid, "RQF", qc_failure_reason=f"em{char}pty box"),
                ]
            ),
            "body.events.1.qc_failure_reason",
        ),
        (
            "rapidroute",
            rapidroute_batch(
                [rapidroute_event(rid, location={"hub": "DEL-1", "city": f"New{char} Delhi"})]
            ),
            "body.events.0.location.city",
        ),
    ]
    for partner, body, field in cases:
        if partner == "swiftship":
            headers = swiftship_headers(
                harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=uid("msg")
            )
        else:
            headers = rapidroute_headers(harness.secrets["RAPIDROUTE_SECRET"], body)
        r = await intake.client.post(f"/v1/webhooks/{partner}", content=body, headers=headers)
        assert r.status_code == 422, (partner, field, r.text)
        fields = {e["field"]: e["message"] for e in r.json()["errors"]}
        assert field in fields and f"U+{ord(char):04X}" in fields[field], (partner, field, r.text)


async def test_a_partner_free_text_keeps_the_zero_width_space_of_thai(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    intake = pipeline["intake"]
    rid = uid("RET")
    reason = f"กล่อง{ZWSP}ว่าง"  # "empty box", its word break marked as Thai marks it
    body = rapidroute_batch([rapidroute_event(rid, "RQF", qc_failure_reason=reason)])
    headers = rapidroute_headers(harness.secrets["RAPIDROUTE_SECRET"], body)
    r = await intake.client.post("/v1/webhooks/rapidroute", content=body, headers=headers)
    assert r.status_code < 300, r.text
