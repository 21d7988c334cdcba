"""Traffic: the requests of one return's journey, and one step of open-loop load."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.e2e.mix import (
    ESCALATION_AFTER_DELIVERY_S,
    PlannedJourney,
    ProductionShape,
    describe,
    plan_step,
)
from bench.e2e.settings import (
    GOAL_ESCALATIONS_PER_S,
    GOAL_PARTNER_EVENTS_PER_S,
    JOURNEY,
    SCAN_AGES,
    Settings,
)
from bench.e2e.watchers import Observations

# ---------------------------------------------------------------------------------------------
# Traffic: the requests of one return's journey
# ---------------------------------------------------------------------------------------------


@dataclass
class Journey:
    return_id: str
    partner_format: str
    partner_id: str
    seller_id: str
    item_value: int
    weight_g: int
    hub: str
    agent: str
    escalate: bool
    step: int
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


class Traffic:
    """Builds requests at the moment they are sent, so signatures and scan times are fresh."""

    def __init__(self, secrets: dict[str, str], settings: Settings, run_tag: str) -> None:
        from disputedesk.simulate.partners import SIGNERS

        self.secrets = secrets
        self.settings = settings
        self.tag = run_tag
        self.rng = random.Random(settings.seed)
        self.formats = sorted(SIGNERS)
        self.counter = 0
        self.batch_counter = 0
        self.feed_auth = {"Authorization": f"Bearer {secrets['DISPUTEDESK_KEY_MARKETPLACE']}"}
        self.agent_auth = {"Authorization": f"Bearer {secrets['DISPUTEDESK_KEY_OPS_AGENT']}"}

    @staticmethod
    def partner_id(fmt: str) -> str:
        # The development partners are registered under their format's name (seed-partners).
        return fmt

    def journey(self, *, escalate: bool, step: int) -> Journey:
        self.counter += 1
        fmt = self.formats[self.counter % len(self.formats)]
        hub = self.rng.randrange(12)
        return Journey(
            return_id=f"RET-E2E{self.tag}-{self.counter:07d}",
            partner_format=fmt,
            partner_id=self.partner_id(fmt),
            seller_id=f"S-E2E-{self.rng.randrange(self.settings.sellers):05d}",
            # ₹300–₹9,000: below every approval cap, so decisions settle without a manager.
            item_value=self.rng.randrange(30_000, 900_000),
            weight_g=self.rng.randrange(200, 2500),
            hub=f"H-E2E-{hub:02d}",
            agent=f"AG-E2E-{hub:02d}{self.rng.randrange(4):02d}",
            escalate=escalate,
            step=step,
        )

    def feed_request(self, j: Journey) -> tuple[str, dict[str, str], bytes]:
        body = {
            "return_id": j.return_id,
            "order_id": f"ORD-{j.return_id}",
            "seller_id": j.seller_id,
            "buyer_id": f"B-{j.return_id}",
            "category": "home",
            "item_value": j.item_value,
            "qc_required": False,
            "partner_id": j.partner_id,
            "awb": f"AWB-{j.return_id}",
            "initiated_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
        }
        headers = {**self.feed_auth, "content-type": "application/json"}
        return "/v1/returns", headers, json.dumps(body).encode()

    @staticmethod
    def _scan(j: Journey, index: int) -> dict[str, Any]:
        kind = JOURNEY[index]
        return {
            "type": kind,
            "awb": f"AWB-{j.return_id}",
            "return_id": j.return_id,
            "at": j.created - SCAN_AGES[index],
            "hub": j.hub,
            "agent": j.agent,
            "images": [],
            "otp_verified": kind == "DELIVERED_TO_SELLER",
            "weight_g": None if kind == "IN_TRANSIT" else j.weight_g,
            "qc": False,
        }

    def partner_request(
        self, journeys: Sequence[Journey], scans: Sequence[tuple[int, int]], form: str
    ) -> tuple[str, dict[str, str], bytes]:
        """One partner request carrying `scans` ((journey, scan index) pairs, all of one
        partner's journeys), in that partner's format: a single event, a rapidroute batch or
        a desipost snapshot of one shipment's history so far."""
        from disputedesk.simulate.partners import (
            PartnerMessage,
            desipost_body,
            rapidroute_body,
            signed_request,
            swiftship_body,
        )

        first = journeys[scans[0][0]]
        last_index = scans[-1][1]
        message_id = f"msg_{first.return_id}_{last_index}"
        if first.partner_format == "desipost":
            body = desipost_body([self._scan(journeys[i], k) for i, k in scans])
        elif first.partner_format == "rapidroute":
            if form == "batch":
                self.batch_counter += 1
                message_id = f"batch_{self.tag}_{self.batch_counter:06d}"
            body = rapidroute_body(
                [(f"msg_{journeys[i].return_id}_{k}", self._scan(journeys[i], k)) for i, k in scans]
            )
        else:
            body = swiftship_body(self._scan(first, last_index))
        message = PartnerMessage(first.partner_id, first.partner_format, message_id, body)
        return signed_request(message, self.secrets, int(time.time()))

    def escalation_request(self, j: Journey) -> tuple[str, dict[str, str], bytes]:
        rng = self.rng
        captured = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
        evidence = [
            {
                "kind": "UNBOXING_VIDEO",
                "uri": f"https://evidence.example/{uuid.uuid4().hex}.mp4",
                "sha256": uuid.uuid4().hex + uuid.uuid4().hex,
                "captured_at": captured,
            },
            *(
                {
                    "kind": "PHOTO",
                    "uri": f"https://evidence.example/{uuid.uuid4().hex}.jpg",
                    "sha256": uuid.uuid4().hex + uuid.uuid4().hex,
                    "perceptual_hash": f"{rng.getrandbits(64):016x}",
                    "captured_at": captured,
                }
                for _ in range(2)
            ),
        ]
        claim = rng.choice(("DAMAGED", "WRONG_ITEM", "USED_ITEM"))
        body = {
            "return_id": j.return_id,
            "seller_id": j.seller_id,
            "claim_type": claim,
            "claimed_amount": j.item_value,
            "description": f"{claim.replace('_', ' ').lower()} on return {j.return_id}",
            "evidence": evidence,
            "channel": "EMAIL",
            "seller_email": f"{j.seller_id.lower()}@sellers.example.com",
        }
        headers = {
            **self.agent_auth,
            "content-type": "application/json",
            "Idempotency-Key": f"e2e-{j.return_id}",
        }
        return "/v1/escalations", headers, json.dumps(body).encode()


# ---------------------------------------------------------------------------------------------
# Load: one step, open loop
# ---------------------------------------------------------------------------------------------


class ClientPool:
    """Several small httpx clients used in turn, each entered through a semaphore as wide as
    its connection pool. httpx matches queued requests to connections by scanning every
    pending request on each change, so a pool with thousands waiting (an open loop ahead of
    the system) spends the load generator's CPU there and stops sending; waiting on a
    semaphore instead costs nothing. The wait still counts in every latency, which is taken
    from the request's scheduled send time. With several intake replicas (`base_urls`), the
    clients are spread over them, so requests take each replica in turn."""

    def __init__(
        self, base_urls: str | Sequence[str], *, clients: int = 16, connections: int = 16
    ) -> None:
        import httpx

        urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)

        # Idle connections are dropped before uvicorn's 5 s keep-alive would close them under
        # a request in flight (a client-side artefact, not the service's answer).
        limits = httpx.Limits(
            max_connections=connections,
            max_keepalive_connections=connections,
            keepalive_expiry=3.0,
        )
        self.clients = [
            (
                httpx.AsyncClient(base_url=urls[i % len(urls)], limits=limits, timeout=30),
                asyncio.Semaphore(connections),
            )
            for i in range(clients)
        ]
        self._next = 0

    async def __aenter__(self) -> ClientPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(c.aclose() for c, _ in self.clients))

    async def post(self, path: str, *, content: bytes, headers: dict[str, str]) -> Any:
        self._next = (self._next + 1) % len(self.clients)
        client, gate = self.clients[self._next]
        async with gate:
            return await client.post(path, content=content, headers=headers)


