"""Fraud's promise at the benchmark load: an escalation's assessment is published within 1 s of
the escalation event.

The end-to-end section (bench/e2e/) measures this stage inside the whole pipeline, where on a
2-core machine intake saturates the machine long before fraud sees the goal's load. This section
hands the fraud service alone the stream the pipeline would hand it at the goal: per second at
×1, 66.7 returns (the marketplace feed's return, then pickup, in transit and delivery to the
seller), 20 escalations with three evidence items on delivered returns, and for each escalation
reconciliation's case opened and case decided, 327 events/s in all. The events are written as
intake's and reconciliation's relays write them (CloudEvents in Kafka binary mode, keyed by
return) straight onto `intake.returns.v1` and `reconciliation.cases.v1`, open loop, and the
fraud service runs as `disputedesk run` starts it, with the bench stack's Kafka and PostgreSQL.

Per step (`BENCH_FRAUD_LATENCY_MULTIPLIERS`, default 0.25,0.5,1,1.5, `BENCH_FRAUD_LATENCY_STEP_S`
s each): escalation event published → its assessment published, from the two records' own
timestamps; fraud's consumer lag each second; CPU of fraud, PostgreSQL, Kafka and this
generator. Baseline in the same run: the raw Kafka round trip (produce → a plain consumer) at
the ×1 event rate, so the ratio says what fraud adds on top of the broker on this machine now.

`python -m bench fraud_latency` (the bench stack), or `bash scripts/bench.sh fraud_latency`.
Writes bench-results/fraud_latency.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.e2e import (
    ESCALATION_OFFSET_S,
    GOAL_ESCALATIONS_PER_S,
    GOAL_PARTNER_EVENTS_PER_S,
    JOURNEY,
    SCAN_AGES,
    SCAN_OFFSETS_S,
    BacklogProbe,
    BacklogSample,
    CpuMeter,
    Services,
    latency_summary,
    multipliers_from_env,
    slope_per_s,
)
from bench.fraud_waits import waits

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
GOAL_S = 1.0
GOAL = (
    "fraud alone at the goal's event stream (200 partner events/s + 20 escalations/s, 327 "
    "events/s with feed entries and case events): escalation event → assessment published "
    "p95 ≤ 1 s, consumer lag not growing"
)
# Reconciliation opens the case as the escalation arrives and decides it about a second later.
CASE_OPENED_OFFSET_S = ESCALATION_OFFSET_S + 0.3
CASE_DECIDED_OFFSET_S = ESCALATION_OFFSET_S + 1.0
HUBS, AGENTS_PER_HUB, SELLERS = 12, 4, 2000


@dataclass(frozen=True)
class Settings:
    multipliers: tuple[float, ...] = (0.25, 0.5, 1.0, 1.5)
    step_s: float = 25.0
    port: int = 28813
    max_drain_s: float = 45.0
    seed: int = 11

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            multipliers=multipliers_from_env("BENCH_FRAUD_LATENCY_MULTIPLIERS"),
            step_s=float(env.get("BENCH_FRAUD_LATENCY_STEP_S", 25)),
            port=int(env.get("BENCH_FRAUD_LATENCY_PORT", 28813)),
            max_drain_s=float(env.get("BENCH_FRAUD_LATENCY_DRAIN_S", 45)),
        )


def events_per_s(multiplier: float) -> float:
    """The stream's rate: per return a feed entry and its scans, per escalation the
    escalation and its case's opening and decision."""
    returns = GOAL_PARTNER_EVENTS_PER_S * multiplier / len(JOURNEY)
    return returns * (1 + len(JOURNEY)) + GOAL_ESCALATIONS_PER_S * multiplier * 3


# ---------------------------------------------------------------------------------------------
# The stream: one return's events, as intake's and reconciliation's relays publish them
# ---------------------------------------------------------------------------------------------


