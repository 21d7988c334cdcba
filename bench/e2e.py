"""End-to-end benchmark: the four services as separate uvicorn processes (as `disputedesk run`
starts them) on fresh, migrated databases, driven open-loop at fixed offered rates.

Traffic per second at the goal step (1×): 200 partner events (pickup, in transit, delivered to
seller, rendered in every partner format `disputedesk.simulate.partners.SIGNERS` speaks) with a
marketplace feed entry per return, and 20 seller escalations with evidence on delivered returns.
Each step offers a multiple of that for a fixed time, then lets the pipeline drain.

Measured per step:
  escalation accepted (HTTP 201) → case decided (CaseDecided/CaseRejected consumed from
  reconciliation.cases.v1) → decision email in the mail sink (its file's arrival stamp),
  with the stages in between (canonical event on intake.returns.v1, fraud assessment, case
  opened, acknowledgement email);
  partner event accepted (HTTP 202) → canonical event on intake.returns.v1;
  backlog (consumer-group lag from Kafka's committed offsets, plus every service's outbox
  backlog) sampled each second: a step is sustained when the backlog does not grow and the
  accepted rate matches the offered one.
Baselines in the same run: raw Kafka round trip, a bare FastAPI endpoint, raw PostgreSQL
commits. Output: a table, bench-results/e2e.json and bench-results/e2e.png.

Run: `make bench` (section e2e), or `python -m bench e2e` against the stack in
$DISPUTEDESK_STATE_DIR. Settings (environment): BENCH_E2E_MULTIPLIERS (default
"0.25,0.5,1,1.5"), BENCH_E2E_STEP_S (25), BENCH_E2E_PORT_BASE (28801: intake, then
reconciliation, fraud, notifications on the next ports), BENCH_E2E_TIMEOUT_S (60).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import resource
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"

GOAL_PARTNER_EVENTS_PER_S = 200.0
GOAL_ESCALATIONS_PER_S = 20.0
GOAL_P95_S = 2.0
GOAL = (
    "sustained 200 partner events/s plus 20 escalations/s with all four services, Kafka and "
    "PostgreSQL on this machine, escalation → decision email p95 ≤ 2 s"
)
# The partner scans of one return, in journey order, as canonical types: the simulator's
# partner-neutral scan, which `disputedesk.simulate.partners` renders in each partner's format.
JOURNEY = ("PICKED_UP", "IN_TRANSIT", "DELIVERED_TO_SELLER")
# How long before the return's creation in the benchmark each scan happened: in the past, in
# journey order, the delivery an hour before the claim. Fixed per return, so desipost's
# cumulative snapshots repeat earlier scans exactly (intake deduplicates them by date).
SCAN_AGES = (timedelta(hours=48), timedelta(hours=24), timedelta(hours=1))
# Offsets (s) from a return's feed entry to each scan, and to its escalation: the escalation
# follows the delivery after a pause, as a seller's would, so it is the case's last fact.
SCAN_OFFSETS_S = (0.5, 1.0, 1.5)
ESCALATION_OFFSET_S = 4.0
SERVICES = ("intake", "reconciliation", "fraud", "notifications")
CONSUMER_GROUPS = ("fraud", "reconciliation", "notifications")
DECIDED_TYPES = {
    "disputedesk.reconciliation.case_decided.v1": "DECIDED",
    "disputedesk.reconciliation.case_rejected.v1": "REJECTED",
    "disputedesk.reconciliation.case_under_review.v1": "UNDER_REVIEW",
    "disputedesk.reconciliation.case_escalated.v1": "ESCALATED",
}


# ---------------------------------------------------------------------------------------------
# Pure figures: percentiles, backlog slope, the sustained verdict
# ---------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0–100), linear between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(latencies_s: Sequence[float], *, missing: int = 0) -> dict[str, Any]:
    """p50/p95/p99/max in milliseconds, how many completed and how many never did."""

    def ms(p: float) -> float | None:
        value = percentile(latencies_s, p)
        return None if value is None else round(value * 1000, 1)

    return {
        "count": len(latencies_s),
        "missing": missing,
        "p50_ms": ms(50),
        "p95_ms": ms(95),
        "p99_ms": ms(99),
        "max_ms": round(max(latencies_s) * 1000, 1) if latencies_s else None,
    }


def slope_per_s(samples: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) samples: how fast a backlog grows."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if spread == 0:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in samples) / spread


@dataclass(frozen=True)
class Verdict:
    sustained: bool
    reasons: list[str]


def sustained_verdict(
    *,
    offered_per_s: float,
    achieved_per_s: float,
    backlog_slope_per_s: float,
    end_backlog: float,
    messages_per_s: float,
    completed_share: float,
    backlog_samples: int = 3,
    rate_tolerance: float = 0.95,
    growth_tolerance: float = 0.05,
    end_backlog_seconds: float = 2.0,
    completed_at_least: float = 0.99,
) -> Verdict:
    """A step is sustained when the requests offered were accepted at the rate offered, the
    pipeline's backlog did not grow (slope within 5 % of the message rate: noise, not a trend),
    it ended the step below two seconds' worth of messages, and (nearly) every escalation
    reached its decision email. Each failed condition is named."""
    reasons = []
    if backlog_samples < 3:
        reasons.append(f"backlog sampled {backlog_samples} times only (machine too busy)")
    if achieved_per_s < rate_tolerance * offered_per_s:
        reasons.append(f"accepted {achieved_per_s:.1f}/s of {offered_per_s:.1f}/s offered")
    if backlog_slope_per_s > growth_tolerance * messages_per_s:
        reasons.append(f"backlog grew {backlog_slope_per_s:.1f} messages/s")
    if end_backlog > end_backlog_seconds * messages_per_s:
        reasons.append(f"backlog {end_backlog:.0f} messages at the end of the step")
    if completed_share < completed_at_least:
        reasons.append(f"only {completed_share:.1%} of escalations reached a decision email")
    return Verdict(not reasons, reasons)


def highest_sustained(steps: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The sustained step with the highest offered rate (steps need not be sustained in order:
    a noisy neighbour may break a lower one)."""
    ok = [s for s in steps if s["sustained"]]
    return max(ok, key=lambda s: s["multiplier"]) if ok else None


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------


def multipliers_from_env(name: str, default: str = "0.25,0.5,1,1.5") -> tuple[float, ...]:
    """The steps' multiples of the goal load, from a comma-separated variable."""
    return tuple(float(m) for m in os.environ.get(name, default).split(",") if m.strip())


