"""Drill traffic through intake's public HTTP API, and the drill's own record of what intake
accepted: the marketplace return feed, signed swiftship webhooks and seller escalations, with
deliberate redeliveries and the retries a real client makes when a fault cuts it off.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx

from disputedesk.simulate.signing import swiftship_headers

# Idempotency claims of a request cut off mid-flight are reclaimable after two minutes
# (shared/idempotency.py); a client keeps retrying at least that long.
DEFAULT_GIVE_UP_AFTER_S = 180.0
SWIFTSHIP_SCANS = ("return.picked_up", "return.in_transit", "return.delivered")
DRILL_SELLERS = ("S-DRILL-1", "S-DRILL-2", "S-DRILL-3")


class RequestKind(StrEnum):
    RETURN = "return"
    WEBHOOK = "webhook"
    ESCALATION = "escalation"


@dataclass
class Delivery:
    """One request the drill wants intake to accept, however many times it has to send it.

    `key` is what makes a re-send the same request: the return id, the webhook-id or the
    Idempotency-Key.
    """

    kind: RequestKind
    key: str
    return_id: str
    path: str
    body: bytes
    accepted: int = 0  # 2xx answers received (deliberate redeliveries included)
    unanswered: int = 0  # attempts that may have reached intake but got no 2xx (5xx, cut off)
    sends: int = 0  # every attempt
    answers: list[Any] = field(default_factory=list)  # the 2xx bodies, in order
    rejected: list[str] = field(default_factory=list)  # 4xx that no retry can fix
    gave_up: bool = False
    waited_s: float = 0.0  # from the first send to the first 2xx


@dataclass
class AcceptedLedger:
    """Every request the drill sent and what became of it, keyed per kind by `Delivery.key`."""

    deliveries: dict[RequestKind, dict[str, Delivery]] = field(
        default_factory=lambda: {kind: {} for kind in RequestKind}
    )
    retries: Counter[str] = field(default_factory=Counter)  # by reason
    redeliveries: Counter[str] = field(default_factory=Counter)  # deliberate re-sends by kind
    stories: int = 0

    def add(self, delivery: Delivery) -> Delivery:
        return self.deliveries[delivery.kind].setdefault(delivery.key, delivery)

    def of(self, kind: RequestKind) -> dict[str, Delivery]:
        return self.deliveries[kind]

    def accepted(self, kind: RequestKind) -> list[Delivery]:
        return [d for d in self.deliveries[kind].values() if d.accepted]

    @property
    def return_ids(self) -> list[str]:
        return sorted(self.deliveries[RequestKind.RETURN])

    @property
    def accepted_requests(self) -> int:
        return sum(d.accepted for kind in RequestKind for d in self.deliveries[kind].values())

    @property
    def total_retries(self) -> int:
        return sum(self.retries.values())

    def problems(self) -> list[str]:
        """Requests intake refused for good, or that the drill gave up on."""
        out = []
        for kind in RequestKind:
            for delivery in self.deliveries[kind].values():
                out += [f"{kind} {delivery.key}: {reason}" for reason in delivery.rejected]
                if delivery.gave_up:
                    out.append(f"{kind} {delivery.key}: no 2xx before the client gave up")
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "stories": self.stories,
            "requests": {
                kind.value: {
                    "distinct": len(self.deliveries[kind]),
                    "accepted_distinct": len(self.accepted(kind)),
                    "accepted_answers": sum(d.accepted for d in self.deliveries[kind].values()),
                    "sends": sum(d.sends for d in self.deliveries[kind].values()),
                    # How long the slowest client waited for its first 2xx, retries included.
                    "longest_wait_s": round(
                        max((d.waited_s for d in self.deliveries[kind].values()), default=0.0), 1
                    ),
                }
                for kind in RequestKind
            },
            "client_retries": dict(self.retries),
            "deliberate_redeliveries": dict(self.redeliveries),
            "problems": self.problems(),
        }


@dataclass(frozen=True)
class Credentials:
    marketplace_key: str
    agent_key: str
    swiftship_secret: str

    @classmethod
    def from_env(cls, secrets: Mapping[str, str]) -> Credentials:
        return cls(
            marketplace_key=secrets["DISPUTEDESK_KEY_MARKETPLACE"],
            agent_key=secrets["DISPUTEDESK_KEY_OPS_AGENT"],
            swiftship_secret=secrets["SWIFTSHIP_SECRET"],
        )


class DrillClient:
    """Sends a Delivery until intake answers 2xx, as a well-behaved client does: on a refused
    connection, a cut-off answer, a 5xx, a 409 (same key still in flight) or a 429 it waits and
    re-sends the same request with the same webhook-id or Idempotency-Key."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        credentials: Credentials,
        ledger: AcceptedLedger,
        give_up_after_s: float = DEFAULT_GIVE_UP_AFTER_S,
    ) -> None:
        self.http = http
        self.credentials = credentials
        self.ledger = ledger
        self.give_up_after_s = give_up_after_s

    def _headers(self, delivery: Delivery) -> dict[str, str]:
        if delivery.kind is RequestKind.WEBHOOK:
            # Each attempt is signed afresh (a new timestamp), the webhook-id stays the same.
            return swiftship_headers(
                self.credentials.swiftship_secret, delivery.body, webhook_id=delivery.key
            )
        if delivery.kind is RequestKind.RETURN:
            return {
                "authorization": f"Bearer {self.credentials.marketplace_key}",
                "content-type": "application/json",
            }
        return {
            "authorization": f"Bearer {self.credentials.agent_key}",
            "content-type": "application/json",
            "idempotency-key": delivery.key,
        }

    async def send(self, delivery: Delivery) -> bool:
        """True once intake answered 2xx; False if it refused for good or time ran out."""
        began = time.monotonic()
        deadline = began + self.give_up_after_s
        backoff = 0.2
        while True:
            delivery.sends += 1
            reason: str
            try:
                response = await self.http.post(
                    delivery.path, content=delivery.body, headers=self._headers(delivery)
                )
            except (httpx.ConnectError, httpx.ConnectTimeout):
                reason = "connection refused"  # never reached intake: nothing to reconcile
            except httpx.TransportError as error:
                delivery.unanswered += 1
                reason = f"cut off ({type(error).__name__})"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    if not delivery.accepted:
                        delivery.waited_s = time.monotonic() - began
                    delivery.accepted += 1
                    delivery.answers.append(_json_or_text(response))
                    return True
                if status >= 500:
                    delivery.unanswered += 1
                    reason = f"HTTP {status}"
                elif status in (409, 429):
                    reason = f"HTTP {status}"
                else:
                    delivery.rejected.append(f"HTTP {status}: {response.text[:300]}")
                    return False
            self.ledger.retries[reason] += 1
            if time.monotonic() + backoff > deadline:
                delivery.gave_up = True
                return False
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, 2.0)


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


