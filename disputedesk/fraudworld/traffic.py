"""The world as requests to intake's public API, in world-time order.

Each partner speaks its own format and signs as it signs (docs/partners.md): swiftship one
Standard Webhooks request per scan, rapidroute signed batches of every scan of a six-hour window,
desipost the whole tracking history so far (once after pickup, again at the end, so the earlier
scans come twice and must be deduplicated). The marketplace feeds each return before its scans;
each seller files its claims with its own seller-portal key, some evidence arriving a day later.

The scans carry the world's times; a request is signed with the wall clock (partners sign when
they send). Intake stamps an escalation's `filed_at` with its own clock, so a claim lands at the
wall time it is sent: the world is replayed in order, in minutes, not in 35 days.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from disputedesk.fraudworld.world import Claim, Return, Scan, World

IST = timezone(timedelta(hours=5, minutes=30))
WINDOW = timedelta(hours=6)
CONCURRENCY = 12

SWIFTSHIP_EVENT = {
    "PICKUP_SCHEDULED": "return.pickup_scheduled",
    "PICKUP_FAILED": "return.pickup_failed",
    "PICKED_UP": "return.picked_up",
    "QC_PASSED": "return.qc_passed",
    "QC_FAILED": "return.qc_failed",
    "IN_TRANSIT": "return.in_transit",
    "AT_HUB": "return.at_hub",
    "OUT_FOR_DELIVERY": "return.out_for_delivery",
    "DELIVERED_TO_SELLER": "return.delivered",
    "LOST": "return.lost",
    "DAMAGED_IN_TRANSIT": "return.damaged",
}
RAPIDROUTE_CODE = {
    "PICKUP_SCHEDULED": "RPS",
    "PICKUP_FAILED": "RPF",
    "PICKED_UP": "RPU",
    "QC_PASSED": "RQP",
    "QC_FAILED": "RQF",
    "IN_TRANSIT": "RIT",
    "AT_HUB": "RAH",
    "OUT_FOR_DELIVERY": "ROD",
    "DELIVERED_TO_SELLER": "RDL",
    "LOST": "RLS",
    "DAMAGED_IN_TRANSIT": "RDM",
}
DESIPOST_STATUS = {
    "PICKUP_SCHEDULED": "PICKUP SCHEDULED",
    "PICKUP_FAILED": "PICKUP EXCEPTION",
    "PICKED_UP": "PICKED UP",
    "QC_PASSED": "QC PASSED",
    "QC_FAILED": "QC FAILED",
    "IN_TRANSIT": "IN TRANSIT",
    "AT_HUB": "REACHED AT DESTINATION HUB",
    "OUT_FOR_DELIVERY": "OUT FOR DELIVERY",
    "DELIVERED_TO_SELLER": "DELIVERED",
    "LOST": "LOST",
    "DAMAGED_IN_TRANSIT": "DAMAGED",
}


@dataclass(frozen=True)
class Keys:
    marketplace: str
    swiftship_secret: str
    rapidroute_secret: str
    desipost_key: str
    seller_keys: dict[str, str]


def _body(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def sign_swiftship(secret: str, msg_id: str, ts: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def sign_rapidroute(secret: str, ts: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def _image(ret: Return, scan: Scan) -> list[str]:
    if scan.kind in ("QC_PASSED", "QC_FAILED", "PICKED_UP"):
        return [f"https://img.{ret.partner}.example/{ret.awb}/{scan.kind.lower()}.jpg"]
    return []


def swiftship_scan(ret: Return, scan: Scan, index: int) -> tuple[str, bytes]:
    body: dict[str, Any] = {
        "event": SWIFTSHIP_EVENT[scan.kind],
        "awb": ret.awb,
        "return_ref": ret.return_id,
        "at": scan.at.astimezone(IST).isoformat(timespec="seconds"),
        "hub": scan.hub,
        "photos": _image(ret, scan),
    }
    if scan.agent:
        body["agent"] = scan.agent
    if scan.weight_g is not None:
        body["weight_kg"] = round(scan.weight_g / 1000, 3)
    if scan.kind == "DELIVERED_TO_SELLER":
        body["otp_verified"] = bool(scan.pod_otp)
    if scan.qc_failure_reason:
        body["qc_failure_reason"] = scan.qc_failure_reason
    return f"msg_{ret.return_id}_{index}", _body(body)


def rapidroute_event(ret: Return, scan: Scan, index: int) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": f"rr_{ret.return_id}_{index}",
        "shipment": {"awb": ret.awb, "ref": ret.return_id},
        "status_code": RAPIDROUTE_CODE[scan.kind],
        "ts": int(scan.at.timestamp() * 1000),
        "location": {"hub": scan.hub, "city": scan.hub.split("-")[1]},
        "images": _image(ret, scan),
    }
    if scan.agent:
        event["agent"] = scan.agent
    if scan.weight_g is not None:
        event["weight_g"] = scan.weight_g
    if scan.kind == "DELIVERED_TO_SELLER":
        event["pod"] = {"method": "OTP" if scan.pod_otp else "SIGNATURE", "verified": True}
    if scan.qc_failure_reason:
        event["qc_failure_reason"] = scan.qc_failure_reason
    return event


def _desipost_weight(grams: int, index: int) -> str:
    # Both of the partner's spellings: kilograms with a decimal point, or grams.
    return f"{grams / 1000:.3f} kg" if index % 2 else f"{grams} g"


def desipost_snapshot(ret: Return, upto: int) -> bytes:
    """The whole tracking history up to scan `upto` (inclusive)."""
    scans = ret.scans[: upto + 1]
    out = []
    for i, scan in enumerate(scans):
        item: dict[str, Any] = {
            "status": DESIPOST_STATUS[scan.kind],
            "date": scan.at.astimezone(IST).strftime("%d-%m-%Y %H:%M:%S"),
            "location": scan.hub,
        }
        if scan.weight_g is not None:
            item["weight"] = _desipost_weight(scan.weight_g, i)
        out.append(item)
    body: dict[str, Any] = {
        "awb": ret.awb,
        "order_ref": ret.return_id,
        "is_return": True,
        "current_status": out[-1]["status"],
        "scans": out,
    }
    weights = [s.weight_g for s in scans if s.weight_g is not None]
    if weights:
        body["weight"] = _desipost_weight(weights[-1], 0)
    qc = next((s for s in scans if s.kind in ("QC_PASSED", "QC_FAILED")), None)
    body["qc"] = (
        {
            "status": "PASSED" if qc.kind == "QC_PASSED" else "FAILED",
            "failure_reason": qc.qc_failure_reason,
            "image": f"https://img.desipost.example/qc/{ret.awb}.jpg",
        }
        if qc is not None
        else {"status": "NOT_REQUIRED", "failure_reason": None, "image": None}
    )
    delivered = next((s for s in scans if s.kind == "DELIVERED_TO_SELLER"), None)
    body["pod"] = {
        "status": None
        if delivered is None
        else ("OTP Based Delivery" if delivered.pod_otp else "Signature")
    }
    return _body(body)


@dataclass
class Step:
    """One request at a world time: what `send` needs to make it."""

    at: datetime
    order: int  # within a window: feed (0) before scans (1) before claims (2) before evidence (3)
    kind: str
    ret: Return
    data: Any = None


def plan(world: World) -> list[Step]:
    steps: list[Step] = []
    rng = random.Random(f"fraudworld-traffic/{world.seed}")
    for ret in world.returns:
        steps.append(Step(ret.initiated_at, 0, "return", ret))
        if ret.partner == "swiftship":
            steps += [Step(s.at, 1, "swiftship", ret, i) for i, s in enumerate(ret.scans)]
        elif ret.partner == "rapidroute":
            steps += [Step(s.at, 1, "rapidroute", ret, i) for i, s in enumerate(ret.scans)]
        else:
            # A snapshot once the parcel is on its way, and the whole history at the end.
            moving = next(
                (i for i, s in enumerate(ret.scans) if s.kind == "IN_TRANSIT"), len(ret.scans) - 1
            )
            steps.append(Step(ret.scans[moving].at, 1, "desipost", ret, moving))
            if moving != len(ret.scans) - 1:
                steps.append(Step(ret.scans[-1].at, 1, "desipost", ret, len(ret.scans) - 1))
        claim = ret.claim
        if claim is not None:
            later: list[Any] = []
            if len(claim.evidence) > 1 and rng.random() < 0.3:
                later = [claim.evidence[-1]]
            steps.append(Step(claim.filed_at, 2, "claim", ret, later))
            if later:
                steps.append(Step(claim.filed_at + timedelta(days=1), 3, "evidence", ret, later))
    steps.sort(key=lambda s: (s.at, s.order))
    return steps


@dataclass
class Sent:
    """What the replay did, for the report and the scorer."""

    requests: Counter[str] = field(default_factory=Counter)
    refused: list[dict[str, Any]] = field(default_factory=list)
    retries: int = 0
    escalations: dict[str, str] = field(default_factory=dict)  # return_id -> escalation_id
    # (wall clock, world time reached): turns an alert's raised_at into world time
    checkpoints: list[tuple[float, str]] = field(default_factory=list)
    world_reached: datetime | None = None


class Replayer:
    def __init__(
        self,
        world: World,
        http: httpx.AsyncClient,
        keys: Keys,
        *,
        say: Callable[[str], None] = print,
        progress_every_s: float = 15.0,
    ) -> None:
        self.world = world
        self.http = http
        self.keys = keys
        self.say = say
        self.progress_every_s = progress_every_s
        self.sent = Sent()
        self.gate = asyncio.Semaphore(CONCURRENCY)

    async def _post(
        self,
        label: str,
        url: str,
        body: bytes,
        headers: dict[str, str],
        resign: Callable[[], dict[str, str]] | None = None,
    ) -> dict[str, Any] | None:
        """POST until intake answers for good: retry 429, 409, 5xx and network errors."""
        delay = 0.2
        for _ in range(40):
            if resign is not None:
                headers = {**headers, **resign()}
            try:
                async with self.gate:
                    response = await self.http.post(
                        url, content=body, headers={"content-type": "application/json", **headers}
                    )
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code < 300:
                self.sent.requests[label] += 1
                answer: dict[str, Any] = response.json() if response.content else {}
                return answer
            if (
                response is not None
                and response.status_code not in (409, 429)
                and (response.status_code < 500)
            ):
                self.sent.refused.append(
                    {
                        "label": label,
                        "url": url,
                        "status": response.status_code,
                        "problem": response.text[:500],
                    }
                )
                return None
            self.sent.retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        self.sent.refused.append({"label": label, "url": url, "status": "gave up"})
        return None

    # -- one request per kind ----------------------------------------------------------------

    async def send_return(self, ret: Return) -> None:
        body = _body(
            {
                "return_id": ret.return_id,
                "order_id": ret.order_id,
                "seller_id": ret.seller,
                "buyer_id": ret.buyer,
                "category": ret.category,
                "item_value": ret.value,
                "qc_required": ret.qc_required,
                "partner_id": ret.partner,
                "awb": ret.awb,
                "initiated_at": ret.initiated_at.isoformat(),
                "buyer_contact_hash": ret.buyer_contact_hash,
                "buyer_address_hash": ret.buyer_address_hash,
            }
        )
        await self._post(
            "returns",
            "/v1/returns",
            body,
            {
                "authorization": f"Bearer {self.keys.marketplace}",
                "idempotency-key": f"fw-return-{ret.return_id}",
            },
        )

    async def send_swiftship(self, ret: Return, index: int) -> None:
        msg_id, body = swiftship_scan(ret, ret.scans[index], index)

        def resign() -> dict[str, str]:
            ts = int(time.time())
            return {
                "webhook-id": msg_id,
                "webhook-timestamp": str(ts),
                "webhook-signature": sign_swiftship(self.keys.swiftship_secret, msg_id, ts, body),
            }

        await self._post("swiftship", "/v1/webhooks/swiftship", body, {}, resign)

    async def send_rapidroute(self, events: list[dict[str, Any]]) -> None:
        for start in range(0, len(events), 500):
            body = _body({"events": events[start : start + 500]})

            def resign(body: bytes = body) -> dict[str, str]:
                return {
                    "rapidroute-signature": sign_rapidroute(
                        self.keys.rapidroute_secret, int(time.time()), body
                    )
                }

            await self._post("rapidroute", "/v1/webhooks/rapidroute", body, {}, resign)

    async def send_desipost(self, ret: Return, upto: int) -> None:
        await self._post(
            "desipost",
            "/v1/webhooks/desipost",
            desipost_snapshot(ret, upto),
            {"x-api-key": self.keys.desipost_key},
        )

    def _evidence(self, items: list[Any]) -> list[dict[str, Any]]:
        out = []
        for e in items:
            item = {
                "kind": e.kind,
                "uri": f"https://evidence.example/{e.sha256[:16]}/{e.kind.lower()}",
                "sha256": e.sha256,
                "captured_at": e.captured_at.isoformat(),
            }
            if e.perceptual_hash:
                item["perceptual_hash"] = e.perceptual_hash
            out.append(item)
        return out

    async def send_claim(self, ret: Return, claim: Claim, later: list[Any]) -> None:
        body = _body(
            {
                "return_id": ret.return_id,
                "seller_id": ret.seller,
                "claim_type": claim.claim_type,
                "claimed_amount": claim.amount,
                "description": claim.description,
                "evidence": self._evidence([e for e in claim.evidence if e not in later]),
                **(
                    {"received_weight_g": claim.received_weight_g}
                    if claim.received_weight_g is not None
                    else {}
                ),
                "channel": "PORTAL",
                "seller_email": f"{ret.seller.lower()}@sellers.example",
            }
        )
        answer = await self._post(
            "escalations",
            "/v1/escalations",
            body,
            {
                "authorization": f"Bearer {self.keys.seller_keys[ret.seller]}",
                "idempotency-key": f"fw-claim-{ret.return_id}",
            },
        )
        if answer and "escalation_id" in answer:
            self.sent.escalations[ret.return_id] = answer["escalation_id"]

    async def send_evidence(self, ret: Return, items: list[Any]) -> None:
        escalation = self.sent.escalations.get(ret.return_id)
        if escalation is None:
            return
        await self._post(
            "evidence",
            f"/v1/escalations/{escalation}/evidence",
            _body({"evidence": self._evidence(items)}),
            {
                "authorization": f"Bearer {self.keys.seller_keys[ret.seller]}",
                "idempotency-key": f"fw-evidence-{ret.return_id}",
            },
        )

    # -- the replay --------------------------------------------------------------------------

    async def run(self) -> Sent:
        steps = plan(self.world)
        total = len(steps)
        began = time.monotonic()
        last_said = began
        done = 0
        window_start = self.world.start
        i = 0
        while i < total:
            window_end = window_start + WINDOW
            chunk: list[Step] = []
            while i < total and steps[i].at < window_end:
                chunk.append(steps[i])
                i += 1
            for order in (0, 1, 2, 3):
                part = [s for s in chunk if s.order == order]
                if not part:
                    continue
                jobs = []
                batch: list[dict[str, Any]] = []
                for s in part:
                    if s.kind == "return":
                        jobs.append(self.send_return(s.ret))
                    elif s.kind == "swiftship":
                        jobs.append(self.send_swiftship(s.ret, s.data))
                    elif s.kind == "rapidroute":
                        batch.append(rapidroute_event(s.ret, s.ret.scans[s.data], s.data))
                    elif s.kind == "desipost":
                        jobs.append(self.send_desipost(s.ret, s.data))
                    elif s.kind == "claim":
                        assert s.ret.claim is not None
                        jobs.append(self.send_claim(s.ret, s.ret.claim, s.data))
                    elif s.kind == "evidence":
                        jobs.append(self.send_evidence(s.ret, s.data))
                if batch:
                    jobs.append(self.send_rapidroute(batch))
                await asyncio.gather(*jobs)
            done += len(chunk)
            window_start = window_end
            self.sent.world_reached = window_end
            self.sent.checkpoints.append((time.time(), window_end.isoformat()))
            now = time.monotonic()
            if now - last_said >= self.progress_every_s or i >= total:
                last_said = now
                day = (window_end - self.world.start).total_seconds() / 86_400
                self.say(
                    f"replay: world day {day:5.1f}/{(self.world.end - self.world.start).days}, "
                    f"{done}/{total} steps, requests {dict(self.sent.requests)}, "
                    f"retries {self.sent.retries}, refused {len(self.sent.refused)}, "
                    f"{now - began:.0f}s"
                )
            if window_start > self.world.end + timedelta(days=2) and i >= total:
                break
        return self.sent
