"""Sign partner requests the way each partner does (used by the simulator and the tests)."""

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
