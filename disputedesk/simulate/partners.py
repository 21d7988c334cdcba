"""Partner webhook emitters: turn a simulated scan into the HTTP request that partner sends.

One function per partner format; a new partner format is one more emitter here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from disputedesk.simulate.signing import swiftship_headers

Request = tuple[str, dict[str, str], bytes]
# (scan, secrets, message id, Unix time of sending): intake checks the signature's timestamp
# against its own clock, which in a simulation is the simulated one.
Emitter = Callable[[dict[str, Any], dict[str, str], str, int], Request]


def swiftship_request(
    scan: dict[str, Any], secrets: dict[str, str], message_id: str, sent_at: int
) -> Request:
    body = json.dumps(scan, separators=(",", ":")).encode()
    headers = swiftship_headers(secrets["SWIFTSHIP_SECRET"], body, webhook_id=message_id,
                                timestamp=sent_at)
    return "/v1/webhooks/swiftship", headers, body


EMITTERS: dict[str, Emitter] = {"swiftship": swiftship_request}
