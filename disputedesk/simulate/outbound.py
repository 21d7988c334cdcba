"""Send one planned request to intake's public API and keep the tally of what came back."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from disputedesk.simulate.partners import signed_request
from disputedesk.simulate.traffic import Send


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    payload: dict[str, Any]
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def problem(self) -> str:
        title = str(self.payload.get("title") or "")
        detail = str(self.payload.get("detail") or "")
        return f"{self.status} {title}: {detail}"[:200]


def label(send: Send) -> str:
    """The kind of request, and for webhooks whose partner sent it."""
    return f"webhook/{send.partner_id}" if send.kind == "webhook" else send.kind


async def post(
    client: httpx.AsyncClient, send: Send, secrets: dict[str, str], *, sent_at: int
) -> Reply:
    """One request. Escalations and feedback carry an Idempotency-Key derived from the return,
    so a retried request files nothing twice."""
    if send.kind == "webhook":
        assert send.message is not None
        path, headers, body = signed_request(send.message, secrets, sent_at)
        response = await client.post(path, content=body, headers=headers)
    elif send.kind == "return":
        response = await client.post(
            "/v1/returns",
            json=send.body,
            headers={"Authorization": f"Bearer {secrets['DISPUTEDESK_KEY_MARKETPLACE']}"},
        )
    else:
        path = "/v1/escalations" if send.kind == "escalation" else "/v1/seller-feedback"
        # The desk agent files on the seller's behalf; the marketplace relays feedback.
        key = secrets[
            "DISPUTEDESK_KEY_OPS_AGENT"
            if send.kind == "escalation"
            else "DISPUTEDESK_KEY_MARKETPLACE"
        ]
        response = await client.post(
            path,
            json=send.body,
            headers={
                "Authorization": f"Bearer {key}",
                "Idempotency-Key": f"sim-{send.kind}-{send.return_ids[0]}",
            },
        )
    try:
        payload = response.json()
    except ValueError:
        payload = {"detail": response.text[:200]}
    try:
        retry_after = float(response.headers.get("retry-after", ""))
    except ValueError:
        retry_after = None
    return Reply(response.status_code, payload if isinstance(payload, dict) else {}, retry_after)


@dataclass(slots=True)
class Tally:
    """What intake answered, by kind of request and partner."""

    sent: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    redeliveries: Counter[str] = field(default_factory=Counter)
    # Partner events intake turned into canonical events, and those it knew already.
    events_accepted: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    expected_new: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)  # "label: status title: detail"
    # Scans and escalations intake held because the feed had not announced their return yet,
    # and scans it refused as another partner's shipment: honest traffic in order has none.
    held: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    unreachable: int = 0

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())

    @property
    def total_accepted(self) -> int:
        return sum(self.accepted.values())

    @property
    def total_rejected(self) -> int:
        return sum(self.rejected.values()) + self.unreachable

    def record(self, send: Send, reply: Reply) -> None:
        name = label(send)
        self.sent[name] += 1
        if send.redelivery:
            self.redeliveries[name] += 1
        if send.kind == "webhook":
            self.expected_new[name] += send.new_events
        if not reply.ok:
            self.rejected[f"{name}: {reply.problem}"] += 1
            return
        self.accepted[name] += 1
        if send.kind == "webhook":
            self.events_accepted[name] += int(reply.payload.get("accepted", 0))
            self.duplicates[name] += int(reply.payload.get("duplicates", 0))
            self.held[name] += int(reply.payload.get("held", 0))
            self.refused[name] += int(reply.payload.get("refused", 0))
        elif send.kind == "escalation" and reply.payload.get("state") == "pending_return":
            self.held[name] += 1

    def record_unreachable(self, send: Send) -> None:
        self.sent[label(send)] += 1
        self.unreachable += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "sent": dict(self.sent),
            "accepted": dict(self.accepted),
            "redeliveries": dict(self.redeliveries),
            "events_accepted": dict(self.events_accepted),
            "duplicates": dict(self.duplicates),
            "expected_new_events": dict(self.expected_new),
            "rejected": dict(self.rejected),
            "held": dict(+self.held),
            "refused": dict(+self.refused),
            "unreachable": self.unreachable,
        }