@dataclass(frozen=True)
class Settings:
    multipliers: tuple[float, ...] = (0.25, 0.5, 1.0, 1.5)
    step_s: float = 25.0
    port_base: int = 28801
    timeout_s: float = 60.0
    max_drain_s: float = 45.0
    sellers: int = 2000
    seed: int = 7

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            multipliers=multipliers_from_env("BENCH_E2E_MULTIPLIERS"),
            step_s=float(env.get("BENCH_E2E_STEP_S", 25)),
            port_base=int(env.get("BENCH_E2E_PORT_BASE", 28801)),
            timeout_s=float(env.get("BENCH_E2E_TIMEOUT_S", 60)),
            max_drain_s=float(env.get("BENCH_E2E_MAX_DRAIN_S", 45)),
        )

    def ports(self) -> dict[str, int]:
        return {name: self.port_base + i for i, name in enumerate(SERVICES)}


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

    def scan_request(self, j: Journey, index: int) -> tuple[str, dict[str, str], bytes]:
        from disputedesk.simulate.partners import (
            PartnerMessage,
            desipost_body,
            rapidroute_body,
            signed_request,
            swiftship_body,
        )

        message_id = f"msg_{j.return_id}_{index}"
        scan = self._scan(j, index)
        if j.partner_format == "desipost":  # a snapshot of the whole history so far
            body = desipost_body([self._scan(j, i) for i in range(index + 1)])
        elif j.partner_format == "rapidroute":
            body = rapidroute_body([(message_id, scan)])
        else:
            body = swiftship_body(scan)
        message = PartnerMessage(j.partner_id, j.partner_format, message_id, body)
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
# What was sent and what was seen, in wall-clock seconds (time.time(): the mail sink stamps
# arrivals with the same clock)
# ---------------------------------------------------------------------------------------------


@dataclass
class Observations:
    # (kind, step) → offered / accepted counts and HTTP latencies from the scheduled send time
    offered: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    accepted: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    http_latency: dict[tuple[str, int], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # (return_id, canonical type) → (accepted at, step)
    scan_accepted: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)
    scan_canonical: dict[tuple[str, str], float] = field(default_factory=dict)
    # return_id → (accepted at, step) of its escalation
    escalation_accepted: dict[str, tuple[float, int]] = field(default_factory=dict)
    escalation_canonical: dict[str, float] = field(default_factory=dict)
    assessed: dict[str, float] = field(default_factory=dict)
    # return_id → when the escalation event, and its first assessment, were published: the
    # records' own timestamps (set by the producing relay), free of this reader's delays.
    escalation_published: dict[str, float] = field(default_factory=dict)
    assessment_published: dict[str, float] = field(default_factory=dict)
    opened: dict[str, float] = field(default_factory=dict)
    decided: dict[str, tuple[float, float, str]] = field(default_factory=dict)
    ack_email: dict[str, float] = field(default_factory=dict)
    decision_email: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Watchers
# ---------------------------------------------------------------------------------------------


async def watch_topics(bootstrap: str, obs: Observations, stop: asyncio.Event) -> None:
    """Read intake.returns.v1, fraud.assessments.v1 and reconciliation.cases.v1 as a plain
    consumer (no group), noting when each event of ours appears."""
    from aiokafka import AIOKafkaConsumer

    from shared.events import FRAUD_ASSESSMENTS, INTAKE_RETURNS, RECONCILIATION_CASES

    consumer = AIOKafkaConsumer(
        INTAKE_RETURNS.name,
        FRAUD_ASSESSMENTS.name,
        RECONCILIATION_CASES.name,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=2000,
    )
    await consumer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=100, max_records=2000)
            seen = time.time()
            for records in batches.values():
                for record in records:
                    _note_event(
                        obs, record.topic, record.value, seen, published=record.timestamp / 1000
                    )
    finally:
        await consumer.stop()


def _note_event(
    obs: Observations,
    topic: str,
    value: bytes | None,
    seen: float,
    *,
    published: float | None = None,
) -> None:
    if value is None:
        return
    payload = json.loads(value)
    kind = payload.get("type", "")
    rid = payload.get("return_id", "")
    if topic == "intake.returns.v1":
        if kind.endswith("return_shipment_event.v1"):
            obs.scan_canonical.setdefault((rid, payload.get("event_type", "")), seen)
        elif kind.endswith("seller_escalation_filed.v1"):
            obs.escalation_canonical.setdefault(rid, seen)
            if published is not None:
                obs.escalation_published.setdefault(rid, published)
    elif topic == "fraud.assessments.v1":
        if payload.get("escalation_id"):
            obs.assessed.setdefault(rid, seen)
            if published is not None:
                obs.assessment_published.setdefault(rid, published)
    elif kind.endswith("case_opened.v1"):
        obs.opened.setdefault(rid, seen)
    elif kind in DECIDED_TYPES and rid not in obs.decided:
        occurred = datetime.fromisoformat(payload["occurred_at"]).timestamp()
        obs.decided[rid] = (seen, occurred, DECIDED_TYPES[kind])


_SUBJECT = re.compile(rb"^Subject: (.*)$", re.MULTILINE)
_RETURN_ID = re.compile(r"RET-E2E[0-9A-Za-z]+-\d+")
_STAMP = re.compile(r"^(\d{8}T\d{6}\.\d{6})Z")


def classify_email(name: str, head: bytes) -> tuple[str, str, float] | None:
    """(return id, "ack" | "decision", arrival time) of a sink file, from its name's arrival
    stamp and its subject ("[CASE-…] We have your claim about return RET-…" is the
    acknowledgement; a decision's subject names the return too). None for other mail."""
    stamp = _STAMP.match(name)
    subject = _SUBJECT.search(head)
    if not stamp or not subject:
        return None
    text = subject.group(1).decode("ascii", "replace")
    found = _RETURN_ID.search(text)
    if not found:
        return None
    arrived = datetime.strptime(stamp.group(1), "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC)
    kind = "ack" if "We have your claim" in text or "We spotted" in text else "decision"
    return found.group(0), kind, arrived.timestamp()


async def watch_mail(directory: Path, obs: Observations, stop: asyncio.Event) -> None:
    seen: set[str] = set()
    while not stop.is_set():
        try:
            entries = [e.name for e in os.scandir(directory) if e.name.endswith(".eml")]
        except FileNotFoundError:
            entries = []
        for name in entries:
            if name in seen:
                continue
            seen.add(name)
            try:
                with open(directory / name, "rb") as f:  # noqa: ASYNC230 (a 2 KiB read)
                    head = f.read(2048)
            except FileNotFoundError:
                continue
            found = classify_email(name, head)
            if found:
                rid, kind, arrived = found
                (obs.ack_email if kind == "ack" else obs.decision_email).setdefault(rid, arrived)
        await asyncio.sleep(0.1)


@dataclass
class BacklogSample:
    t: float
    consumer_lag: dict[str, int]
    outbox: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.consumer_lag.values()) + sum(self.outbox.values())