class Stream:
    def __init__(self, seed: int, tag: str) -> None:
        self.rng = random.Random(seed)
        self.tag = tag
        self.counter = 0

    def journey(self, *, escalate: bool) -> list[tuple[float, Any]]:
        """(offset from the feed entry in seconds, payload) of one return's events."""
        from shared.events import (
            CaseDecided,
            CaseOpened,
            CaseOrigin,
            CaseState,
            ClaimType,
            DecisionRecord,
            EscalationChannel,
            EvidenceItem,
            EvidenceKind,
            ReturnInitiated,
            ReturnShipmentEvent,
            SellerEscalationFiled,
            ShipmentEventType,
        )

        rng = self.rng
        self.counter += 1
        now = datetime.now(UTC)
        rid = f"RET-FL{self.tag}-{self.counter:07d}"
        seller = f"S-FL-{rng.randrange(SELLERS):05d}"
        hub = rng.randrange(HUBS)
        hub_id, agent_id = f"H-FL-{hub:02d}", f"AG-FL-{hub:02d}{rng.randrange(AGENTS_PER_HUB):02d}"
        value, weight = rng.randrange(30_000, 900_000), rng.randrange(200, 2500)
        out: list[tuple[float, Any]] = [
            (
                0.0,
                ReturnInitiated(
                    return_id=rid,
                    order_id=f"ORD-{rid}",
                    seller_id=seller,
                    buyer_id=f"B-{rid}",
                    category="home",
                    item_value=value,
                    qc_required=False,
                    partner_id="swiftship",
                    awb=f"AWB-{rid}",
                    initiated_at=now - timedelta(days=3),
                ),
            )
        ]
        for index, (kind, offset) in enumerate(zip(JOURNEY, SCAN_OFFSETS_S, strict=True)):
            event_id = uuid.uuid4()
            out.append(
                (
                    offset,
                    ReturnShipmentEvent(
                        event_id=event_id,
                        partner_id="swiftship",
                        partner_event_id=f"pe-{rid}-{index}",
                        return_id=rid,
                        awb=f"AWB-{rid}",
                        event_type=ShipmentEventType(kind),
                        occurred_at=now - SCAN_AGES[index],
                        hub_id=hub_id,
                        agent_id=agent_id,
                        weight_g=None if kind == "IN_TRANSIT" else weight,
                        pod_otp_verified=kind == "DELIVERED_TO_SELLER",
                        raw_ref=f"raw-{event_id}",
                    ),
                )
            )
        if not escalate:
            return out
        claim = rng.choice((ClaimType.DAMAGED, ClaimType.WRONG_ITEM, ClaimType.USED_ITEM))
        captured = now - timedelta(minutes=30)
        evidence = [
            EvidenceItem(
                kind=EvidenceKind.UNBOXING_VIDEO if i == 0 else EvidenceKind.PHOTO,
                uri=f"https://evidence.example/{uuid.uuid4().hex}",  # type: ignore[arg-type]
                sha256=uuid.uuid4().hex + uuid.uuid4().hex,
                captured_at=captured,
                perceptual_hash=None if i == 0 else f"{rng.getrandbits(64):016x}",
            )
            for i in range(3)
        ]
        out.append(
            (
                ESCALATION_OFFSET_S,
                SellerEscalationFiled(
                    escalation_id=f"ESC-{rid}",
                    return_id=rid,
                    seller_id=seller,
                    claim_type=claim,
                    claimed_amount=value,
                    description=f"{claim.lower()} on {rid}",
                    evidence=evidence,
                    channel=EscalationChannel.EMAIL,
                    filed_at=now,
                    filed_by="bench",
                ),
            )
        )
        case = {
            "case_id": f"CASE-{rid}",
            "return_id": rid,
            "seller_id": seller,
            "partner_id": "swiftship",
            "claim_type": claim,
            "origin": CaseOrigin.SELLER,
            "actor": "system",
            "claimed_amount": value,
        }
        out.append(
            (
                CASE_OPENED_OFFSET_S,
                CaseOpened(
                    **case,
                    case_version=1,
                    state=CaseState.OPEN,
                    reason="seller escalation",
                    occurred_at=now,
                ),
            )
        )
        out.append(
            (
                CASE_DECIDED_OFFSET_S,
                CaseDecided(
                    **case,
                    case_version=2,
                    state=CaseState.DECIDED,
                    previous_state=CaseState.OPEN,
                    reason="decided by the SOP",
                    occurred_at=now,
                    decision=DecisionRecord(
                        policy_version="bench",
                        rule_id="bench",
                        explanation="bench decision",
                        decided_at=now,
                    ),
                ),
            )
        )
        return out


@dataclass
class Seen:
    # escalation ce_id → (step, the escalation record's timestamp)
    escalations: dict[uuid.UUID, tuple[int, float]]
    # subject ce_id → the first assessment record's timestamp
    assessed: dict[uuid.UUID, float]