async def _send(
    client: Any,
    obs: Observations,
    kind: str,
    step: int,
    due: float,
    request: tuple[str, dict[str, str], bytes],
    on_accepted: Callable[[float, Any], None],
) -> None:
    path, headers, body = request
    obs.offered[(kind, step)] += 1
    try:
        response = await client.post(path, content=body, headers=headers)
    except Exception as exc:
        obs.errors[f"{kind}: {type(exc).__name__}"] += 1
        return
    now = time.time()
    if response.status_code in (201, 202):
        obs.accepted[(kind, step)] += 1
        obs.http_latency[(kind, step)].append(now - due)
        on_accepted(now, response)
    else:
        obs.errors[f"{kind}: HTTP {response.status_code}"] += 1


@dataclass(frozen=True)
class StepRun:
    """A step as sent: its wall-clock window and what its plan offered (`mix.describe`)."""

    began: float
    ended: float
    plan: dict[str, Any]

    @property
    def window(self) -> tuple[float, float]:
        return self.began, self.ended


async def run_step(
    client: Any,
    traffic: Traffic,
    obs: Observations,
    *,
    step: int,
    multiplier: float,
    seconds: float,
    mix: str = "even",
    shape: ProductionShape | None = None,
) -> StepRun:
    """Offer the step's load: returns at R/s, each with its three scans and, for E/R of them,
    an escalation, the partner requests shaped by `mix` (`bench.e2e.mix`). Every request is
    sent at its scheduled time whatever the earlier ones are doing (open loop)."""
    partner_rate = GOAL_PARTNER_EVENTS_PER_S * multiplier
    returns_rate = partner_rate / len(JOURNEY)
    escalate_share = GOAL_ESCALATIONS_PER_S / (GOAL_PARTNER_EVENTS_PER_S / len(JOURNEY))
    journeys: list[Journey] = []
    owed = 0.0
    for _ in range(int(returns_rate * seconds)):
        owed += escalate_share
        escalate = owed >= 1.0
        owed -= 1.0 if escalate else 0.0
        journeys.append(traffic.journey(escalate=escalate, step=step))
    plan = plan_step(
        [
            PlannedJourney(i / returns_rate, j.partner_format, j.escalate)
            for i, j in enumerate(journeys)
        ],
        mix=mix,
        shape=shape or ProductionShape.for_step(seconds),
        rng=traffic.rng,
    )
    tasks: set[asyncio.Task[None]] = set()
    # A seller escalates once the desk knows the parcel arrived: after the request carrying
    # the delivery was accepted (not merely sent: on a starved machine intake may answer the
    # small escalation before the batch or snapshot sent earlier, and the case would then wait
    # for its delivery, which is the generator's ordering, not the pipeline's latency).
    delivered: dict[str, asyncio.Event] = {j.return_id: asyncio.Event() for j in journeys}
    began_wall, began = time.time(), time.monotonic()
    for send in plan:
        delay = began + send.at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        due = began_wall + send.at
        j = journeys[send.journey]
        if send.kind == "return":
            coro = _send(client, obs, "return", step, due, traffic.feed_request(j), _ignore)
        elif send.kind == "scan":
            keys = [(journeys[i].return_id, JOURNEY[k]) for i, k in send.scans]

            def scan_ok(at: float, _r: Any, keys: list[tuple[str, str]] = keys) -> None:
                # A snapshot repeats earlier scans: each counts from its first acceptance.
                for key in keys:
                    obs.scan_accepted.setdefault(key, (at, step))
                    if key[1] == JOURNEY[-1]:
                        delivered[key[0]].set()

            request = traffic.partner_request(journeys, send.scans, send.form)
            coro = _send(client, obs, "scan", step, due, request, scan_ok)
        else:
            rid = j.return_id

            def escalation_ok(at: float, _r: Any, rid: str = rid) -> None:
                obs.escalation_accepted[rid] = (at, step)

            coro = _escalate(
                client, traffic, obs, step, j, delivered[rid], (rid, JOURNEY[-1]), escalation_ok
            )
        task = asyncio.create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        # Requests still unanswered 30 s after the last was due are given up (counted as
        # errors): a step must end even when the system under test has stalled.
        _, stragglers = await asyncio.wait(set(tasks), timeout=30)
        for task in stragglers:
            task.cancel()
        obs.errors["given up at the end of the step"] += len(stragglers)
        await asyncio.gather(*stragglers, return_exceptions=True)
    return StepRun(began_wall, time.time(), {"mix": mix, **describe(plan)})


async def _escalate(
    client: Any,
    traffic: Traffic,
    obs: Observations,
    step: int,
    j: Journey,
    delivered: asyncio.Event,
    delivery_key: tuple[str, str],
    on_accepted: Callable[[float, Any], None],
) -> None:
    """The escalation, ESCALATION_AFTER_DELIVERY_S after the delivery was accepted (or at its
    planned time, when that is later); none when the delivery never was."""
    try:
        await asyncio.wait_for(delivered.wait(), timeout=60)
    except TimeoutError:
        obs.errors["escalation not sent: its delivery was not accepted"] += 1
        return
    wait = obs.scan_accepted[delivery_key][0] + ESCALATION_AFTER_DELIVERY_S - time.time()
    if wait > 0:
        await asyncio.sleep(wait)
    await _send(
        client, obs, "escalation", step, time.time(), traffic.escalation_request(j), on_accepted
    )


def _ignore(_at: float, _response: Any) -> None:
    return None
