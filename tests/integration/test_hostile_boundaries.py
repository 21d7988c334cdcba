"""Trust boundaries the hostile client probes on the real stack: a cursor that is no cursor, text
that displays otherwise than it is stored, a partner's id of whitespace or padded, and instants
finer than a microsecond.

- An empty or blank `?cursor=` was read as the first page, on every list of every service: a
  client whose paging lost its place started over silently. Every paginated operation of the
  four OpenAPI documents is probed (found by its `cursor` parameter, so a new list is covered
  the day it is added).
- Bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and its kin, "Trojan Source") were
  accepted in notes, reasons, names and ids. Each is refused naming the field and the code
  point; Hindi, Tamil, Arabic and emoji (with their joiners) are kept as written.
- A partner's hub, agent or event id of whitespace alone was stored as sent, and a padded event
  id made a second scan of one. Ids are trimmed (partners.md), blank ones refused naming the
  field and, in a batch, the item.
- An instant with nanoseconds is read to the microsecond, cut toward the past, the same way
  wherever it is read, so two copies differing below a microsecond are one value.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.conftest import Harness
from tests.integration.test_hostile_blank_text import BLANK, BLANK_TEXT
from tests.integration.test_hostile_sweep import OPERATIONS, Operation, _key, _send, _url, check
from tests.support.db import rows, scalar
from tests.support.factories import (
    desipost_snapshot,
    escalation_body,
    rapidroute_batch,
    rapidroute_event,
    swiftship_event,
    uid,
)
from tests.support.feed import feed_return
from tests.support.services import RunningService
from tests.support.signing import desipost_headers, rapidroute_headers, swiftship_headers

PROBLEM = "application/problem+json"

# --- 1. a cursor is a token the server handed out ------------------------------------------

PAGED = [op for op in OPERATIONS if op.method == "GET" and "cursor" in op.query]
NO_CURSORS = {"empty": "", "blank": "%20%20", "a plus (a space)": "+", "padded": "%20e30"}


def test_the_lists_are_found() -> None:
    # One per service at least: the probe below is generated, so an empty list would pass.
    assert {op.service for op in PAGED} == {"intake", "reconciliation", "fraud", "notifications"}
    assert len(PAGED) >= 15, [op.id for op in PAGED]


@pytest.mark.parametrize("op", PAGED, ids=[o.id for o in PAGED])
async def test_an_empty_or_blank_cursor_is_no_cursor(
    harness: Harness, pipeline: dict[str, RunningService], op: Operation
) -> None:
    client = pipeline[op.service].client
    for what, cursor in NO_CURSORS.items():
        r = await _send(client, "GET", f"{_url(op)}?cursor={cursor}", headers=_key(harness, op))
        doc = check(r, f"{op.id} cursor {what}", named="query.cursor")
        assert r.status_code == 422, (op.id, what, r.status_code, r.text[:300])
        assert doc is not None
        assert "query.cursor" in [e["field"] for e in doc["errors"]], (op.id, what, doc)


async def test_a_cursor_handed_out_still_pages(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    fraud = pipeline["fraud"].client
    manager = harness.key("DISPUTEDESK_KEY_OPS_MANAGER")
    for n in range(3):
        r = await fraud.post(
            "/v1/watchlist",
            json={"entity_type": "seller", "entity_id": uid("S-PAGE"), "reason": f"page {n}"},
            headers=manager,
        )
        assert r.status_code in (200, 201), r.text
    first = await fraud.get("/v1/watchlist?limit=1", headers=manager)
    assert first.status_code == 200, first.text
    cursor = first.json()["next"]
    assert cursor
    second = await fraud.get(f"/v1/watchlist?limit=1&cursor={cursor}", headers=manager)
    assert second.status_code == 200, second.text
    assert second.json()["items"] != first.json()["items"]


# --- 2. text that displays otherwise than it is stored --------------------------------------

# The bidirectional embeddings, overrides, isolates and marks.
BIDI = [
    "\u061c",
    "\u200e",
    "\u200f",
    *(chr(c) for c in range(0x202A, 0x202F)),
    *(chr(c) for c in range(0x2066, 0x206A)),
]


def _with(value: Any, text: str) -> Any:
    """The body with every blank text of the blank-text table replaced by `text`."""
    if value == BLANK:
        return text
    if isinstance(value, dict):
        return {k: _with(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_with(v, text) for v in value]
    return value


@pytest.mark.parametrize(("service", "method", "url", "key", "body", "field"), BLANK_TEXT)
async def test_a_right_to_left_override_in_free_text_is_refused_naming_the_field(
    harness: Harness,
    pipeline: dict[str, RunningService],
    service: str,
    method: str,
    url: str,
    key: str,
    body: dict[str, Any],
    field: str,
) -> None:
    # Reads "Refund approved exe.fdp" on a screen: the override turns what follows around.
    sent = _with(body, "Refund approved \u202efdp.exe")
    r = await pipeline[service].client.request(
        method,
        url,
        content=json.dumps(sent).encode(),
        headers={**harness.key(key), "content-type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "U+202E" in errors.get(field, ""), errors


@pytest.mark.parametrize("char", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
async def test_every_bidirectional_control_is_refused_with_its_code_point(
    harness: Harness, pipeline: dict[str, RunningService], char: str
) -> None:
    fraud = pipeline["fraud"].client
    manager = harness.key("DISPUTEDESK_KEY_OPS_MANAGER")
    code = f"U+{ord(char):04X}"
    # Free text.
    r = await fraud.post(
        "/v1/watchlist",
        json={"entity_type": "seller", "entity_id": uid("S-BIDI"), "reason": f"ab{char}cd"},
        headers=manager,
    )
    assert r.status_code == 422, r.text
    assert code in {e["field"]: e["message"] for e in r.json()["errors"]}["body.reason"]
    # An identifier in the body, the path and the query.
    r = await fraud.post(
        "/v1/watchlist",
        json={"entity_type": "seller", "entity_id": f"S-{char}1", "reason": "probe"},
        headers=manager,
    )
    assert r.status_code == 422, r.text
    assert "body.entity_id" in [e["field"] for e in r.json()["errors"]], r.text
    encoded = "".join(f"%{b:02X}" for b in char.encode())
    intake = pipeline["intake"].client
    portal = harness.key("DISPUTEDESK_KEY_SELLER_PORTAL")
    r = await intake.get(f"/v1/escalations?seller_id=S-DEMO-1{encoded}", headers=portal)
    assert r.status_code == 422, r.text
    assert code in {e["field"]: e["message"] for e in r.json()["errors"]}["query.seller_id"]
    ops = harness.key("DISPUTEDESK_KEY_OPS_AGENT")
    recon = pipeline["reconciliation"].client
    r = await recon.get(f"/v1/cases/CASE-{encoded}1", headers=ops)
    assert r.status_code == 422, r.text
    assert code in {e["field"]: e["message"] for e in r.json()["errors"]}["path.case_id"]


LEGITIMATE = [
    "स्क्रीन टूटी हुई है, डिब्बा खुला था।",  # Hindi, with its combining vowel signs
    "திரை உடைந்து வந்தது",  # Tamil
    "وصل الهاتف مكسوراً — محمد علي",  # Arabic, right to left by its own letters
    "Cracked screen 📱💔 👩\u200d💻 🇮🇳",  # emoji, a joiner sequence, a flag
    "क्\u200dष and ന്\u200d",  # Indic joiners (U+200D) that shape conjuncts and chillu
]


@pytest.mark.parametrize("text", LEGITIMATE)
async def test_text_of_every_script_is_kept_as_written(
    harness: Harness, pipeline: dict[str, RunningService], text: str
) -> None:
    intake = pipeline["intake"]
    rid = (await feed_return(intake, harness))["return_id"]
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
    seller = uid("S-NAME")
    r = await pipeline["notifications"].client.put(
        f"/v1/sellers/{seller}",
        json={"emails": [f"{seller.lower()}@example.com"], "display_name": text[:60]},
        headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE"),
    )
    assert r.status_code in (200, 201), r.text


async def test_a_partner_string_with_a_bidirectional_control_is_refused(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    intake = pipeline["intake"]
    rid = uid("RET")
    events = [
        rapidroute_event(rid, "RQF", qc_failure_reason="seal intact \u202edegamad"),
        rapidroute_event(rid, "RDL", agent="AG-\u2066-1"),
    ]
    body = rapidroute_batch(events)
    headers = rapidroute_headers(harness.secrets["RAPIDROUTE_SECRET"], body)
    r = await intake.client.post("/v1/webhooks/rapidroute", content=body, headers=headers)
    assert r.status_code == 422, r.text
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "U+202E" in errors["body.events.0.qc_failure_reason"], errors
    assert "U+2066" in errors["body.events.1.agent"], errors


# --- 3. a partner's ids: trimmed, never blank -----------------------------------------------


async def _webhook(
    harness: Harness, intake: RunningService, partner: str, body: bytes, **kw: Any
) -> Any:
    if partner == "swiftship":
        headers = swiftship_headers(harness.secrets["SWIFTSHIP_SECRET"], body, **kw)
    elif partner == "rapidroute":
        headers = rapidroute_headers(harness.secrets["RAPIDROUTE_SECRET"], body)
    else:
        headers = desipost_headers(harness.secrets["DESIPOST_API_KEY"])
    return await intake.client.post(f"/v1/webhooks/{partner}", content=body, headers=headers)


BLANK_IDS = ["", "   ", "\t"]


@pytest.mark.parametrize("blank", BLANK_IDS, ids=["empty", "spaces", "tab"])
async def test_a_partner_id_of_whitespace_is_refused_naming_it(
    harness: Harness, pipeline: dict[str, RunningService], blank: str
) -> None:
    intake = pipeline["intake"]
    rid = uid("RET")
    cases: list[tuple[str, bytes, str]] = [
        ("swiftship", swiftship_event(rid, hub=blank), "body.hub"),
        ("swiftship", swiftship_event(rid, agent=blank), "body.agent"),
        ("swiftship", swiftship_event(rid, awb=blank), "body.awb"),
        (
            "rapidroute",
            rapidroute_batch([rapidroute_event(rid, "RPU"), rapidroute_event(rid, agent=blank)]),
            "body.events.1.agent",
        ),
        (
            "rapidroute",
            rapidroute_batch(
                [rapidroute_event(rid, "RPU"), rapidroute_event(rid, location={"hub": blank})]
            ),
            "body.events.1.location.hub",
        ),
        (
            "rapidroute",
            rapidroute_batch(
                [rapidroute_event(rid, "RPU"), {**rapidroute_event(rid), "id": blank}]
            ),
            "body.events.1.id",
        ),
    ]
    snapshot = json.loads(desipost_snapshot(rid, uid("DP"), [("PICKED UP", "24-11-2026 15:42:10")]))
    snapshot["scans"][0]["location"] = blank
    cases.append(("desipost", json.dumps(snapshot).encode(), "body.scans.0.location"))
    for partner, body, field in cases:
        r = await _webhook(harness, intake, partner, body, webhook_id=uid("msg"))
        assert r.status_code == 422, (partner, field, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert field in [e["field"] for e in r.json()["errors"]], (partner, field, r.text)


async def _scans(intake: RunningService, return_id: str) -> list[Any]:
    return await rows(
        intake,
        "SELECT partner_event_id, payload->>'awb', payload->>'hub_id', payload->>'agent_id' "
        "FROM shipment_events WHERE return_id = :r ORDER BY recorded_at",
        r=return_id,
    )


async def test_a_padded_partner_id_is_the_same_id(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    intake = pipeline["intake"]
    ret = await feed_return(intake, harness, partner_id="rapidroute", awb=uid("RR"))
    rid, awb = ret["return_id"], ret["awb"]
    event_id = uid("evt")
    first = rapidroute_event(rid, "RPU", event_id=event_id, awb=awb, agent="AG-1")
    r = await _webhook(harness, intake, "rapidroute", rapidroute_batch([first]))
    assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    # The same scan, its ids padded as a fixed-width system pads them: a duplicate.
    padded = {
        **first,
        "id": f" {event_id}  ",
        "shipment": {"awb": f"{awb} ", "ref": f"  {rid}"},
        "agent": "AG-1   ",
        "location": {"hub": "  DEL-OKH-02 ", "city": "New Delhi"},
    }
    r = await _webhook(harness, intake, "rapidroute", rapidroute_batch([padded]))
    assert r.status_code == 202, r.text
    assert (r.json()["accepted"], r.json()["duplicates"]) == (0, 1), r.text
    # A new scan sent padded is stored trimmed, on the same shipment.
    later = {**padded, "id": f"{uid('evt')} ", "status_code": "RDL"}
    r = await _webhook(harness, intake, "rapidroute", rapidroute_batch([later]))
    assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    scans = await _scans(intake, rid)
    assert len(scans) == 2, scans
    assert scans[1] == (later["id"].strip(), awb, "DEL-OKH-02", "AG-1"), scans

    # swiftship: its hub and agent, and desipost: its AWB (part of each scan's identity).
    sret = await feed_return(intake, harness)
    body = swiftship_event(sret["return_id"], hub=" BLR-HSR-01 ", agent="AG-7781 ")
    r = await _webhook(harness, intake, "swiftship", body, webhook_id=uid("msg"))
    assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    assert (await _scans(intake, sret["return_id"]))[0][2:] == ("BLR-HSR-01", "AG-7781")

    dawb = uid("DP")
    dret = await feed_return(intake, harness, partner_id="desipost", awb=dawb)
    did = dret["return_id"]
    picked = [("PICKED UP", "24-11-2026 15:42:10")]
    r = await _webhook(harness, intake, "desipost", desipost_snapshot(did, dawb, picked))
    assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    r = await _webhook(harness, intake, "desipost", desipost_snapshot(did, f" {dawb} ", picked))
    assert r.status_code == 202, r.text
    assert (r.json()["accepted"], r.json()["duplicates"]) == (0, 1), r.text
    assert len(await _scans(intake, did)) == 1


# --- 4. instants finer than a microsecond ---------------------------------------------------


async def test_nanoseconds_are_cut_to_the_microsecond_the_same_way_everywhere(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    intake = pipeline["intake"]
    marketplace = harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    ret = await feed_return(intake, harness, initiated_at="2026-11-20T10:00:00.123456789Z")
    rid = ret["return_id"]
    stored = await scalar(
        intake,
        "SELECT payload->>'initiated_at' FROM outbox WHERE key = :k "
        "AND ce_type = 'disputedesk.intake.return_initiated.v1'",
        k=rid,
    )
    # Cut toward the past, not rounded (PostgreSQL would round text to …457).
    assert stored.startswith("2026-11-20T10:00:00.123456"), stored
    # A resend differing below the microsecond is the same return; one a microsecond apart
    # is not.
    for instant, status in (
        ("2026-11-20T10:00:00.123456001Z", 202),
        ("2026-11-20T10:00:00.1234569999Z", 202),
        ("2026-11-20T15:30:00.123456999+05:30", 202),
        ("2026-11-20T10:00:00.123457Z", 409),
    ):
        r = await intake.client.post(
            "/v1/returns", json={**ret, "initiated_at": instant}, headers=marketplace
        )
        assert r.status_code == status, (instant, r.text)
        if status == 202:
            assert r.json()["duplicate"] is True, (instant, r.text)

    # A partner's scan time: swiftship's `at`, read the same way.
    sret = await feed_return(intake, harness)
    msg = uid("msg")
    body = swiftship_event(sret["return_id"], at="2026-11-25T08:00:00.999999999+05:30")
    r = await _webhook(harness, intake, "swiftship", body, webhook_id=msg)
    assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    occurred = await scalar(
        intake,
        "SELECT occurred_at FROM shipment_events WHERE return_id = :r",
        r=sret["return_id"],
    )
    assert occurred.isoformat() == "2026-11-25T02:30:00.999999+00:00", occurred
    # Its redelivery with another digit below the microsecond is the same scan.
    again = swiftship_event(sret["return_id"], at="2026-11-25T08:00:00.999999001+05:30")
    r = await _webhook(harness, intake, "swiftship", again, webhook_id=msg)
    assert r.status_code == 202 and r.json()["duplicates"] == 1, r.text


# --- 5. a redelivery does not grow the archive ----------------------------------------------


async def test_a_redelivered_request_is_archived_once(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    intake = pipeline["intake"]
    ret = await feed_return(intake, harness)
    msg = uid("msg")
    body = swiftship_event(ret["return_id"], event="return.picked_up")
    answers = [await _webhook(harness, intake, "swiftship", body, webhook_id=msg)]
    # Retried one after another, then twenty at once (each request signed anew).
    for _ in range(4):
        answers.append(await _webhook(harness, intake, "swiftship", body, webhook_id=msg))
    answers += await asyncio.gather(
        *(_webhook(harness, intake, "swiftship", body, webhook_id=msg) for _ in range(20))
    )
    assert all(r.status_code == 202 for r in answers), [r.text for r in answers]
    assert [r.json()["accepted"] for r in answers] == [1] + [0] * 24
    assert {r.json()["raw_ref"] for r in answers} == {answers[0].json()["raw_ref"]}
    archived = await rows(
        intake,
        "SELECT verdict, events_emitted FROM raw_requests "
        "WHERE partner_id = 'swiftship' AND headers->>'webhook-id' = :m",
        m=msg,
    )
    assert archived == [("accepted", 1)], archived

    # rapidroute has no request id of its own: the same body, signed again, is the same request.
    rret = await feed_return(intake, harness, partner_id="rapidroute", awb=uid("RR"))
    batch = rapidroute_batch([rapidroute_event(rret["return_id"], "RPU", awb=rret["awb"])])
    refs = {(await _webhook(harness, intake, "rapidroute", batch)).json()["raw_ref"] for _ in "abc"}
    assert len(refs) == 1, refs
    count = await scalar(
        intake,
        "SELECT count(*) FROM raw_requests WHERE partner_id = 'rapidroute' AND body = :b",
        b=batch,
    )
    assert count == 1

    # Another body under the same id is another request (a partner's correction): kept.
    other = swiftship_event(ret["return_id"], event="return.picked_up", hub="BLR-HSR-02")
    r = await _webhook(harness, intake, "swiftship", other, webhook_id=msg)
    assert r.status_code == 202 and r.json()["raw_ref"] != answers[0].json()["raw_ref"], r.text


async def test_a_request_first_held_then_resent_is_answered_with_its_first_copy(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    """The first copy went the transactional way (its return not announced yet: the scan held);
    once the feed binds it, a resend of the same request is the same request."""
    intake = pipeline["intake"]
    rid = uid("RET")
    msg = uid("msg")
    body = swiftship_event(rid, event="return.picked_up")
    first = await _webhook(harness, intake, "swiftship", body, webhook_id=msg)
    assert first.status_code == 202 and first.json()["accepted"] == 0, first.text
    await feed_return(intake, harness, rid)  # binds the held scan
    again = await _webhook(harness, intake, "swiftship", body, webhook_id=msg)
    assert again.status_code == 202, again.text
    assert again.json()["raw_ref"] == first.json()["raw_ref"], again.text
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 1), again.text
    count = await scalar(
        intake, "SELECT count(*) FROM raw_requests WHERE headers->>'webhook-id' = :m", m=msg
    )
    assert count == 1