async def offer_step(
    producer: Any, stream: Stream, seen: Seen, *, step: int, multiplier: float, seconds: float
) -> tuple[float, float, int]:
    """Publish the step's stream at its scheduled times, open loop. Returns the step's
    (start, end) wall times and the number of events."""
    from shared.envelope import Envelope
    from shared.events import SellerEscalationFiled, topic_for

    returns_rate = GOAL_PARTNER_EVENTS_PER_S * multiplier / len(JOURNEY)
    escalate_share = GOAL_ESCALATIONS_PER_S * multiplier / returns_rate
    schedule: list[tuple[float, int, Any]] = []
    owed = 0.0
    for i in range(int(returns_rate * seconds)):
        owed += escalate_share
        escalate = owed >= 1.0
        owed -= 1.0 if escalate else 0.0
        for offset, payload in stream.journey(escalate=escalate):
            schedule.append((i / returns_rate + offset, len(schedule), payload))
    schedule.sort(key=lambda s: (s[0], s[1]))
    pending: list[asyncio.Future[Any]] = []
    began_wall, began = time.time(), time.monotonic()
    for offset, _, payload in schedule:
        delay = began + offset - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        source = (
            "disputedesk/intake"
            if topic_for(payload).name.startswith("intake")
            else ("disputedesk/reconciliation")
        )
        envelope = Envelope(payload=payload, source=source, subject=payload.return_id)
        sent = await producer.send(
            topic_for(payload).name,
            value=envelope.value(),
            key=envelope.key.encode(),
            headers=envelope.headers(),
        )
        if isinstance(payload, SellerEscalationFiled):

            def noted(f: asyncio.Future[Any], ce_id: uuid.UUID = envelope.id) -> None:
                if not f.cancelled() and f.exception() is None:
                    seen.escalations[ce_id] = (step, f.result().timestamp / 1000)

            sent.add_done_callback(noted)
        pending.append(sent)
    await asyncio.gather(*pending)
    return began_wall, time.time(), len(schedule)


