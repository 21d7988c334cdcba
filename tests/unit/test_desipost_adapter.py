"""The desipost adapter: API-key hashes, India time, weights with units, scan identities."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from services.intake.partners.adapter import AuthenticationFailed, PartnerCredential, PayloadInvalid
from services.intake.partners.desipost import DesipostAdapter, india_time_to_utc
from shared.auth import hash_key
from shared.weights import grams_from_text
from tests.support.factories import FIXTURES

BODY = (FIXTURES / "partners" / "desipost-snapshot.json").read_bytes()
KEY = "dp_live_test_key_0123456789"
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _auth(token: str | None, creds: list[PartnerCredential]) -> None:
    headers = {"x-api-key": token} if token is not None else {}
    DesipostAdapter().authenticate(
        headers=headers, body=BODY, credentials=creds, now=NOW, tolerance_s=300
    )


def test_api_key_is_checked_against_stored_hashes_only() -> None:
    _auth(
        KEY,
        [
            PartnerCredential(None, hash_key("dp_old_key_987654321"), None),
            PartnerCredential(None, hash_key(KEY), None),
        ],
    )
    for token in ("wrong", KEY + "x", "", None):
        with pytest.raises(AuthenticationFailed):
            _auth(token, [PartnerCredential(None, hash_key(KEY), None)])
    with pytest.raises(AuthenticationFailed):  # a plaintext-only credential vouches for nothing
        _auth(KEY, [PartnerCredential(KEY, None, None)])


@pytest.mark.parametrize(
    "local, utc",
    [
        ("24-11-2026 10:00:00", datetime(2026, 11, 24, 4, 30, tzinfo=UTC)),
        ("01-01-2027 02:15:30", datetime(2026, 12, 31, 20, 45, 30, tzinfo=UTC)),  # across years
        ("26-11-2026 13:30:45", datetime(2026, 11, 26, 8, 0, 45, tzinfo=UTC)),
    ],
)
def test_india_time_becomes_utc(local: str, utc: datetime) -> None:
    assert india_time_to_utc(local) == utc


@pytest.mark.parametrize(
    "bad",
    [
        "2026-11-24 10:00:00",
        "24-11-2026",
        "31-02-2026 10:00:00",
        "24-11-2026 25:00:00",
        "24/11/2026 10:00:00",
        # Digits of other scripts, which `\\d` and strptime would read as ASCII ones.
        "٢٤-١١-٢٠٢٦ ١٠:٠٠:٠٠",
        "２４-１１-２０２６ １０:００:００",
    ],
)
def test_malformed_dates_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        india_time_to_utc(bad)


@pytest.mark.parametrize(
    "text, grams",
    [
        ("0.45 kg", 450),
        ("450 g", 450),
        ("450g", 450),
        ("1.2345 KG", 1235),
        ("0 g", 0),
        ("12 kg", 12000),
        (" 0.3 kg ", 300),
    ],
)
def test_weights_become_grams(text: str, grams: int) -> None:
    assert grams_from_text(text) == grams


@pytest.mark.parametrize(
    "bad", ["heavy", "450", "kg", "-1 kg", "4.5 lb", "2000 kg", "٤٥٠ g", "０.４５ kg"]
)
def test_bad_weights_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        grams_from_text(bad)


def test_sample_snapshot_parses_every_scan_with_its_identity() -> None:
    scans = DesipostAdapter().parse(headers={}, body=BODY)
    assert [s.event_type for s in scans] == [
        "PICKUP_SCHEDULED",
        "QC_PASSED",
        "PICKED_UP",
        "IN_TRANSIT",
        "AT_HUB",
        "OUT_FOR_DELIVERY",
        "DELIVERED_TO_SELLER",
    ]
    assert scans[0].partner_event_id == "DP77001234|PICKUP SCHEDULED|24-11-2026 10:00:00"
    assert len({s.partner_event_id for s in scans}) == 7
    assert all(s.return_id == "RET-000125" and s.awb == "DP77001234" for s in scans)
    qc, picked, delivered = scans[1], scans[2], scans[6]
    assert picked.weight_g == 450 and delivered.weight_g == 310
    assert qc.images == ["https://img.desipost.example/qc/DP77001234.jpg"]
    assert delivered.pod_otp_verified is True and picked.pod_otp_verified is None
    assert delivered.occurred_at == datetime(2026, 11, 26, 8, 0, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda b: b["scans"][3].update(date="2026-11-25T02:10:00"), "body.scans.3.date"),
        (lambda b: b["scans"][1].update(weight="heavy"), "body.scans.1.weight"),
        (lambda b: b.update(scans=[]), "body.scans"),
        (lambda b: b.pop("order_ref"), "body.order_ref"),
        (lambda b: b.update(awb="has spaces in it"), "body.awb"),
        (lambda b: b.update(qc={"status": "MAYBE"}), "body.qc.status"),
    ],
)
def test_invalid_snapshots_name_their_field(mutate, field) -> None:  # type: ignore[no-untyped-def]
    body = json.loads(BODY)
    mutate(body)
    with pytest.raises(PayloadInvalid) as exc:
        DesipostAdapter().parse(headers={}, body=json.dumps(body).encode())
    assert field in [e["field"] for e in exc.value.errors]
