"""The swiftship adapter against the partner's published test vector."""

from datetime import UTC, datetime

import pytest

from services.intake.partners.adapter import AuthenticationFailed, PartnerCredential
from services.intake.partners.swiftship import SwiftshipAdapter, sign
from tests.support.factories import FIXTURES

SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
BODY = (FIXTURES / "partners" / "swiftship-qc-passed.json").read_bytes()
HEADERS = {
    "webhook-id": "msg_2Lx9J0qQ8v1",
    "webhook-timestamp": "1795687380",
    "webhook-signature": "v1,4Z0YXcFGy+AgMxOXqptjxhylSRiKbO44+uteenosdf4=",
}
AT_VECTOR_TIME = datetime.fromtimestamp(1795687380 + 10, UTC)


def test_test_vector_signature_is_reproduced() -> None:
    assert sign(SECRET, "msg_2Lx9J0qQ8v1", "1795687380", BODY) == HEADERS["webhook-signature"]


def test_vector_authenticates_and_parses() -> None:
    adapter = SwiftshipAdapter()
    adapter.authenticate(
        headers=HEADERS,
        body=BODY,
        credentials=[PartnerCredential(SECRET, None, None)],
        now=AT_VECTOR_TIME,
        tolerance_s=300,
    )
    [scan] = adapter.parse(headers=HEADERS, body=BODY)
    assert scan.event_type == "QC_PASSED"
    assert scan.weight_g == 452
    assert scan.occurred_at == datetime(2026, 11, 26, 3, 53, tzinfo=UTC)
    assert scan.return_id == "RET-000123"


@pytest.mark.parametrize(
    "body, headers, now",
    [
        (BODY + b" ", HEADERS, AT_VECTOR_TIME),  # tampered body
        (BODY, HEADERS, datetime.fromtimestamp(1795687380 + 301, UTC)),  # stale
        (BODY, HEADERS, datetime.fromtimestamp(1795687380 - 301, UTC)),  # from the future
        (BODY, {**HEADERS, "webhook-signature": "v1,AAAA"}, AT_VECTOR_TIME),
        # Digits str.isdigit() takes and int() cannot read: refused, not a ValueError (a 500).
        (BODY, {**HEADERS, "webhook-timestamp": "²"}, AT_VECTOR_TIME),
        (BODY, {**HEADERS, "webhook-timestamp": "١٧٩٥٦٨٧٣٨٠"}, AT_VECTOR_TIME),
    ],
)
def test_rejections(body: bytes, headers: dict[str, str], now: datetime) -> None:
    with pytest.raises(AuthenticationFailed):
        SwiftshipAdapter().authenticate(
            headers=headers,
            body=body,
            credentials=[PartnerCredential(SECRET, None, None)],
            now=now,
            tolerance_s=300,
        )


def test_any_listed_signature_passes_during_rotation() -> None:
    old = "whsec_" + "A" * 43 + "="
    rotated = {
        **HEADERS,
        "webhook-signature": "v1,bm90LXRoaXMtb25l " + HEADERS["webhook-signature"],
    }
    SwiftshipAdapter().authenticate(
        headers=rotated,
        body=BODY,
        credentials=[PartnerCredential(old, None, None), PartnerCredential(SECRET, None, None)],
        now=AT_VECTOR_TIME,
        tolerance_s=300,
    )