async def watch_assessments(bootstrap: str, seen: Seen, stop: asyncio.Event) -> None:
    from aiokafka import AIOKafkaConsumer

    from shared.events import FRAUD_ASSESSMENTS

    consumer = AIOKafkaConsumer(
        FRAUD_ASSESSMENTS.name,
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
            for records in batches.values():
                for record in records:
                    subject = json.loads(record.value or b"{}").get("subject_event_id")
                    if subject:
                        seen.assessed.setdefault(uuid.UUID(subject), record.timestamp / 1000)
    finally:
        await consumer.stop()


def escalation_latencies(seen: Seen, step: int) -> tuple[list[float], int]:
    """Escalation event → its first assessment, in seconds, and how many have none."""
    latencies, missing = [], 0
    for ce_id, (s, published) in seen.escalations.items():
        if s != step:
            continue
        assessed = seen.assessed.get(ce_id)
        if assessed is None:
            missing += 1
        else:
            latencies.append(max(assessed - published, 0.0))
    return latencies, missing


def step_verdict(
    latency: dict[str, Any], samples: Sequence[BacklogSample], rate: float
) -> list[str]:
    """Why a step falls short of the promise (empty: it holds)."""
    reasons = []
    p95 = latency.get("p95_ms")
    if p95 is None or p95 > GOAL_S * 1000:
        reasons.append(f"p95 {p95} ms > {GOAL_S * 1000:.0f} ms")
    if latency.get("missing"):
        reasons.append(f"{latency['missing']} escalations never assessed")
    points = [(s.t, float(s.consumer_lag.get("fraud", 0))) for s in samples]
    if len(points) >= 3 and slope_per_s(points) > 0.05 * rate:
        reasons.append(f"lag grew {slope_per_s(points):.0f} events/s")
    return reasons


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


async def _prepare(env: dict[str, str]) -> dict[str, Any]:
    from bench.e2e import _recreate_topics
    from bench.intake import _fresh_database
    from disputedesk import credentials
    from shared.migrations import upgrade

    server = env.get("BENCH_DATABASE_URL") or env["FRAUD_DATABASE_URL"]
    url = await _fresh_database(server, "bench_fraud_latency")
    await asyncio.to_thread(upgrade, "fraud", url)
    await _recreate_topics(env["KAFKA_BOOTSTRAP_SERVERS"])
    state = Path(os.environ.get("DISPUTEDESK_STATE_DIR") or ROOT / ".state" / "bench")
    state = state / "fraud_latency"
    state.mkdir(parents=True, exist_ok=True)
    keyring = state / "keyring.json"
    secrets, keys = credentials.generate()
    keyring.write_text(json.dumps(keys))
    # `Services` hands the services their keys for data at rest from the secrets.
    return {"urls": {"fraud": url}, "secrets": secrets, "keyring_file": keyring, "state": state}


async def handled_events(database_url: str) -> int:
    """The events fraud has handled so far: its inbox rows (one per event, committed with it)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        return int(await conn.fetchval("SELECT count(*) FROM inbox"))
    finally:
        await conn.close()


async def _drain(probe: BacklogProbe, seen: Seen, step: int, settings: Settings) -> float:
    began = time.monotonic()
    while time.monotonic() - began < settings.max_drain_s:
        _, missing = escalation_latencies(seen, step)
        try:
            sample = await probe.sample()
        except Exception:
            sample = None
        if not missing and sample is not None and sample.total == 0:
            break
        await asyncio.sleep(0.5)
    return time.monotonic() - began


async def measure(env: dict[str, str], log: Callable[[str], None]) -> dict[str, Any]:
    from bench.e2e import _sample_until, kafka_round_trip
    from shared.kafka.producer import make_producer

    settings = Settings.from_env()
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    started = time.monotonic()
    system = await _prepare(env)
    log("fraud database fresh and migrated, topics recreated")
    goal_rate = events_per_s(1.0)
    kafka = await kafka_round_trip(bootstrap, rate=goal_rate)
    log(
        f"baseline: Kafka round trip at {goal_rate:.0f} msg/s p50 "
        f"{kafka['round_trip']['p50_ms']} ms, p95 {kafka['round_trip']['p95_ms']} ms"
    )

    services = Services(env, system, {"fraud": settings.port})
    services.start()
    probe = BacklogProbe(bootstrap, services.urls, groups=("fraud",))
    producer = make_producer(bootstrap, client_id="bench-fraud-latency")
    seen = Seen({}, {})
    stop = asyncio.Event()
    steps: list[dict[str, Any]] = []
    watcher: asyncio.Task[None] | None = None
    try:
        await services.ready()
        await probe.start()
        await producer.start()
        watcher = asyncio.create_task(watch_assessments(bootstrap, seen, stop))
        stream = Stream(settings.seed, uuid.uuid4().hex[:4].upper())
        log(f"fraud healthy on {services.urls['fraud']}; warming up")
        await offer_step(producer, stream, seen, step=-1, multiplier=0.1, seconds=8)
        await _drain(probe, seen, -1, settings)
        for step, multiplier in enumerate(settings.multipliers):
            rate = events_per_s(multiplier)
            log(
                f"step {step + 1}/{len(settings.multipliers)}: ×{multiplier:g} — "
                f"{rate:.0f} events/s ({GOAL_ESCALATIONS_PER_S * multiplier:g} escalations/s) "
                f"for {settings.step_s:g} s"
            )
            samples: list[BacklogSample] = []
            sampler = asyncio.create_task(_sample_until(probe, samples, stop_after=None))
            handled_before = await handled_events(system["urls"]["fraud"])
            meter = CpuMeter(services)
            _, _, sent = await offer_step(
                producer, stream, seen, step=step, multiplier=multiplier, seconds=settings.step_s
            )
            drained = await _drain(probe, seen, step, settings)
            cores = meter.read()
            handled = await handled_events(system["urls"]["fraud"]) - handled_before
            sampler.cancel()
            latencies, missing = escalation_latencies(seen, step)
            latency = latency_summary(latencies, missing=missing)
            inside = await waits(
                system["urls"]["fraud"],
                {c: t for c, (s, t) in seen.escalations.items() if s == step},
                seen.assessed,
            )
            reasons = step_verdict(latency, samples, rate)
            cpu_s = {
                k: round(cores.get(k, 0.0) * cores["elapsed_s"], 2)
                for k in ("fraud", "postgres", "kafka", "load_generator")
            }
            figures = {
                "step": step + 1,
                "multiplier": multiplier,
                "events": sent,
                "offered_events_per_s": round(rate, 1),
                "escalation_event_to_assessment_published": latency,
                # Where that time goes inside fraud (bench/fraud_waits.py).
                "inside_fraud": inside,
                "ratio_p95_to_kafka_round_trip": (
                    round(latency["p95_ms"] / kafka["round_trip"]["p95_ms"], 1)
                    if latency.get("p95_ms") and kafka["round_trip"].get("p95_ms")
                    else None
                ),
                "fraud_lag_max": max((s.consumer_lag.get("fraud", 0) for s in samples), default=0),
                "drain_seconds": round(drained, 1),
                "cpu_seconds": cpu_s,
                "fraud_cpu_ms_per_event": round(cpu_s["fraud"] * 1000 / max(sent, 1), 2),
                # A step that did not drain leaves events unhandled, and which ones depends on
                # the consumer's order (escalations, the dearest, go first): the CPU per event
                # handled, with the share handled, is the figure to compare.
                "events_handled": handled,
                "fraud_cpu_ms_per_handled_event": round(cpu_s["fraud"] * 1000 / max(handled, 1), 2),
                "machine_busy_cores": round(cores["machine_busy_cores"], 2),
                "promise_kept": not reasons,
                "short_because": reasons,
            }
            steps.append(figures)
            log(
                f"  p50 {latency['p50_ms']} ms, p95 {latency['p95_ms']} ms, "
                f"max lag {figures['fraud_lag_max']}, fraud "
                f"{figures['fraud_cpu_ms_per_event']} ms CPU/event sent, "
                f"{figures['fraud_cpu_ms_per_handled_event']} per event handled "
                f"({handled} of {sent}), machine "
                f"{figures['machine_busy_cores']} cores busy"
                + ("" if not reasons else f" — short: {'; '.join(reasons)}")
            )
            log(
                "  inside fraud, p50 / p95 ms: "
                + ", ".join(
                    f"{name} {v['p50_ms']} / {v['p95_ms']}"
                    for name, v in inside["stages_ms"].items()
                )
                + f"; events in its transaction p50/p95 "
                f"{inside['events_in_its_transaction']['p50']}/"
                f"{inside['events_in_its_transaction']['p95']}, queued behind "
                f"{inside['events_in_transactions_queued_behind']['p95']} (p95); "
                f"{inside['events_per_transaction_mean']} events per transaction"
            )
    finally:
        stop.set()
        if watcher is not None:
            await asyncio.gather(watcher, return_exceptions=True)
        await producer.stop()
        try:
            await probe.close()
        except Exception:  # never started: nothing to close
            pass
        services.stop()
    kept = [s["multiplier"] for s in steps if s["promise_kept"]]
    return {
        "benchmark": "fraud_latency",
        "measured_at": datetime.now(UTC).isoformat(),
        "settings": {
            "multipliers": list(settings.multipliers),
            "step_s": settings.step_s,
            "events_per_s_at_1x": round(goal_rate, 1),
        },
        "baseline": {"kafka": kafka},
        "steps": steps,
        "highest_multiplier_kept": max(kept) if kept else None,
        "goal": GOAL,
        "goal_met": 1.0 in kept,
        "wall_seconds": round(time.monotonic() - started, 1),
    }


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    kafka = result["baseline"]["kafka"]["round_trip"]
    table = Table(
        title="fraud alone: escalation event → assessment published (records' own "
        f"timestamps); Kafka round trip p95 {kafka['p95_ms']} ms (baseline)"
    )
    for col in (
        "offered",
        "events/s",
        "p50 / p95 / p99",
        "p95 ÷ Kafka",
        "missing",
        "max lag",
        "fraud CPU/event",
        "busy cores",
        "1 s kept",
    ):
        table.add_column(col)
    for s in result["steps"]:
        lat = s["escalation_event_to_assessment_published"]
        table.add_row(
            f"×{s['multiplier']:g}",
            f"{s['offered_events_per_s']:.0f}",
            f"{lat['p50_ms']} / {lat['p95_ms']} / {lat['p99_ms']} ms",
            str(s["ratio_p95_to_kafka_round_trip"]),
            str(lat["missing"]),
            str(s["fraud_lag_max"]),
            f"{s['fraud_cpu_ms_per_event']} ms",
            f"{s['machine_busy_cores']}",
            "yes" if s["promise_kept"] else "no",
        )
    Console().print(table)
    print(f"goal: {result['goal']} — {'met' if result['goal_met'] else 'not met'}")


def main(env: dict[str, str] | None = None) -> dict[str, Any]:
    """`python -m bench fraud_latency` passes the bench stack's env."""
    if env is None:
        from bench.__main__ import _stack_env

        env = _stack_env()
        os.environ.update(env)

    def log(message: str) -> None:
        print(message, flush=True)

    result = asyncio.run(measure(env, log))
    print_table(result)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fraud_latency.json").write_text(json.dumps(result, indent=2, default=str))
    return result


if __name__ == "__main__":
    main()