class BacklogProbe:
    """Consumer-group lag from Kafka (end offsets minus committed offsets: what a restart
    would re-read) and the outbox backlog each service exports on /metrics."""

    def __init__(
        self,
        bootstrap: str,
        service_urls: dict[str, str],
        groups: Sequence[str] = CONSUMER_GROUPS,
    ) -> None:
        self.bootstrap = bootstrap
        self.service_urls = service_urls
        self.groups = tuple(groups)

    async def start(self) -> None:
        import httpx
        from aiokafka import AIOKafkaConsumer
        from aiokafka.admin import AIOKafkaAdminClient

        self.admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await self.admin.start()
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        await self.consumer.start()
        # Short: a service too busy to answer within a second shows as a gap, and the
        # consumer lag (asked of Kafka, not of the services) is still sampled.
        self.http = httpx.AsyncClient(timeout=1.0)

    async def close(self) -> None:
        await self.http.aclose()
        await self.consumer.stop()
        await self.admin.close()

    async def _group_lag(self, group: str) -> int:
        committed = await self.admin.list_consumer_group_offsets(group)
        partitions = [tp for tp in committed if not tp.topic.endswith(".dlq")]
        if not partitions:
            return 0
        ends = await self.consumer.end_offsets(partitions)
        return sum(max(ends[tp] - max(committed[tp].offset, 0), 0) for tp in partitions)

    async def _outbox(self, url: str) -> float | None:
        try:
            text = (await self.http.get(f"{url}/metrics")).text
        except Exception:
            return None  # a starved service answers late: a gap, not a zero
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("disputedesk_outbox_backlog{")
        )

    async def sample(self) -> BacklogSample:
        # All at once: on a busy machine one slow answer must not stretch the sampling period.
        lags = await asyncio.gather(*(self._group_lag(g) for g in self.groups))
        backlogs = await asyncio.gather(*(self._outbox(u) for u in self.service_urls.values()))
        return BacklogSample(
            time.time(),
            dict(zip(self.groups, lags, strict=True)),
            {n: b for n, b in zip(self.service_urls, backlogs, strict=True) if b is not None},
        )


# ---------------------------------------------------------------------------------------------
# The system under test: fresh databases, topics, credentials, four service processes
# ---------------------------------------------------------------------------------------------


