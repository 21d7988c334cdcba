"""Sign partner requests the way each partner does: one implementation for the simulator,
the fault drills and the tests."""

from __future__ import annotations

import time

from services.intake.partners.swiftship import sign as swiftship_sign


def swiftship_headers(
    secret: str, body: bytes, *, webhook_id: str, timestamp: int | None = None
) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": ts,
        "webhook-signature": swiftship_sign(secret, webhook_id, ts, body),
        "content-type": "application/json",
    }


def rapidroute_headers(
    secrets: str | list[str], body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    from services.intake.partners.rapidroute import signature_header

    listed = [secrets] if isinstance(secrets, str) else secrets
    ts = timestamp if timestamp is not None else int(time.time())
    return {
        "RapidRoute-Signature": signature_header(listed, ts, body),
        "content-type": "application/json",
    }


def desipost_headers(api_key: str) -> dict[str, str]:
    return {"X-Api-Key": api_key, "content-type": "application/json"}
