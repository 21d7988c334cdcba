"""Each partner adapter's scans satisfy the canonical contract, so the common webhook builds its
events without validating them a second time (`partners.service.canonical_event`).

For every body an adapter accepts, drawn around its fields' bounds (the longest texts, the
most images, the heaviest weights, absent fields, texts of any script), the event built from
its scans validates against `ReturnShipmentEvent` and equals the validated event, field for
field and as JSON. A body the adapter refuses is no case: it never reaches the event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from services.intake.partners import desipost, rapidroute, swiftship
from services.intake.partners.adapter import PartnerAdapter, PayloadInvalid
from services.intake.partners.service import canonical_event
from shared.events import ReturnShipmentEvent

RAW_ID = UUID("00000000-0000-4000-8000-000000000001")
CHECKED = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)

# Mostly valid values with the bounds' neighbours now and then: the adapter refuses those, and
# the ones it keeps are the longest the contract must take.
ids = st.from_regex(r"\A[A-Za-z0-9._:\-]{1,65}\Z")
texts = st.none() | st.text(max_size=66)
reasons = st.none() | st.text(max_size=502)
urls = st.text(min_size=1, max_size=60)
images = st.lists(urls, max_size=21)
flags = st.none() | st.booleans()
instants = st.datetimes(
    min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(UTC)
)


def _canonical_of_every_scan(adapter: PartnerAdapter, partner_id: str, **request: Any) -> None:
    try:
        scans = adapter.parse(**request)
    except PayloadInvalid:
        reject()  # outside `given` (the bounds' test) this fails the test: the body must parse
    for scan in scans:
        if scan.event_type is None:  # unmapped: never becomes an event
            continue
        built = canonical_event(partner_id, scan, scan.event_type, raw_id=RAW_ID)
        validated = ReturnShipmentEvent.model_validate(built.model_dump())
        assert validated == built
        assert validated.model_dump_json() == built.model_dump_json()


@CHECKED
@given(
    webhook_id=ids,
    event=st.sampled_from(sorted(swiftship.STATUS_MAP)),
    awb=ids,
    return_ref=ids,
    at=instants,
    offset_h=st.integers(-12, 14),
    hub=texts,
    agent=texts,
    weight_kg=st.none() | st.floats(min_value=0, max_value=1000.5) | st.sampled_from([0, 1000]),
    photos=images,
    otp_verified=flags,
    qc_failure_reason=reasons,
)
def test_swiftship_scans_are_canonical_as_parsed(
    webhook_id: str, offset_h: int, at: datetime, **fields: Any
) -> None:
    local = at.astimezone(timezone(timedelta(hours=offset_h)))  # as the partner writes it
    body = json.dumps({**fields, "at": local.isoformat()}).encode()
    _canonical_of_every_scan(
        swiftship.SwiftshipAdapter(), "swiftship", headers={"webhook-id": webhook_id}, body=body
    )


rapidroute_events = st.fixed_dictionaries(
    {
        "id": ids,
        "shipment": st.fixed_dictionaries({"awb": ids, "ref": ids}),
        "status_code": st.sampled_from([*sorted(rapidroute.STATUS_MAP), "RXX"]),
        "ts": st.integers(946_684_800_000, 4_102_444_800_000),
        "location": st.none() | st.fixed_dictionaries({"hub": texts, "city": texts}),
        "agent": texts,
        "weight_g": st.none() | st.integers(0, 1_000_001),
        "images": images,
        "pod": st.none()
        | st.fixed_dictionaries(
            {"method": st.sampled_from(["OTP", "SIGNATURE", "NONE"]), "verified": st.booleans()}
        ),
        "qc_failure_reason": reasons,
    }
)


@CHECKED
@given(events=st.lists(rapidroute_events, min_size=1, max_size=4))
def test_rapidroute_scans_are_canonical_as_parsed(events: list[dict[str, Any]]) -> None:
    body = json.dumps({"events": events}).encode()
    _canonical_of_every_scan(rapidroute.RapidRouteAdapter(), "rapidroute", headers={}, body=body)


desipost_scans = st.fixed_dictionaries(
    {
        "status": st.sampled_from([*sorted(desipost.STATUS_MAP), "HELD AT GATE"]),
        "date": instants.map(lambda t: t.astimezone(desipost.INDIA).strftime("%d-%m-%Y %H:%M:%S")),
        "location": texts,
        "weight": st.none()
        | st.integers(0, 1_000_001).map(lambda g: f"{g} g")
        | st.decimals(0, 1000, places=3).map(lambda kg: f"{kg} kg"),
    }
)


@CHECKED
@given(
    awb=ids,
    order_ref=ids,
    scans=st.lists(desipost_scans, min_size=1, max_size=4),
    qc=st.none()
    | st.fixed_dictionaries(
        {
            "status": st.sampled_from(["PASSED", "FAILED", "NOT_REQUIRED"]),
            "failure_reason": reasons,
            "image": st.none() | urls,
        }
    ),
    pod=st.none()
    | st.fixed_dictionaries({"status": st.sampled_from([None, "OTP Based Delivery", "Signature"])}),
)
def test_desipost_scans_are_canonical_as_parsed(**snapshot: Any) -> None:
    body = json.dumps(snapshot).encode()
    _canonical_of_every_scan(desipost.DesipostAdapter(), "desipost", headers={}, body=body)


def test_the_fields_at_their_bounds_are_canonical_as_parsed() -> None:
    """The bounds themselves, not left to chance: the longest texts, 20 images, 1,000 kg."""
    longest = "é" * 64
    body = json.dumps(
        {
            "event": "return.qc_failed",
            "awb": "A" * 64,
            "return_ref": "R" * 64,
            "at": "2026-11-26T09:23:00+05:30",
            "hub": longest,
            "agent": longest,
            "weight_kg": 1000,
            "photos": ["u" * 2000] * 20,
            "otp_verified": True,
            "qc_failure_reason": "r" * 500,
        }
    ).encode()
    _canonical_of_every_scan(
        swiftship.SwiftshipAdapter(), "swiftship", headers={"webhook-id": "w" * 120}, body=body
    )
