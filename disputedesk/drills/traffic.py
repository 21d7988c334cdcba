"""Drill traffic through the public HTTP APIs, and the drill's own record of what was
accepted: the marketplace return feed, signed swiftship webhooks, seller escalations, evidence
and appeals through intake, and the desk's approvals and appeal decisions through
reconciliation, with deliberate redeliveries and the retries a real client makes when a fault
cuts it off. Each return follows a complete story (`stories.py`) to a decision.
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
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import httpx

from disputedesk.credentials import portal_client
from disputedesk.drills.stories import StoryScript, script_story, swiftship_body
from disputedesk.simulate.signing import swiftship_headers

if TYPE_CHECKING:
    from disputedesk.drills.desk import CaseFollowUp

# Idempotency claims of a request cut off mid-flight are reclaimable after two minutes
# (shared/idempotency.py); a client keeps retrying at least that long.
DEFAULT_GIVE_UP_AFTER_S = 180.0
# Six sellers, each with a portal key of its own: few enough to be regulars, enough that none
# files an implausible share of the claims.
DRILL_SELLERS = tuple(f"S-DRILL-{n}" for n in range(1, 7))


class RequestKind(StrEnum):
    RETURN = "return"
    WEBHOOK = "webhook"
    ESCALATION = "escalation"
    EVIDENCE = "evidence"
    APPEAL = "appeal"
    # The desk, through reconciliation's API.
    DESK_DECISION = "desk decision"
    APPROVAL = "approval"
    APPEAL_DECISION = "appeal decision"

    @property
    def service(self) -> str:
        return "reconciliation" if self in DESK_KINDS else "intake"


DESK_KINDS = frozenset(
    {RequestKind.DESK_DECISION, RequestKind.APPROVAL, RequestKind.APPEAL_DECISION}
)
# Each accepted request of these kinds is one fact intake publishes.
INTAKE_KINDS = tuple(kind for kind in RequestKind if kind not in DESK_KINDS)


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
    client: str = ""  # whose key authenticates it (see Credentials.key_for)
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
    scripts: dict[str, StoryScript] = field(default_factory=dict)  # by return id
    # What the follow-ups saw and did: cases closed, approvals, appeals...
    desk: Counter[str] = field(default_factory=Counter)
    stuck: list[str] = field(default_factory=list)  # cases that never reached their end

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
        """Requests refused for good, that the drill gave up on, or cases that never ended."""
        out = []
        for kind in RequestKind:
            for delivery in self.deliveries[kind].values():
                out += [f"{kind} {delivery.key}: {reason}" for reason in delivery.rejected]
                if delivery.gave_up:
                    out.append(f"{kind} {delivery.key}: no 2xx before the client gave up")
        return out + self.stuck

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
            "scenarios": dict(Counter(s.scenario.value for s in self.scripts.values())),
            "desk": dict(self.desk),
            "client_retries": dict(self.retries),
            "deliberate_redeliveries": dict(self.redeliveries),
            "problems": self.problems(),
        }


@dataclass(frozen=True)
class Credentials:
    marketplace_key: str
    agent_key: str
    swiftship_secret: str
    # Four eyes: one manager approves proposals above the cap, the other decides appeals
    # (never the decider of the decision appealed).
    manager_key: str = ""
    second_manager_key: str = ""
    seller_keys: Mapping[str, str] = field(default_factory=dict)  # seller id -> portal key

    @classmethod
    def from_env(cls, secrets: Mapping[str, str], sellers: tuple[str, ...] = ()) -> Credentials:
        return cls(
            marketplace_key=secrets["DISPUTEDESK_KEY_MARKETPLACE"],
            agent_key=secrets["DISPUTEDESK_KEY_OPS_AGENT"],
            swiftship_secret=secrets["SWIFTSHIP_SECRET"],
            manager_key=secrets.get("DISPUTEDESK_KEY_OPS_MANAGER", ""),
            second_manager_key=secrets.get("DISPUTEDESK_KEY_OPS_MANAGER_2", ""),
            seller_keys={s: secrets[portal_client(s)[0]] for s in sellers},
        )

    def key_for(self, client: str) -> str:
        """`marketplace`, `agent`, `manager`, `second_manager` or `seller:<seller id>`."""
        if client.startswith("seller:"):
            return self.seller_keys[client.removeprefix("seller:")]
        return {
            "marketplace": self.marketplace_key,
            "agent": self.agent_key,
            "manager": self.manager_key,
            "second_manager": self.second_manager_key,
        }[client]


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
        desk: httpx.AsyncClient | None = None,
    ) -> None:
        self.http = http  # intake
        self.desk = desk  # reconciliation
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
            "authorization": f"Bearer {self.credentials.key_for(delivery.client or 'agent')}",
            "content-type": "application/json",
            "idempotency-key": delivery.key,
        }

    def _http_for(self, delivery: Delivery) -> httpx.AsyncClient:
        if delivery.kind.service == "reconciliation":
            if self.desk is None:
                raise RuntimeError("desk requests need the reconciliation client")
            return self.desk
        return self.http

    async def look(self, return_id: str) -> dict[str, Any] | None:
        """The return's case as the desk's queue shows it, or None (no case yet, or no answer:
        a fault may be under way, and the caller looks again)."""
        if self.desk is None:
            return None
        try:
            response = await self.desk.get(
                "/v1/cases",
                params={"return_id": return_id, "limit": 1},
                headers={"authorization": f"Bearer {self.credentials.agent_key}"},
            )
        except httpx.TransportError:
            return None
        if response.status_code != 200:
            return None
        items = response.json().get("items") or []
        return items[0] if items else None

    async def send(self, delivery: Delivery) -> bool:
        """True once intake answered 2xx; False if it refused for good or time ran out."""
        began = time.monotonic()
        deadline = began + self.give_up_after_s
        backoff = 0.2
        while True:
            delivery.sends += 1
            reason: str
            try:
                response = await self._http_for(delivery).post(
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
    """How much traffic to drive: stories started per second, at most `concurrency` sending at
    once (a story's follow-up, waiting for its decision, holds no slot).

    A story is one return's life (`stories.py`): the marketplace feeds it, its partner scans
    it, and depending on the story its seller disputes it, adds evidence, appeals, and the desk
    approves or decides the appeal.
    """

    stories_per_s: float = 2.0
    concurrency: int = 8
    redelivery_share: float = 0.25
    seed: int = 7
    poll_s: float = 1.0  # how often a follow-up looks at its case


class TrafficGenerator:
    """Starts stories at the planned pace until stopped, then lets the started ones finish
    (follow-ups included: each disputed story ends when its case does)."""

    def __init__(
        self,
        client: DrillClient,
        *,
        plan: TrafficPlan,
        run_id: str,
        follow_up: CaseFollowUp | None = None,
    ) -> None:
        self.client = client
        self.plan = plan
        self.run_id = run_id
        self.ledger = client.ledger
        self.random = random.Random(plan.seed)
        self.follow_up = follow_up
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
            script = await self.story(number)
        finally:
            slots.release()
        if script is not None and self.follow_up is not None:
            await self.follow_up.follow(script)

    async def _send(self, delivery: Delivery, *, redeliver_as: str | None = None) -> bool:
        """Send until accepted; then, for a share, send the same request again, as a client
        that never saw the answer does."""
        if not await self.client.send(delivery):
            return False
        if redeliver_as and self.random.random() < self.plan.redelivery_share:
            self.ledger.redeliveries[redeliver_as] += 1
            await self.client.send(delivery)
        return True

    async def story(self, number: int) -> StoryScript | None:
        """Send the story's requests in order; the script when it leads to a case to follow."""
        script = script_story(
            number,
            run_id=self.run_id,
            now=datetime.now(UTC),
            sellers=DRILL_SELLERS,
            rng=self.random,
        )
        return_id = script.return_id
        self.ledger.stories += 1
        self.ledger.scripts[return_id] = script
        feed = self.ledger.add(
            Delivery(
                RequestKind.RETURN,
                return_id,
                return_id,
                "/v1/returns",
                _encode(script.return_body),
                client="marketplace",
            )
        )
        if not await self.client.send(feed):
            return None
        for scan in script.scans:
            webhook_id = f"msg_{uuid.uuid4().hex}"
            delivery = self.ledger.add(
                Delivery(
                    RequestKind.WEBHOOK,
                    webhook_id,
                    return_id,
                    "/v1/webhooks/swiftship",
                    _encode(swiftship_body(script, scan)),
                )
            )
            # The partner did not see our 202 and sends the same webhook again.
            if not await self._send(delivery, redeliver_as="webhook"):
                return None
        if script.escalation is None:
            return script if script.opens_case else None
        escalation = self.ledger.add(
            Delivery(
                RequestKind.ESCALATION,
                f"drill-{self.run_id}-{number:05d}",
                return_id,
                "/v1/escalations",
                _encode(script.escalation),
                # The seller files through the portal; now and then an agent files for them
                # after a call.
                client="agent" if script.filed_by_agent else f"seller:{script.seller_id}",
            )
        )
        # The seller portal retries its submit with the same Idempotency-Key.
        if not await self._send(escalation, redeliver_as="escalation"):
            return None
        return script

    async def send_once(
        self,
        kind: RequestKind,
        *,
        key: str,
        return_id: str,
        path: str,
        body: dict[str, Any],
        client: str,
    ) -> Delivery:
        """A follow-up's request (evidence, appeal, approval, decision), retried until
        accepted, sometimes sent twice on purpose with the same Idempotency-Key."""
        delivery = self.ledger.add(
            Delivery(kind, key, return_id, path, _encode(body), client=client)
        )
        await self._send(delivery, redeliver_as=kind.value)
        return delivery

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