@dataclass(frozen=True)
class TrafficPlan:
    """How much traffic to drive: stories started per second, at most `concurrency` at once.

    A story is one return's life: the marketplace feeds it, the partner scans it, and for a
    share of returns the seller disputes it.
    """

    stories_per_s: float = 2.0
    concurrency: int = 8
    dispute_share: float = 0.6
    redelivery_share: float = 0.25
    seed: int = 7


class TrafficGenerator:
    """Starts stories at the planned pace until stopped, then lets the started ones finish."""

    def __init__(self, client: DrillClient, *, plan: TrafficPlan, run_id: str) -> None:
        self.client = client
        self.plan = plan
        self.run_id = run_id
        self.ledger = client.ledger
        self.random = random.Random(plan.seed)
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        slots = asyncio.Semaphore(self.plan.concurrency)
        interval = 1.0 / self.plan.stories_per_s
        number = 0
        while not self._stop.is_set():
            await slots.acquire()
            if self._stop.is_set():
                slots.release()
                break
            number += 1
            task = asyncio.create_task(self._story(number, slots), name=f"story-{number}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            try:
                await asyncio.wait_for(self._stop.wait(), interval)
            except TimeoutError:
                pass
        try:
            if self._tasks:
                await asyncio.gather(*self._tasks)
        finally:
            # Cancelled (the drill itself failed): stop the stories too, not just the pacing.
            for task in self._tasks:
                task.cancel()

    async def _story(self, number: int, slots: asyncio.Semaphore) -> None:
        try:
            await self.story(number)
        finally:
            slots.release()

    async def story(self, number: int) -> None:
        rng = self.random
        return_id = f"DRL-{self.run_id}-{number:05d}"
        seller_id = DRILL_SELLERS[number % len(DRILL_SELLERS)]
        awb = f"SS{self.run_id}{number:05d}"
        self.ledger.stories += 1
        now = datetime.now(UTC)
        feed = self.ledger.add(
            Delivery(
                RequestKind.RETURN,
                return_id,
                return_id,
                "/v1/returns",
                _encode(_return_body(return_id, seller_id=seller_id, awb=awb, now=now)),
            )
        )
        if not await self.client.send(feed):
            return
        for status in SWIFTSHIP_SCANS:
            webhook_id = f"msg_{uuid.uuid4().hex}"
            scan = self.ledger.add(
                Delivery(
                    RequestKind.WEBHOOK,
                    webhook_id,
                    return_id,
                    "/v1/webhooks/swiftship",
                    _encode(_swiftship_body(return_id, awb=awb, status=status)),
                )
            )
            if await self.client.send(scan) and rng.random() < self.plan.redelivery_share:
                # The partner did not see our 202 and sends the same webhook again.
                self.ledger.redeliveries["webhook"] += 1
                await self.client.send(scan)
        if rng.random() >= self.plan.dispute_share:
            return
        escalation = self.ledger.add(
            Delivery(
                RequestKind.ESCALATION,
                f"drill-{self.run_id}-{number:05d}",
                return_id,
                "/v1/escalations",
                _encode(_escalation_body(return_id, seller_id=seller_id, number=number)),
            )
        )
        if await self.client.send(escalation) and rng.random() < self.plan.redelivery_share:
            # The seller portal retries its submit with the same Idempotency-Key.
            self.ledger.redeliveries["escalation"] += 1
            await self.client.send(escalation)

    async def replay(self, share: float) -> int:
        """Re-send a sample of already accepted webhooks, as a partner replaying a day does."""
        accepted = self.ledger.accepted(RequestKind.WEBHOOK)
        sample = (
            self.random.sample(accepted, max(1, round(len(accepted) * share))) if accepted else []
        )
        self.ledger.redeliveries["replay"] += len(sample)
        slots = asyncio.Semaphore(self.plan.concurrency)

        async def resend(delivery: Delivery) -> None:
            async with slots:
                await self.client.send(delivery)

        await asyncio.gather(*(resend(d) for d in sample))
        return len(sample)


def _encode(body: dict[str, Any]) -> bytes:
    # Encoded once: every re-send carries byte-identical bodies, as the Idempotency-Key demands.
    return json.dumps(body, separators=(",", ":")).encode()


def _return_body(return_id: str, *, seller_id: str, awb: str, now: datetime) -> dict[str, Any]:
    return {
        "return_id": return_id,
        "order_id": f"ORD-{return_id}",
        "seller_id": seller_id,
        "buyer_id": f"B-{return_id}",
        "category": "electronics",
        "item_value": 249_900,
        "qc_required": True,
        "partner_id": "swiftship",
        "awb": awb,
        "initiated_at": (now - timedelta(days=3)).isoformat(),
    }


def _swiftship_body(return_id: str, *, awb: str, status: str) -> dict[str, Any]:
    return {
        "event": status,
        "awb": awb,
        "return_ref": return_id,
        "at": datetime.now(UTC).isoformat(),
        "hub": "BLR-HSR-01",
        "agent": "AG-7781",
        "weight_kg": 0.452,
        "photos": [],
        "otp_verified": status == "return.delivered",
    }


def _escalation_body(return_id: str, *, seller_id: str, number: int) -> dict[str, Any]:
    return {
        "return_id": return_id,
        "seller_id": seller_id,
        "claim_type": "DAMAGED",
        "claimed_amount": 249_900,
        "description": "The phone came back with a cracked screen.",
        "evidence": [
            {
                "kind": "UNBOXING_VIDEO",
                "uri": f"https://evidence.example/drill/{return_id}.mp4",
                "sha256": uuid.uuid5(uuid.NAMESPACE_URL, return_id).hex * 2,
                "captured_at": datetime.now(UTC).isoformat(),
            }
        ],
        # Filed by an ops agent on the seller's behalf, after the seller wrote in.
        "channel": "EMAIL",
        "seller_email": f"seller.{number}@drill.example",
    }