async def _recreate_topics(bootstrap: str) -> None:
    """Fresh topics: earlier bench sections publish on these same topics (notifications, for
    one, pre-loads case events), and their messages must not reach this run's services."""
    from aiokafka.admin import AIOKafkaAdminClient

    from shared.events import TOPICS
    from shared.kafka.admin import ensure_topics

    names = [n for t in TOPICS.values() for n in (t.name, t.dlq)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = [n for n in names if n in set(await admin.list_topics())]
        if existing:
            await admin.delete_topics(existing)
        deadline = time.monotonic() + 30
        while set(await admin.list_topics()) & set(existing):
            if time.monotonic() > deadline:
                raise RuntimeError("Kafka did not delete the old topics")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
    for attempt in range(50):  # deletion is asynchronous on the broker side
        try:
            await ensure_topics(bootstrap, partitions=6)
            return
        except Exception:
            if attempt == 49:
                raise
            await asyncio.sleep(0.2)


async def prepare_system(env: dict[str, str], log: Callable[[str], None]) -> dict[str, Any]:
    from bench.intake import _fresh_database, _prepare_database
    from disputedesk import credentials
    from shared.migrations import upgrade

    server = env.get("BENCH_DATABASE_URL") or env["INTAKE_DATABASE_URL"]
    urls = {}
    for name in SERVICES:
        urls[name] = await _fresh_database(server, f"bench_e2e_{name}")
        await asyncio.to_thread(upgrade, name, urls[name])
    secrets, keyring = credentials.generate()
    # Partners seeded, their per-partner rate limit lifted: the load is the subject here.
    await _prepare_database(urls["intake"], secrets)
    log("databases fresh and migrated, partners seeded")
    await _recreate_topics(env["KAFKA_BOOTSTRAP_SERVERS"])
    log("topics recreated")
    state = Path(os.environ.get("DISPUTEDESK_STATE_DIR") or ROOT / ".state" / "bench") / "e2e"
    state.mkdir(parents=True, exist_ok=True)
    keyring_file = state / "keyring.json"
    keyring_file.write_text(json.dumps(keyring))
    return {"urls": urls, "secrets": secrets, "keyring_file": keyring_file, "state": state}


class Services:
    """Services as `disputedesk run` starts them (uvicorn processes, own process groups, logs
    under <state>/logs), one per entry of `ports`: the four, or one under study alone."""

    def __init__(self, env: dict[str, str], system: dict[str, Any], ports: dict[str, int]) -> None:
        from disputedesk.stack.config import StackSettings, find_repo_root
        from disputedesk.stack.supervisor import (
            ServiceSpec,
            SupervisedService,
            service_environment,
        )

        stack_env = {
            **{k: v for k, v in env.items() if not k.startswith("BENCH_")},
            **{f"{n.upper()}_DATABASE_URL": u for n, u in system["urls"].items()},
        }
        from disputedesk import credentials

        base = {
            **os.environ,
            **credentials.at_rest_environment(os.environ, system["secrets"]),
            "DISPUTEDESK_KEYRING_FILE": str(system["keyring_file"]),
            # As with the partners' limits: the load is the subject, so the feed's and the
            # agent's keys get room above every step (the limiter itself still runs and costs
            # what it costs in production).
            "RATE_LIMIT_OVERRIDES": json.dumps(
                {
                    client: {"per_s": 100_000, "burst": 100_000}
                    for client in ("marketplace", "agent.asha")
                }
            ),
        }
        process_env = service_environment(
            base, stack_env, settings=StackSettings(), repo_root=find_repo_root()
        )
        logs = system["state"] / "logs"
        self.services = [
            SupervisedService(
                spec=ServiceSpec(name, port),
                env=process_env,
                cwd=ROOT,
                log_path=logs / f"{name}.log",
            )
            for name, port in ports.items()
        ]

    @property
    def urls(self) -> dict[str, str]:
        return {s.spec.name: s.spec.base_url for s in self.services}

    def start(self) -> None:
        for service in self.services:
            service.start()

    async def ready(self, timeout: float = 120) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                for s in self.services:
                    if s.exit_code() is not None:
                        raise RuntimeError(f"{s.spec.name} exited; see {s.log_path}")
                if all(s.healthy or s.check_health(client) for s in self.services):
                    return
                await asyncio.sleep(0.5)
        raise RuntimeError("services did not become healthy")

    def stop(self) -> None:
        for service in self.services:
            service.stop()

    def cpu_seconds(self) -> dict[str, float]:
        import psutil

        out = {}
        for s in self.services:
            try:
                times = psutil.Process(s.process.pid).cpu_times() if s.process else None
            except psutil.Error:
                times = None
            out[s.spec.name] = (times.user + times.system) if times else 0.0
        return out


def _stack_processes_cpu() -> dict[str, float]:
    """CPU seconds of this stack's Kafka, PostgreSQL (server and backends) and mail sink,
    found by the state folder in their command lines: the machine runs other stacks too."""
    import psutil

    state = os.environ.get("DISPUTEDESK_STATE_DIR", "")
    out: dict[str, float] = defaultdict(float)
    if not state:
        return {}
    for proc in psutil.process_iter(["cmdline", "name"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
            if state not in cmdline:
                continue
            name = proc.info["name"] or ""
            kind = (
                "kafka"
                if "kafka" in cmdline
                else "postgres"
                if name.startswith("postgres")
                else "mailsink"
                if "mailsink" in cmdline
                else None
            )
            if kind is None:
                continue
            for p in (proc, *proc.children(recursive=True)):
                times = p.cpu_times()
                out[kind] += times.user + times.system
        except psutil.Error:
            continue
    return dict(out)


class CpuMeter:
    """CPU seconds of each component since the meter was made, and the machine's busy cores:
    the services, this stack's Kafka and PostgreSQL, this load generator, everything else."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.started = time.monotonic()
        self.base = self._totals()

    def _totals(self) -> dict[str, float]:
        busy, total = _machine_busy()
        return {
            **self.services.cpu_seconds(),
            **_stack_processes_cpu(),
            "load_generator": _own_cpu(),
            "_machine_busy": busy,
            "_machine_total": total,
        }

    def read(self) -> dict[str, float]:
        """Cores used per component since the start (seconds of CPU per second), plus
        `elapsed_s`, `machine_busy_cores` and `other_processes_cores`."""
        now = self._totals()
        elapsed = max(time.monotonic() - self.started, 1e-9)
        cores = {
            k: (now[k] - self.base.get(k, 0.0)) / elapsed for k in now if not k.startswith("_")
        }
        share = (now["_machine_busy"] - self.base["_machine_busy"]) / max(
            now["_machine_total"] - self.base["_machine_total"], 1e-9
        )
        machine = share * (os.cpu_count() or 1)
        return {
            **cores,
            "elapsed_s": elapsed,
            "machine_busy_cores": machine,
            "other_processes_cores": max(machine - sum(cores.values()), 0.0),
        }


def cpu_ms_per_request(cores: dict[str, float], accepted: int) -> dict[str, float]:
    """From cores used over a period and the requests accepted in it: CPU milliseconds per
    request per component, their sum, and the request rate that sum allows on this machine's
    cores if nothing else ran ("projected_requests_per_s")."""
    if not cores or not accepted:
        return {}
    elapsed = cores["elapsed_s"]
    skip = {"elapsed_s", "machine_busy_cores", "other_processes_cores"}
    per = {k: v * elapsed * 1000 / accepted for k, v in cores.items() if k not in skip}
    ours = sum(v for k, v in per.items() if k != "load_generator")
    out = {k: round(v, 2) for k, v in per.items()}
    out["system_under_test"] = round(ours, 2)
    out["projected_requests_per_s"] = round((os.cpu_count() or 1) * 1000 / ours, 1) if ours else 0
    return out


def _acceptances(obs: Observations, step: int) -> list[tuple[float, int]]:
    return [
        v for v in (*obs.scan_accepted.values(), *obs.escalation_accepted.values()) if v[1] == step
    ]


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _machine_busy() -> tuple[float, float]:
    import psutil

    t = psutil.cpu_times()
    idle = t.idle + getattr(t, "iowait", 0.0)
    return sum(t) - idle, sum(t)


# ---------------------------------------------------------------------------------------------
# Load: one step, open loop
# ---------------------------------------------------------------------------------------------


class ClientPool:
    """Several small httpx clients used in turn, each entered through a semaphore as wide as
    its connection pool. httpx matches queued requests to connections by scanning every
    pending request on each change, so a pool with thousands waiting (an open loop ahead of
    the system) spends the load generator's CPU there and stops sending; waiting on a
    semaphore instead costs nothing. The wait still counts in every latency, which is taken
    from the request's scheduled send time."""

    def __init__(self, base_url: str, *, clients: int = 16, connections: int = 16) -> None:
        import httpx

        # Idle connections are dropped before uvicorn's 5 s keep-alive would close them under
        # a request in flight (a client-side artefact, not the service's answer).
        limits = httpx.Limits(
            max_connections=connections,
            max_keepalive_connections=connections,
            keepalive_expiry=3.0,
        )
        self.clients = [
            (
                httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30),
                asyncio.Semaphore(connections),
            )
            for _ in range(clients)
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


async def run_step(
    client: Any,
    traffic: Traffic,
    obs: Observations,
    *,
    step: int,
    multiplier: float,
    seconds: float,
) -> tuple[float, float]:
    """Offer the step's load: returns at R/s, each with its three scans and, for E/R of them,
    an escalation. Every request is sent at its scheduled time whatever the earlier ones are
    doing (open loop). Returns the step's (start, end) wall times."""
    partner_rate = GOAL_PARTNER_EVENTS_PER_S * multiplier
    returns_rate = partner_rate / len(JOURNEY)
    escalate_share = GOAL_ESCALATIONS_PER_S / (GOAL_PARTNER_EVENTS_PER_S / len(JOURNEY))
    schedule: list[tuple[float, int, str, Journey, int]] = []
    owed = 0.0
    for i in range(int(returns_rate * seconds)):
        owed += escalate_share
        escalate = owed >= 1.0
        owed -= 1.0 if escalate else 0.0
        j = traffic.journey(escalate=escalate, step=step)
        start = i / returns_rate
        schedule.append((start, len(schedule), "return", j, 0))
        for index, offset in enumerate(SCAN_OFFSETS_S):
            schedule.append((start + offset, len(schedule), "scan", j, index))
        if escalate:
            schedule.append((start + ESCALATION_OFFSET_S, len(schedule), "escalation", j, 0))
    schedule.sort()
    tasks: set[asyncio.Task[None]] = set()
    began_wall, began = time.time(), time.monotonic()
    for offset, _, kind, j, index in schedule:
        delay = began + offset - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        due = began_wall + offset
        if kind == "return":
            coro = _send(client, obs, "return", step, due, traffic.feed_request(j), _ignore)
        elif kind == "scan":
            key = (j.return_id, JOURNEY[index])

            def scan_ok(at: float, _r: Any, key: tuple[str, str] = key) -> None:
                obs.scan_accepted[key] = (at, step)

            coro = _send(client, obs, "scan", step, due, traffic.scan_request(j, index), scan_ok)
        else:
            rid = j.return_id

            def escalation_ok(at: float, _r: Any, rid: str = rid) -> None:
                obs.escalation_accepted[rid] = (at, step)

            coro = _send(
                client, obs, "escalation", step, due, traffic.escalation_request(j), escalation_ok
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
    return began_wall, time.time()


def _ignore(_at: float, _response: Any) -> None:
    return None


# ---------------------------------------------------------------------------------------------
# Baselines, measured in the same run on the same machine
# ---------------------------------------------------------------------------------------------


async def kafka_round_trip(
    bootstrap: str, *, rate: float = 300, seconds: float = 5
) -> dict[str, Any]:
    """Produce at a fixed rate (acks=all, as the services' producers) and time each message
    until a plain consumer has it; plus the saturated rate of bench.backbone's raw path."""
    from aiokafka import AIOKafkaConsumer

    from bench.backbone import _topic, raw_rate
    from shared.kafka.producer import make_producer

    topic = await _topic(bootstrap)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    producer = make_producer(bootstrap, client_id="bench-e2e-rtt")
    await producer.start()
    n = int(rate * seconds)
    latencies: list[float] = []

    async def drain() -> None:
        while len(latencies) < n:
            batches = await consumer.getmany(timeout_ms=200)
            now = time.time()
            for records in batches.values():
                latencies.extend(now - float(r.value or b"0") for r in records)

    reader = asyncio.create_task(drain())
    began = time.monotonic()
    try:
        for i in range(n):
            delay = began + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await producer.send(topic, str(time.time()).encode(), key=str(i).encode())
        await asyncio.wait_for(reader, 60)
    finally:
        reader.cancel()
        await producer.stop()
        await consumer.stop()
    saturated = await raw_rate(bootstrap, 5000)
    return {
        "offered_per_s": rate,
        "round_trip": latency_summary(latencies),
        "saturated_messages_per_s": round(saturated, 1),
    }


async def bare_fastapi(env: dict[str, str], secrets: dict[str, str]) -> dict[str, Any]:
    """bench.intake's bare endpoint under uvicorn: saturated requests/s (closed loop) and
    latency at the goal's request rate (open loop)."""
    from bench.intake import Server, closed_loop, open_loop, swiftship_requests

    server = Server("bench.intake:bare_app", {"LOG_LEVEL": "WARNING"})
    try:
        await server.ready()
        await closed_loop(server.url, swiftship_requests(secrets["SWIFTSHIP_SECRET"], 100), 16)
        saturated = await closed_loop(
            server.url, swiftship_requests(secrets["SWIFTSHIP_SECRET"], 1500), 16
        )
        goal_requests_per_s = GOAL_PARTNER_EVENTS_PER_S * 4 / 3 + GOAL_ESCALATIONS_PER_S
        try:
            fixed = await open_loop(
                server.url,
                swiftship_requests(secrets["SWIFTSHIP_SECRET"], int(goal_requests_per_s * 3)),
                goal_requests_per_s,
            )
            at_goal: dict[str, Any] = {"p50_ms": fixed.p50_ms, "p99_ms": fixed.p99_ms}
        except Exception as exc:  # a starved machine: the figure is missing, not the run
            at_goal = {"error": repr(exc)}
    finally:
        server.stop()
    return {
        "saturated_requests_per_s": saturated.per_s,
        "at_goal_rate": {"offered_per_s": round(goal_requests_per_s, 1), **at_goal},
    }


async def postgres_commits(database_url: str, *, seconds: float = 3.0) -> dict[str, Any]:
    """Single-row INSERT + COMMIT per transaction over asyncpg: with one connection, and with
    eight at once (the services together hold about that many)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    kwargs = {
        "user": url.username,
        "password": url.password,
        "host": url.host,
        "port": url.port,
        "database": url.database,
    }
    setup = await asyncpg.connect(**kwargs)
    await setup.execute(
        "DROP TABLE IF EXISTS bench_e2e_commits;"
        "CREATE TABLE bench_e2e_commits (id bigserial PRIMARY KEY, body text NOT NULL)"
    )
    await setup.close()

    async def writer(deadline: float) -> int:
        conn = await asyncpg.connect(**kwargs)
        done = 0
        try:
            while time.monotonic() < deadline:
                async with conn.transaction():
                    await conn.execute("INSERT INTO bench_e2e_commits (body) VALUES ($1)", "x")
                done += 1
        finally:
            await conn.close()
        return done

    out = {}
    for connections in (1, 8):
        deadline = time.monotonic() + seconds
        counts = await asyncio.gather(*(writer(deadline) for _ in range(connections)))
        out[f"commits_per_s_{connections}_connection{'s' if connections > 1 else ''}"] = round(
            sum(counts) / seconds, 1
        )
    return out


# ---------------------------------------------------------------------------------------------
# Figures per step
# ---------------------------------------------------------------------------------------------


def _between(
    start: dict[str, tuple[float, int]], end: dict[str, float], step: int
) -> tuple[list[float], int]:
    done, missing = [], 0
    for key, (t0, s) in start.items():
        if s != step:
            continue
        if key in end:
            done.append(end[key] - t0)
        else:
            missing += 1
    return done, missing


def step_figures(
    obs: Observations,
    *,
    step: int,
    multiplier: float,
    seconds: float,
    window: tuple[float, float],
    samples: list[BacklogSample],
    cpu: dict[str, float],
    cpu_whole_step: dict[str, float] | None = None,
) -> dict[str, Any]:
    # The decision's own time (reconciliation's clock, the same machine's): the benchmark's
    # topic reader is starved with everything else on a busy machine and would add its delay.
    decided = {rid: occurred for rid, (_, occurred, _) in obs.decided.items()}
    accepted_esc = obs.escalation_accepted
    escalation_stages = {
        "accepted→on_intake_topic": _between(accepted_esc, obs.escalation_canonical, step),
        "accepted→fraud_assessed": _between(accepted_esc, obs.assessed, step),
        "accepted→case_opened": _between(accepted_esc, obs.opened, step),
        "accepted→ack_email": _between(accepted_esc, obs.ack_email, step),
        "accepted→case_decided": _between(accepted_esc, decided, step),
        "accepted→decision_email": _between(accepted_esc, obs.decision_email, step),
        # Fraud's own promise: the assessment published within 1 s of the escalation event.
        "escalation_event→assessment_published": _between(
            {
                rid: (t, s)
                for rid, (_, s) in accepted_esc.items()
                if (t := obs.escalation_published.get(rid)) is not None
            },
            obs.assessment_published,
            step,
        ),
    }
    scans, scans_missing = _between(obs.scan_accepted, obs.scan_canonical, step)  # type: ignore[arg-type]
    outcomes: dict[str, int] = defaultdict(int)
    for rid, (_, s) in accepted_esc.items():
        if s == step:
            outcomes[obs.decided[rid][2] if rid in obs.decided else "NOT_DECIDED"] += 1

    partner_offered = GOAL_PARTNER_EVENTS_PER_S * multiplier
    escalations_offered = GOAL_ESCALATIONS_PER_S * multiplier
    requests_offered = partner_offered * 4 / 3 + escalations_offered
    accepted_total = sum(obs.accepted[(k, step)] for k in ("return", "scan", "escalation"))
    # Over the step, or longer when the last acceptance came after it (a queue in front).
    last = max((t for t, s_ in _acceptances(obs, step)), default=window[0] + seconds)
    achieved = accepted_total / max(seconds, last - window[0])

    # The backlog's trend while the full load is on: from the moment escalations join the
    # scans until the last return's feed entry (ramp-up and tail left out).
    t0, _ = window
    steady = [
        (s.t - t0, s.total) for s in samples if ESCALATION_OFFSET_S + 2 <= s.t - t0 <= seconds
    ]
    slope = slope_per_s(steady)
    full = [s for s in samples if s.t - t0 <= seconds]
    end_backlog = full[-1].total if full else 0.0
    # Messages the consumers handle per second at this step: each request makes one event on
    # intake.returns.v1, read by fraud and reconciliation; the rest is small beside it.
    messages_per_s = requests_offered * 2
    completed = len(escalation_stages["accepted→decision_email"][0])
    total_esc = sum(outcomes.values())
    verdict = sustained_verdict(
        offered_per_s=requests_offered,
        achieved_per_s=achieved,
        backlog_slope_per_s=slope,
        end_backlog=end_backlog,
        messages_per_s=messages_per_s,
        completed_share=completed / total_esc if total_esc else 0.0,
        backlog_samples=len(steady),
    )
    group_slopes = {
        group: round(
            slope_per_s(
                [
                    (s.t - t0, s.consumer_lag.get(group, 0))
                    for s in samples
                    if ESCALATION_OFFSET_S + 2 <= s.t - t0 <= seconds
                ]
            ),
            1,
        )
        for group in CONSUMER_GROUPS
    }
    outbox_slopes = {
        name: round(
            slope_per_s(
                [
                    (s.t - t0, s.outbox.get(name, 0.0))
                    for s in samples
                    if ESCALATION_OFFSET_S + 2 <= s.t - t0 <= seconds
                ]
            ),
            1,
        )
        for name in SERVICES
    }
    return {
        "step": step,
        "multiplier": multiplier,
        "seconds": seconds,
        "offered": {
            "partner_events_per_s": partner_offered,
            "escalations_per_s": escalations_offered,
            "requests_per_s": round(requests_offered, 1),
        },
        "accepted": {
            "returns": obs.accepted[("return", step)],
            "scans": obs.accepted[("scan", step)],
            "escalations": obs.accepted[("escalation", step)],
            "requests_per_s": round(achieved, 1),
            "offered_requests": sum(
                obs.offered[(k, step)] for k in ("return", "scan", "escalation")
            ),
        },
        "http_ms_from_scheduled_send": {
            kind: latency_summary(obs.http_latency[(kind, step)])
            for kind in ("return", "scan", "escalation")
        },
        "escalation_to_decision_email": latency_summary(
            escalation_stages["accepted→decision_email"][0],
            missing=escalation_stages["accepted→decision_email"][1],
        ),
        "escalation_stages": {
            k: latency_summary(v, missing=m) for k, (v, m) in escalation_stages.items()
        },
        "partner_event_to_intake_topic": latency_summary(scans, missing=scans_missing),
        "case_outcomes": dict(outcomes),
        "backlog": {
            "slope_messages_per_s": round(slope, 1),
            "samples_while_fully_loaded": len(steady),
            "end_of_step": end_backlog,
            "max": max((s.total for s in samples), default=0.0),
            "consumer_lag_slope_per_s": group_slopes,
            "outbox_slope_per_s": outbox_slopes,
            "samples": [
                {"t": round(s.t - t0, 1), "lag": s.consumer_lag, "outbox": s.outbox}
                for s in samples
            ],
        },
        "cpu_cores_used": {k: round(v, 2) for k, v in cpu.items()},
        # CPU each component spent per accepted request, from the step's start until its
        # work had drained: on a shared machine this holds much better than rates do, and
        # it says what a dedicated machine would need for the goal.
        "cpu_ms_per_request": cpu_ms_per_request(cpu_whole_step or {}, accepted_total),
        "sustained": verdict.sustained,
        "not_sustained_because": verdict.reasons,
    }


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


async def measure(env: dict[str, str], log: Callable[[str], None]) -> dict[str, Any]:

    settings = Settings.from_env()
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    mail_dir = Path(env["MAIL_SINK_DIR"])
    started = time.monotonic()

    system = await prepare_system(env, log)
    secrets = system["secrets"]

    log("baselines: raw Kafka round trip, bare FastAPI endpoint, raw PostgreSQL commits")
    baselines = {
        "kafka": await kafka_round_trip(bootstrap),
        "bare_fastapi": await bare_fastapi(env, secrets),
        "postgres": await postgres_commits(system["urls"]["intake"]),
    }
    log(
        f"  kafka p50 {baselines['kafka']['round_trip']['p50_ms']} ms, "
        f"{baselines['kafka']['saturated_messages_per_s']:,.0f} msg/s; bare FastAPI "
        f"{baselines['bare_fastapi']['saturated_requests_per_s']:,.0f} req/s; postgres "
        f"{baselines['postgres']['commits_per_s_1_connection']:,.0f} commits/s (1 conn)"
    )

    from bench.notifications import _clear_sink

    mail_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    _clear_sink(mail_dir)

    services = Services(env, system, settings.ports())
    services.start()
    obs = Observations()
    stop = asyncio.Event()
    steps: list[dict[str, Any]] = []
    probe = BacklogProbe(bootstrap, services.urls)
    watchers: list[asyncio.Task[None]] = []
    traffic: Traffic | None = None
    idle_cpu: dict[str, float] = {}
    try:
        await services.ready()
        log(f"services healthy on {', '.join(services.urls.values())}")
        await probe.start()
        watchers = [
            asyncio.create_task(watch_topics(bootstrap, obs, stop)),
            asyncio.create_task(watch_mail(mail_dir, obs, stop)),
        ]
        traffic = Traffic(secrets, settings, uuid.uuid4().hex[:4].upper())
        async with ClientPool(services.urls["intake"]) as client:
            # Warm-up: connections, pools, first-use code paths, consumer groups joined.
            await run_step(client, traffic, obs, step=-1, multiplier=0.1, seconds=6)
            await _drain(probe, obs, -1, settings, log)
            # What the services cost with no traffic at all: a floor every step pays. Relays,
            # dispatchers and timers sleep until NOTIFY or their due time (safety intervals of
            # 5-30 s), so the window is long enough to include a few of those wake-ups, after
            # the warm-up's last work settled.
            await asyncio.sleep(3)
            idle_meter = CpuMeter(services)
            await asyncio.sleep(20)
            idle_cpu = {k: round(v, 3) for k, v in idle_meter.read().items()}
            log(
                "idle: "
                + ", ".join(f"{n} {idle_cpu.get(n, 0):.2f}" for n in (*SERVICES, "postgres"))
                + " cores"
            )
            for step, multiplier in enumerate(settings.multipliers):
                log(
                    f"step {step + 1}/{len(settings.multipliers)}: ×{multiplier:g} — "
                    f"{GOAL_PARTNER_EVENTS_PER_S * multiplier:g} partner events/s + "
                    f"{GOAL_ESCALATIONS_PER_S * multiplier:g} escalations/s for "
                    f"{settings.step_s:g} s"
                )
                samples: list[BacklogSample] = []
                sampling = asyncio.create_task(_sample_until(probe, samples, stop_after=None))
                meter = CpuMeter(services)
                window = await run_step(
                    client, traffic, obs, step=step, multiplier=multiplier, seconds=settings.step_s
                )
                during_load = meter.read()
                drain_s = await _drain(probe, obs, step, settings, log, samples=samples)
                whole_step = meter.read()
                sampling.cancel()
                await asyncio.gather(sampling, return_exceptions=True)
                figures = step_figures(
                    obs,
                    step=step,
                    multiplier=multiplier,
                    seconds=settings.step_s,
                    window=window,
                    samples=samples,
                    cpu=during_load,
                    cpu_whole_step=whole_step,
                )
                figures["drain_seconds_after_step"] = round(drain_s, 1)
                steps.append(figures)
                e = figures["escalation_to_decision_email"]
                log(
                    f"  accepted {figures['accepted']['requests_per_s']:.0f}/"
                    f"{figures['offered']['requests_per_s']:.0f} req/s; escalation→email p50 "
                    f"{_fmt_s(e['p50_ms'])} p95 {_fmt_s(e['p95_ms'])} p99 {_fmt_s(e['p99_ms'])} "
                    f"({e['count']} done, {e['missing']} missing); backlog slope "
                    f"{figures['backlog']['slope_messages_per_s']:+.1f}/s; "
                    f"{'sustained' if figures['sustained'] else 'NOT sustained'}"
                )
    finally:
        stop.set()
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        try:
            await probe.close()
        except Exception:
            pass
        services.stop()

    best = highest_sustained(steps)
    goal_step = next((s for s in steps if s["multiplier"] == 1.0), None)
    goal_p95 = goal_step["escalation_to_decision_email"]["p95_ms"] if goal_step else None
    kafka_p50 = baselines["kafka"]["round_trip"]["p50_ms"] or 0.0
    ratios: dict[str, Any] = {}
    if best:
        ratios["sustained_requests_per_s_to_bare_fastapi"] = round(
            best["accepted"]["requests_per_s"]
            / baselines["bare_fastapi"]["saturated_requests_per_s"],
            3,
        )
        ratios["sustained_requests_per_s_to_postgres_commits_1_connection"] = round(
            best["accepted"]["requests_per_s"]
            / baselines["postgres"]["commits_per_s_1_connection"],
            3,
        )
        p50 = best["escalation_to_decision_email"]["p50_ms"]
        if p50 and kafka_p50:
            ratios["e2e_p50_to_kafka_round_trip_p50"] = round(p50 / kafka_p50, 1)
    return {
        "benchmark": "end to end: webhook/escalation accepted → case decided → email in the sink",
        "measured_at": datetime.now(UTC).isoformat(),
        "machine": {
            "cpu_count": os.cpu_count(),
            "note": "a shared machine: other processes may run beside it; compare ratios",
        },
        "settings": {
            "multipliers": list(settings.multipliers),
            "step_seconds": settings.step_s,
            "service_ports": settings.ports(),
            "partner_formats": traffic.formats if traffic else [],
            "goal_per_s": {
                "partner_events": GOAL_PARTNER_EVENTS_PER_S,
                "escalations": GOAL_ESCALATIONS_PER_S,
            },
            "requests_per_return": "1 feed entry + 3 partner scans (pickup, in transit, delivered)",
        },
        "baselines": baselines,
        "idle_cores_used": idle_cpu,
        "steps": steps,
        "highest_sustained": (
            {
                "multiplier": best["multiplier"],
                "partner_events_per_s": best["offered"]["partner_events_per_s"],
                "escalations_per_s": best["offered"]["escalations_per_s"],
            }
            if best
            else None
        ),
        "ratios": ratios,
        "errors": dict(obs.errors),
        "goal": GOAL,
        "goal_met": bool(
            goal_step
            and best
            and best["multiplier"] >= 1.0
            and goal_p95 is not None
            and goal_p95 <= GOAL_P95_S * 1000
        ),
        "wall_seconds": round(time.monotonic() - started, 1),
    }


def _fmt_s(ms: float | None) -> str:
    return "—" if ms is None else f"{ms / 1000:.2f} s"


async def _sample_until(
    probe: BacklogProbe, samples: list[BacklogSample], *, stop_after: float | None
) -> None:
    while stop_after is None or time.time() < stop_after:
        try:
            samples.append(await probe.sample())
        except Exception:
            pass  # a missed sample is a gap in the curve, not a failed run
        await asyncio.sleep(1.0)


async def _drain(
    probe: BacklogProbe,
    obs: Observations,
    step: int,
    settings: Settings,
    log: Callable[[str], None],
    *,
    samples: list[BacklogSample] | None = None,
) -> float:
    """Wait until every escalation of the step has its decision email (or timed out) and the
    backlog is empty, at most max_drain_s: the next step starts from a quiet pipeline."""
    began = time.monotonic()
    while time.monotonic() - began < settings.max_drain_s:
        pending = [
            rid
            for rid, (at, s) in obs.escalation_accepted.items()
            if s == step and rid not in obs.decision_email and time.time() - at < settings.timeout_s
        ]
        latest = samples[-1] if samples else await probe.sample()
        if not pending and latest.total == 0:
            break
        await asyncio.sleep(1.0)
    return time.monotonic() - began


# ---------------------------------------------------------------------------------------------
# Table and chart
# ---------------------------------------------------------------------------------------------


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    # Wide enough for the step table even when the output is a log file, not a terminal.
    console = Console(width=max(Console().width, 160))
    table = Table(title="e2e — escalation accepted → decision email, per offered rate")
    for col in (
        "offered ×goal",
        "partner ev/s + esc/s",
        "accepted req/s",
        "e2e p50",
        "p95",
        "p99",
        "done/missing",
        "scan→topic p95",
        "backlog slope",
        "sustained",
    ):
        table.add_column(col)
    for s in result["steps"]:
        e = s["escalation_to_decision_email"]
        scan = s["partner_event_to_intake_topic"]
        table.add_row(
            f"{s['multiplier']:g}×",
            f"{s['offered']['partner_events_per_s']:g} + {s['offered']['escalations_per_s']:g}",
            f"{s['accepted']['requests_per_s']:.0f}/{s['offered']['requests_per_s']:.0f}",
            _fmt_s(e["p50_ms"]),
            _fmt_s(e["p95_ms"]),
            _fmt_s(e["p99_ms"]),
            f"{e['count']}/{e['missing']}",
            _fmt_s(scan["p95_ms"]),
            f"{s['backlog']['slope_messages_per_s']:+.1f}/s",
            "yes" if s["sustained"] else "no: " + "; ".join(s["not_sustained_because"]),
        )
    console.print(table)

    stages = Table(
        title="where the time goes — p50 / p95 from escalation accepted, or (⇢) "
        "from the escalation event's publication"
    )
    stages.add_column("offered")
    names = list(result["steps"][0]["escalation_stages"]) if result["steps"] else []
    for name in names:
        start, end = name.split("→", 1)
        stages.add_column(end if start == "accepted" else f"⇢ {end}")
    for s in result["steps"]:
        stages.add_row(
            f"{s['multiplier']:g}×",
            *(
                f"{_fmt_s(s['escalation_stages'][n]['p50_ms'])} / "
                f"{_fmt_s(s['escalation_stages'][n]['p95_ms'])}"
                for n in names
            ),
        )
    console.print(stages)

    cpu = Table(title="CPU per accepted request (ms, step start until drained) and cores in use")
    components = [*SERVICES, "kafka", "postgres", "load_generator"]
    for col in ("offered", *components, "system", "→ req/s on idle cores", "busy / others"):
        cpu.add_column(col)
    for s in result["steps"]:
        per = s["cpu_ms_per_request"]
        used = s["cpu_cores_used"]
        cpu.add_row(
            f"{s['multiplier']:g}×",
            *(f"{per.get(c, 0):.1f}" for c in components),
            f"{per.get('system_under_test', 0):.1f}",
            f"{per.get('projected_requests_per_s', 0):.0f}",
            f"{used.get('machine_busy_cores', 0):.2f} / {used.get('other_processes_cores', 0):.2f}",
        )
    console.print(cpu)

    b = result["baselines"]
    console.print(
        f"baselines: Kafka round trip p50 {b['kafka']['round_trip']['p50_ms']} ms / p99 "
        f"{b['kafka']['round_trip']['p99_ms']} ms at {b['kafka']['offered_per_s']:g} msg/s, "
        f"{b['kafka']['saturated_messages_per_s']:,.0f} msg/s saturated; bare FastAPI "
        f"{b['bare_fastapi']['saturated_requests_per_s']:,.0f} req/s; PostgreSQL "
        f"{b['postgres']['commits_per_s_1_connection']:,.0f} commits/s (1 connection), "
        f"{b['postgres']['commits_per_s_8_connections']:,.0f} (8)"
    )
    console.print(f"ratios: {result['ratios']}")
    best = result["highest_sustained"]
    console.print(
        "highest sustained: "
        + (
            f"{best['partner_events_per_s']:g} partner events/s + "
            f"{best['escalations_per_s']:g} escalations/s (×{best['multiplier']:g})"
            if best
            else "none of the steps"
        )
    )
    if result["errors"]:
        console.print(f"request errors: {result['errors']}")
    console.print(f"goal: {result['goal']} — {'met' if result['goal_met'] else 'NOT met'}")
    console.print(f"({result['machine']['note']})")


def write_chart(result: dict[str, Any], path: Path) -> None:
    """Latency percentiles against offered rate, with the goal's 2 s line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = result["steps"]
    x = [s["offered"]["partner_events_per_s"] for s in steps]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for key, label, style in (
        ("p50_ms", "p50", "o-"),
        ("p95_ms", "p95", "s-"),
        ("p99_ms", "p99", "^-"),
    ):
        y = [(s["escalation_to_decision_email"][key] or float("nan")) / 1000 for s in steps]
        ax.plot(x, y, style, label=f"escalation → decision email {label}")
    scan = [(s["partner_event_to_intake_topic"]["p95_ms"] or float("nan")) / 1000 for s in steps]
    ax.plot(x, scan, "x:", color="grey", label="partner event → intake topic p95")
    ax.axhline(GOAL_P95_S, color="red", linestyle="--", label="goal: p95 ≤ 2 s")
    ax.axvline(GOAL_PARTNER_EVENTS_PER_S, color="red", linestyle=":", alpha=0.5)
    for s, xi in zip(steps, x, strict=True):
        if not s["sustained"]:
            ax.annotate(
                "not sustained",
                (xi, GOAL_P95_S),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=8,
                color="darkred",
            )
    ax.set_xlabel("offered partner events/s (escalations/s = 1/10 of it)")
    ax.set_ylabel("latency (s)")
    ax.set_yscale("log")
    ax.set_title(
        "disputedesk end to end — latency against offered rate\n"
        f"({os.cpu_count()} cores shared with other work, {result['measured_at'][:16]} UTC)"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(env: dict[str, str] | None = None) -> dict[str, Any]:
    if env is None:
        from disputedesk.stack import Stack

        stack = Stack.from_env()
        env = dict(stack.up())
        stack.apply_topics(env)
    stamp = time.strftime
    result = asyncio.run(
        measure(env, lambda line: print(f"[{stamp('%H:%M:%S')}] {line}", flush=True))
    )
    print_table(result)
    RESULTS.mkdir(exist_ok=True)
    write_chart(result, RESULTS / "e2e.png")
    print(f"wrote {RESULTS / 'e2e.png'}")
    return result


if __name__ == "__main__":
    outcome = main()
    (RESULTS / "e2e.json").write_text(json.dumps(outcome, indent=2, default=str))
    print(f"wrote {RESULTS / 'e2e.json'}")
