"""Intake's domain metrics. Labels carry partner ids (a registered, bounded set) and partner
status strings sanitised to a bounded vocabulary; never request or person identifiers."""

from __future__ import annotations

import re

from prometheus_client import Counter

WEBHOOK_REQUESTS = Counter(
    "intake_webhook_requests",
    "Partner webhook requests by what became of them.",
    # outcome: accepted | duplicate | unmapped | partially_unmapped | invalid | unauthorized
    #          | rate_limited | unknown_partner
    ["partner", "outcome"],
)
UNMAPPED_STATUS = Counter(
    "intake_unmapped_status",
    "Partner scans whose status had no canonical mapping (each scan counted once).",
    ["partner", "status"],
)
SECURITY_EVENTS = Counter(
    "disputedesk_intake_security_events",
    "Escalations and partner scans refused because the return is not theirs (or never came).",
    # kind: escalation | scan; partner: the reporting partner of a scan, `none` for escalations;
    # reason: seller_mismatch | partner_mismatch | awb_mismatch
    #         | unknown_shipment
    ["kind", "partner", "reason"],
)
HELD = Counter(
    "disputedesk_intake_held",
    "Escalations and partner scans held until the feed announces their return.",
    ["kind", "partner"],
)


def security_event(kind: str, reason: str, partner: str | None = None) -> None:
    SECURITY_EVENTS.labels(kind, partner or "none", reason).inc()


_LABEL_SAFE = re.compile(r"^[A-Za-z0-9 ._\-]{1,40}$")


def status_label(status: str) -> str:
    """A partner's status string as a label value; anything odd collapses into `other`."""
    return status if _LABEL_SAFE.match(status) else "other"
