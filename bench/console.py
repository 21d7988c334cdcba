"""Console benchmark: server-side render time of the queue and of a case page with 10,000 cases
in reconciliation's database, beside a bare FastAPI HTML endpoint measured in the same run.

Each request goes to the console app in this process (httpx over ASGI, no socket), and the
console calls the real reconciliation app (its own database on the bench stack, in process too)
with a real desk key: the time includes the API call, its SQL, and the Jinja rendering. The
case page's email list comes from a stub notifications app answering an empty list (the
notifications database is not part of this figure). The baseline is a FastAPI endpoint
returning a fixed HTML page through the same client, so the ratio shows the console's own cost.
Requests are interleaved (queue, case, bare) so a noisy neighbour hits all three alike.

Run alone: `PYTHONPATH=$PWD python bench/console.py`. BENCH_CONSOLE_CASES sets the number of
cases (default 10000), BENCH_CONSOLE_REQUESTS the requests per page (default 200).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
CASES = int(os.environ.get("BENCH_CONSOLE_CASES", "10000"))
REQUESTS = int(os.environ.get("BENCH_CONSOLE_REQUESTS", "200"))
DATABASE = "bench_console"
GOAL_MS = 300.0


def _stack_env() -> dict[str, str]:
    from disputedesk.stack import Stack
    from shared.migrations import upgrade

    environ = {k: v for k, v in os.environ.items() if k.startswith("DISPUTEDESK_")}
    environ.setdefault("DISPUTEDESK_STATE_DIR", str(ROOT / ".state" / "bench"))
    stack = Stack.from_env(environ)
    env = dict(stack.up())
    stack.postgres.drop_database(DATABASE)
    stack.postgres.create_database(DATABASE)
    env["RECONCILIATION_DATABASE_URL"] = stack.postgres.database_url(DATABASE)
    upgrade("reconciliation", env["RECONCILIATION_DATABASE_URL"])
    return env


async def _seed(sessionmaker: Any, n: int) -> str:
    """n cases across states, partners and bands; the first one with a whole story (return,
    scans, escalation with evidence, assessment, timeline). Returns that case's id."""
    from services.reconciliation.models import (
        AssessmentRecord,
        Case,
        EscalationRecord,
        ReturnRecord,
        ShipmentEventRecord,
        TimelineEntry,
    )

    now = datetime.now(UTC)
    states = ["UNDER_REVIEW", "OPEN", "AWAITING_EVIDENCE", "ESCALATED", "CLOSED", "DECIDED"]
    partners = ["swiftship", "rapidroute", "desipost"]
    bands = ["LOW", "MEDIUM", "HIGH"]
    claims = ["DAMAGED", "WRONG_ITEM", "MISSING_ITEM", "USED_ITEM", "NOT_RECEIVED"]
    story = f"CASE-BENCH-{0:06d}"
    for start in range(0, n, 1000):
        async with sessionmaker() as session, session.begin():
            for i in range(start, min(start + 1000, n)):
                opened = now - timedelta(minutes=n - i)
                session.add(
                    Case(
                        case_id=f"CASE-BENCH-{i:06d}",
                        return_id=f"RET-BENCH-{i:06d}",
                        seller_id=f"S-{i % 400}",
                        partner_id=partners[i % 3],
                        buyer_id=f"B-{i}",
                        claim_type=claims[i % 5],
                        claimed_amount=100_000 + i,
                        origin="ESCALATION",
                        state=states[i % len(states)],
                        version=1,
                        fraud_band=bands[i % 3],
                        assignee="agent.asha" if i % 7 == 0 else None,
                        opened_at=opened,
                        updated_at=opened,
                        # One case in 40 has a seller reply nobody has read yet.
                        seller_unread_since=opened if i % 40 == 0 else None,
                        seller_last_reply_at=opened if i % 40 == 0 else None,
                    )
                )
    async with sessionmaker() as session, session.begin():
        rid = "RET-BENCH-000000"
        session.add(
            ReturnRecord(
                return_id=rid,
                ce_id=uuid.uuid4(),
                order_id="O-1",
                seller_id="S-0",
                buyer_id="B-0",
                category="electronics",
                item_value=100_000,
                qc_required=True,
                partner_id="swiftship",
                awb="AWB-1",
                initiated_at=now - timedelta(days=5),
            )
        )
        for k, kind in enumerate(["PICKED_UP", "IN_TRANSIT", "DELIVERED_TO_SELLER"]):
            session.add(
                ShipmentEventRecord(
                    event_id=uuid.uuid4(),
                    ce_id=uuid.uuid4(),
                    return_id=rid,
                    partner_id="swiftship",
                    event_type=kind,
                    occurred_at=now - timedelta(days=4 - k),
                    weight_g=1000 - 100 * k,
                    pod_otp_verified=None,
                    hub_id=f"HUB-{k}",
                    agent_id=f"AG-{k}",
                    qc_failure_reason=None,
                )
            )
        session.add(
            EscalationRecord(
                escalation_id="ESC-BENCH-1",
                ce_id=uuid.uuid4(),
                return_id=rid,
                seller_id="S-0",
                claim_type="DAMAGED",
                claimed_amount=100_000,
                description="Cracked screen",
                evidence=[
                    {
                        "kind": "UNBOXING_VIDEO",
                        "uri": "https://evidence.example/v.mp4",
                        "sha256": "ab" * 32,
                        "captured_at": now.isoformat(),
                    }
                ],
                received_weight_g=800,
                channel="PORTAL",
                filed_at=now - timedelta(days=1),
                filed_by="bench",
                case_id=story,
            )
        )
        session.add(
            AssessmentRecord(
                assessment_id=uuid.uuid4(),
                subject_event_id=uuid.uuid4(),
                subject_type="disputedesk.intake.seller_escalation_filed.v1",
                return_id=rid,
                escalation_id="ESC-BENCH-1",
                band="HIGH",
                score=0.9,
                reasons=[{"code": "WEIGHT_DROP", "weight_drop_g": 200}],
                model_version="bench",
                assessed_at=now,
            )
        )
        for k in range(8):
            session.add(
                TimelineEntry(
                    case_id=story,
                    case_version=1,
                    kind="NOTE",
                    actor="agent.asha",
                    reason=f"Note {k}",
                    data=None,
                    occurred_at=now - timedelta(hours=8 - k),
                )
            )
    return story


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def run() -> dict[str, Any]:
    env = await asyncio.to_thread(_stack_env)
    os.environ.update(env)

    from disputedesk import credentials
    from services.console.app import create_app as create_console
    from services.console.settings import ConsoleSettings
    from services.reconciliation.app import create_app as create_reconciliation
    from services.reconciliation.settings import ReconciliationSettings
    from shared.db import make_engine, make_sessionmaker
    from shared.kafka.admin import ensure_topics
    from tests.support.console import RoutingTransport

    state = Path(os.environ["DISPUTEDESK_STATE_DIR"]) / "bench-credentials"
    credentials.ensure(state)
    keys = credentials.read_env(state / credentials.CREDENTIALS_FILE)
    os.environ["DISPUTEDESK_KEYRING_FILE"] = str(state / credentials.KEYRING_FILE)

    engine = make_engine(env["RECONCILIATION_DATABASE_URL"], pool_size=2)
    seed_started = time.perf_counter()
    story = await _seed(make_sessionmaker(engine), CASES)
    seed_s = time.perf_counter() - seed_started
    await engine.dispose()

    suffix = uuid.uuid4().hex[:8]
    topics = {k: f"bench.console.{suffix}.{k}" for k in ("returns", "assessments", "deliveries")}
    await ensure_topics(
        env["KAFKA_BOOTSTRAP_SERVERS"],
        partitions=1,
        names=[*topics.values(), *(f"{t}.dlq" for t in topics.values())],
    )
    recon = create_reconciliation(
        ReconciliationSettings(
            database_url=env["RECONCILIATION_DATABASE_URL"],
            consumer_group=f"bench-console-{suffix}",
            returns_topic=topics["returns"],
            assessments_topic=topics["assessments"],
            deliveries_topic=topics["deliveries"],
            keyring_file=state / credentials.KEYRING_FILE,
            log_level="WARNING",
        )
    )
    notifications = FastAPI()

    @notifications.get("/v1/messages")
    async def no_messages() -> dict[str, Any]:
        return {"items": []}

    bare = FastAPI()
    page = "<!doctype html><html lang=en><title>bare</title><main><h1>Queue</h1></main></html>"

    @bare.get("/")
    async def bare_page() -> HTMLResponse:
        return HTMLResponse(page)

    console_app = create_console(
        ConsoleSettings(
            reconciliation_url="http://reconciliation.test",
            notifications_url="http://notifications.test",
            fraud_url="http://fraud.test",
            intake_url="http://intake.test",
            keyring_file=state / credentials.KEYRING_FILE,
            upstream_timeout_s=30,
        ),
        transport=RoutingTransport({"reconciliation": recon, "notifications": notifications}),
    )
    from shared.auth import Principal

    desk = console_app.state.sessions.open(
        keys["DISPUTEDESK_KEY_OPS_AGENT"], Principal("agent.asha", frozenset({"ops_agent"}))
    )
    desk_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=console_app), base_url="http://console.bench"
    )
    desk_client.cookies.set("dd_console", desk.session_id)
    bare_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=bare), base_url="http://bare.bench"
    )
    paths = {
        "queue": "/",
        "queue_filtered": "/?state=UNDER_REVIEW&partner_id=swiftship&fraud_band=HIGH",
        "queue_seller_replied": "/?replied=unread",
        "case": f"/cases/{story}",
    }
    samples: dict[str, list[float]] = {name: [] for name in [*paths, "bare_fastapi"]}
    async with recon.router.lifespan_context(recon), desk_client, bare_client:
        # The service's rate limit counts this key's calls; the bench is one busy person.
        for _ in range(10):  # warm-up: connections, template compilation, the SLA cache
            for path in paths.values():
                (await desk_client.get(path)).raise_for_status()
        for _ in range(REQUESTS):
            for name, path in paths.items():
                started = time.perf_counter()
                response = await desk_client.get(path)
                samples[name].append(time.perf_counter() - started)
                response.raise_for_status()
            started = time.perf_counter()
            (await bare_client.get("/")).raise_for_status()
            samples["bare_fastapi"].append(time.perf_counter() - started)
    figures = {name: _percentiles(values) for name, values in samples.items()}
    bare_p50 = figures["bare_fastapi"]["p50_ms"] or 0.01
    for name in paths:
        figures[name]["p50_vs_bare"] = round(figures[name]["p50_ms"] / bare_p50, 1)
    return {
        "cases": CASES,
        "requests_per_page": REQUESTS,
        "seed_s": round(seed_s, 1),
        "goal": f"p95 under {GOAL_MS:.0f} ms server-side at {CASES:,} cases",
        "met": all(figures[name]["p95_ms"] < GOAL_MS for name in paths),
        "pages": figures,
    }


def print_table(result: dict[str, Any], console: Console) -> None:
    table = Table(title=f"console render at {result['cases']:,} cases")
    for column in ("page", "p50 ms", "p95 ms", "max ms", "p50 vs bare"):
        table.add_column(column)
    for name, f in result["pages"].items():
        table.add_row(
            name,
            f"{f['p50_ms']:.1f}",
            f"{f['p95_ms']:.1f}",
            f"{f['max_ms']:.1f}",
            "1.0 (baseline)" if name == "bare_fastapi" else f"{f['p50_vs_bare']:.1f}×",
        )
    console.print(table)
    console.print(f"goal: {result['goal']} — {'met' if result['met'] else 'NOT met'}")


def main(env: dict[str, str] | None = None) -> dict[str, Any]:
    result = asyncio.run(run())
    print_table(result, Console())
    return result


if __name__ == "__main__":
    RESULTS.mkdir(exist_ok=True)
    out = main()
    (RESULTS / "console.json").write_text(json.dumps(out, indent=2))
