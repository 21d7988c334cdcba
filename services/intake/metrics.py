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

_LABEL_SAFE = re.compile(r"^[A-Za-z0-9 ._\-]{1,40}$")


def status_label(status: str) -> str:
    """A partner's status string as a label value; anything odd collapses into `other`."""
    return status if _LABEL_SAFE.match(status) else "other"
