"""The rapidroute adapter against the partner's published test vector and its batch rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from services.intake.partners.adapter import AuthenticationFailed, PartnerCredential, PayloadInvalid
from services.intake.partners.rapidroute import RapidRouteAdapter, sign, signature_header
from tests.support.factories import FIXTURES

SECRET = "rr_live_5f2c9a7e41d04b8a"
BODY = (FIXTURES / "partners" / "rapidroute-batch.json").read_bytes()
VECTOR = "t=1795690005,v1=306ea38f3bea1b6cd7606e6180414400e7cbe752935dc285f33bf1ac3d414fdc"
AT_VECTOR_TIME = datetime.fromtimestamp(1795690005 + 10, UTC)
CREDS = [PartnerCredential(SECRET, None, None)]


def _authenticate(
    body: bytes, header: str, now: datetime = AT_VECTOR_TIME, creds: list[PartnerCredential] = CREDS
) -> None:
    RapidRouteAdapter().authenticate(
        headers={"rapidroute-signature": header},
        body=body,
        credentials=creds,
        now=now,
        tolerance_s=300,
    )


def test_test_vector_signature_is_reproduced() -> None:
    assert signature_header([SECRET], 1795690005, BODY) == VECTOR
    assert sign(SECRET, "1795690005", BODY) == VECTOR.split("v1=")[1]


def test_vector_authenticates_and_parses() -> None:
    _authenticate(BODY, VECTOR)
    [scan] = RapidRouteAdapter().parse(headers={}, body=BODY)
    assert scan.partner_event_id == "evt_88120"
    assert scan.event_type == "DELIVERED_TO_SELLER"
    assert scan.return_id == "RET-000124" and scan.awb == "RR5566778899"
    assert scan.occurred_at == datetime.fromtimestamp(1795690000, UTC)
    assert scan.weight_g == 380 and scan.hub_id == "DEL-OKH-02"
    assert scan.pod_otp_verified is True


@pytest.mark.parametrize(
    "body, header, now",
    [
        (BODY + b" ", VECTOR, AT_VECTOR_TIME),  # tampered body
        (BODY.replace(b"380", b"880"), VECTOR, AT_VECTOR_TIME),  # tampered weight
        (BODY, VECTOR, datetime.fromtimestamp(1795690005 + 301, UTC)),  # stale
        (BODY, VECTOR, datetime.fromtimestamp(1795690005 - 301, UTC)),  # from the future
        (BODY, VECTOR.replace("t=1795690005", "t=1795690006"), AT_VECTOR_TIME),  # moved time
        (BODY, "t=1795690005", AT_VECTOR_TIME),  # no signature
        (BODY, "v1=" + "0" * 64, AT_VECTOR_TIME),  # no timestamp
        (BODY, "t=abc,v1=" + "0" * 64, AT_VECTOR_TIME),
        (BODY, "t=²,v1=" + "0" * 64, AT_VECTOR_TIME),  # isdigit() takes it, int() does not
        (BODY, "", AT_VECTOR_TIME),
    ],
)
def test_rejections(body: bytes, header: str, now: datetime) -> None:
    with pytest.raises(AuthenticationFailed):
        _authenticate(body, header, now)


def test_any_listed_signature_and_any_active_secret_pass_during_rotation() -> None:
    new = "rr_live_new_secret_0001"
    both = signature_header([new, SECRET], 1795690005, BODY)
    _authenticate(BODY, both)  # sender signs with both; we know only the old one
    _authenticate(BODY, VECTOR, creds=[PartnerCredential(new, None, None), *CREDS])
    with pytest.raises(AuthenticationFailed):
        _authenticate(BODY, VECTOR, creds=[PartnerCredential(new, None, None)])


def _batch(n: int) -> bytes:
    event = json.loads(BODY)["events"][0]
    return json.dumps({"events": [{**event, "id": f"e{i}"} for i in range(n)]}).encode()


def test_batch_of_500_parses_and_501_is_refused_whole() -> None:
    assert len(RapidRouteAdapter().parse(headers={}, body=_batch(500))) == 500
    with pytest.raises(PayloadInvalid) as too_many:
        RapidRouteAdapter().parse(headers={}, body=_batch(501))
    assert too_many.value.errors[0]["field"] == "body.events"
    with pytest.raises(PayloadInvalid) as empty:
        RapidRouteAdapter().parse(headers={}, body=b'{"events": []}')
    assert empty.value.errors[0]["field"] == "body.events"


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda e: e.update(ts="yesterday"), "body.events.0.ts"),
        (lambda e: e.update(ts=1795690000), "body.events.0.ts"),  # seconds, not milliseconds
        (lambda e: e.update(weight_g=-5), "body.events.0.weight_g"),
        (lambda e: e["shipment"].pop("ref"), "body.events.0.shipment.ref"),
        (lambda e: e.update(id="x" * 500), "body.events.0.id"),
        (lambda e: e.update(pod={"method": "CARRIER_PIGEON"}), "body.events.0.pod.method"),
    ],
)
def test_invalid_events_name_their_field(mutate, field) -> None:  # type: ignore[no-untyped-def]
    event = json.loads(BODY)["events"][0]
    mutate(event)
    with pytest.raises(PayloadInvalid) as exc:
        RapidRouteAdapter().parse(headers={}, body=json.dumps({"events": [event]}).encode())
    assert field in [e["field"] for e in exc.value.errors]


def test_unknown_status_code_parses_unmapped() -> None:
    event = {**json.loads(BODY)["events"][0], "status_code": "RZZ"}
    [scan] = RapidRouteAdapter().parse(headers={}, body=json.dumps({"events": [event]}).encode())
    assert scan.event_type is None and scan.status == "RZZ"
