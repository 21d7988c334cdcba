"""What notifications' own loops cost, apart from consumed events: the service alone as
`disputedesk run` starts it (one uvicorn process, fresh database), and its CPU and PostgreSQL's
over four phases, each `BENCH_NOTIF_LOOPS_PHASE_S` seconds (20), `/metrics` scraped once a
second throughout as the end-to-end benchmark's backlog probe does:

  idle       nothing to do;
  wakeups    the messages channel NOTIFYed `BENCH_NOTIF_LOOPS_WAKEUPS` times a second (20) with
             nothing due: what a message queued for later (an evidence answer waiting for the
             uploads to settle, a reminder) costs the dispatchers that wake for it;
  sending    `BENCH_NOTIF_LOOPS_MESSAGES` messages a second (20) queued due now, each sent to
             the stack's mail sink and recorded (attempt row, NotificationSent outbox row);
  metrics    `/metrics` scraped 20 times a second besides;
  healthz    `GET /healthz` as often: the same request with no registry to collect, so that
             what a scrape costs splits into the HTTP request's share and the collection's.

Reports cores per phase (service and PostgreSQL), CPU ms per wake-up, per message sent and per
scrape (each over the idle phase's rate), and checks that every queued message was sent once.
`python -m bench.notifications_loops` (the stack in $DISPUTEDESK_STATE_DIR); writes
bench-results/notifications_loops.json.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PORT = int(os.environ.get("BENCH_E2E_PORT_BASE", "28800")) + 50
PHASE_S = float(os.environ.get("BENCH_NOTIF_LOOPS_PHASE_S", "20"))
WAKEUPS = float(os.environ.get("BENCH_NOTIF_LOOPS_WAKEUPS", "20"))
MESSAGES = float(os.environ.get("BENCH_NOTIF_LOOPS_MESSAGES", "20"))
SCRAPES = 20.0


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _paced(rate: float, seconds: float, action: Any) -> int:
    """Call `action(i)` `rate` times a second for `seconds`, open loop; returns how many."""
    began = time.monotonic()
    n = 0
    while (due := began + n / rate) < began + seconds:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        await action(n)
        n += 1
    return n


async def measure(env: dict[str, str], log: Any) -> dict[str, Any]:
    import asyncpg
    import httpx

    from bench.e2e.cpu import CpuMeter
    from bench.e2e.system import Services
    from bench.intake import _fresh_database
    from disputedesk import credentials
    from shared.migrations import upgrade
    from shared.wakeups import MESSAGES_CHANNEL

    server = env.get("BENCH_DATABASE_URL") or env["NOTIFICATIONS_DATABASE_URL"]
    url = await _fresh_database(server, "bench_notif_loops")
    await asyncio.to_thread(upgrade, "notifications", url)
    secrets, keyring = credentials.generate()
    state = Path(os.environ.get("DISPUTEDESK_STATE_DIR", ".state/bench")) / "notif-loops"
    state.mkdir(parents=True, exist_ok=True)
    keyring_file = state / "keyring.json"
    keyring_file.write_text(json.dumps(keyring))
    system = {
        "urls": {"notifications": url},
        "secrets": secrets,
        "keyring_file": keyring_file,
        "state": state,
    }
    services = Services(env, system, {"notifications": PORT})
    services.start()
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=5)
    result: dict[str, Any] = {"phase_s": PHASE_S, "port": PORT}
    try:
        await services.ready()
        await asyncio.sleep(3)  # start-up's rounds settle
        log("notifications healthy")

        async def scrape(_: int) -> None:
            await client.get("/metrics")

        async def phase(name: str, *work: Any) -> dict[str, float]:
            meter = CpuMeter(services)
            probe = asyncio.create_task(_paced(1.0, PHASE_S, scrape))
            counts = await asyncio.gather(*work)
            await probe
            cores = meter.read()
            figures = {
                "notifications_cores": round(cores.get("notifications", 0.0), 5),
                "postgres_cores": round(cores.get("postgres", 0.0), 5),
                "machine_busy_cores": round(cores["machine_busy_cores"], 2),
                "count": int(sum(counts)) if counts else 0,
                "load": os.getloadavg()[0],
            }
            log(f"{name}: {figures}")
            return figures

        result["idle"] = await phase("idle", asyncio.sleep(PHASE_S, result=0))

        async def notify(_: int) -> None:
            await conn.execute(f"NOTIFY {MESSAGES_CHANNEL}")

        result["wakeups"] = await phase("wakeups", _paced(WAKEUPS, PHASE_S, notify))

        sent_before = len(os.listdir(env["MAIL_SINK_DIR"])) if "MAIL_SINK_DIR" in env else 0
        queued: list[uuid.UUID] = []

        async def queue(i: int) -> None:
            message_id = uuid.uuid4()
            queued.append(message_id)
            recipient = f"seller-{i % 50}@example.com"
            await conn.execute(
                "INSERT INTO messages (message_id, dedup_key, template, case_id, case_version, "
                "return_id, seller_id, recipient, recipient_hash, subject, body_text, body_html, "
                "status, attempts, next_attempt_at) VALUES ($1, $2, 'decision', $3, 1, $4, $5, "
                "$6, $7, 'Your claim', $8, $9, 'pending', 0, $10)",
                message_id,
                f"bench:{message_id}",
                f"CASE-BENCH{i:06d}",
                f"RET-BENCH-{i:06d}",
                f"S-{i % 50}",
                recipient,
                hashlib.sha256(recipient.encode()).hexdigest(),
                "We decided your claim. " * 20,
                "<p>We decided your claim.</p>" * 20,
                datetime.now(UTC),
            )

        result["sending"] = await phase("sending", _paced(MESSAGES, PHASE_S, queue))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sent = await conn.fetchval(
                "SELECT count(*) FROM messages WHERE status = 'sent' AND message_id = ANY($1)",
                queued,
            )
            if sent == len(queued):
                break
            await asyncio.sleep(0.2)
        attempts = await conn.fetchval(
            "SELECT count(*) FROM delivery_attempts WHERE message_id = ANY($1)", queued
        )
        events = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE ce_type = 'disputedesk.notifications.sent.v1'"
        )
        result["sending"].update(
            queued=len(queued), sent=int(sent), attempts=int(attempts), sent_events=int(events)
        )
        if "MAIL_SINK_DIR" in env:
            result["sending"]["mail_files_new"] = (
                len(os.listdir(env["MAIL_SINK_DIR"])) - sent_before
            )

        result["metrics"] = await phase("metrics", _paced(SCRAPES, PHASE_S, scrape))

        async def healthz(_: int) -> None:
            await client.get("/healthz")

        result["healthz"] = await phase("healthz", _paced(SCRAPES, PHASE_S, healthz))
        body = (await client.get("/metrics")).text
        result["metrics"]["bytes"] = len(body)
        result["metrics"]["series"] = sum(
            1 for line in body.splitlines() if line and not line.startswith("#")
        )
    finally:
        await client.aclose()
        await conn.close()
        services.stop()

    idle = result["idle"]

    def per(name: str, what: str) -> float | None:
        p = result[name]
        n = p["count"] / PHASE_S
        if not n:
            return None
        return round(1000 * (p[what] - idle[what]) / n, 4)

    result["per_wakeup_ms"] = {
        "notifications": per("wakeups", "notifications_cores"),
        "postgres": per("wakeups", "postgres_cores"),
    }
    result["per_message_ms"] = {
        "notifications": per("sending", "notifications_cores"),
        "postgres": per("sending", "postgres_cores"),
    }
    result["per_scrape_ms"] = {"notifications": per("metrics", "notifications_cores")}
    result["per_healthz_ms"] = {"notifications": per("healthz", "notifications_cores")}
    return result


def main() -> None:
    from bench.__main__ import _stack_env

    env = _stack_env()
    result = asyncio.run(measure(env, print))
    out = os.path.join("bench-results", "notifications_loops.json")
    os.makedirs("bench-results", exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps({k: result[k] for k in result if k.startswith("per_")}, indent=2))


if __name__ == "__main__":
    main()
