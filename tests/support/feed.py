"""The marketplace feed from a test: a return must be fed before its escalations and scans are
filed (intake holds them otherwise), as in real traffic."""

from __future__ import annotations

from typing import Any

from tests.support.factories import return_body
from tests.support.services import RunningService


async def feed_return(
    intake: RunningService, harness: Any, return_id: str | None = None, **over: Any
) -> dict[str, Any]:
    """POST the return to intake's feed; the body sent (its `awb`, `partner_id`, ...)."""
    body = return_body(return_id, **over)
    r = await intake.client.post(
        "/v1/returns", json=body, headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    )
    assert r.status_code == 202, r.text
    return body
