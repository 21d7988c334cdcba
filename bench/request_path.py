"""CPU per request of the path every service's request takes before its endpoint does anything:
intake's `GET /healthz` called on the ASGI app in-process (no socket, no server), against a bare
FastAPI app's, each checkout in a process of its own, alternated.

The over-the-wire figure (`bench/intake_ab.py`, BENCH_AB_HEALTHZ=1) adds the server's share,
the same for every app, and the neighbours' load, which on this machine moved it by more than
the middlewares cost; the process's own CPU time for thousands of calls moves much less.

    BENCH_RP_VARIANTS='base=/tmp/base;after=.' python bench/request_path.py

BENCH_RP_REQUESTS (3000) per run, BENCH_RP_PAIRS (3) alternations; each run reports the best
of five batches. BENCH_RP_SERVICE (intake) picks whose app is called: the shared path is every
service's, and reconciliation's, fraud's or notifications' `/healthz` shows it with their
routes. Needs the at-rest keys intake refuses to start without (the stack's dev-credentials, or
DISPUTEDESK_SECRETS_KEYS); nothing is connected, the lifespan never runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("BENCH_RP_REQUESTS", 3000))
PAIRS = int(os.environ.get("BENCH_RP_PAIRS", 3))
SERVICE = os.environ.get("BENCH_RP_SERVICE", "intake")

_HEADERS = [
    (b"host", b"127.0.0.1:8001"),
    (b"user-agent", b"python-httpx/0.28.1"),
    (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"connection", b"keep-alive"),
]


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/healthz",
        "raw_path": b"/healthz",
        "query_string": b"",
        "root_path": "",
        "headers": list(_HEADERS),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8001),
        "state": {},
    }


async def _one_process(bare: bool, n: int) -> float:
    """Microseconds of this process's CPU per request, the best of five batches of `n`."""
    from fastapi import FastAPI

    if bare:
        app = FastAPI()

        @app.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok", "service": "bare"}

    else:
        import importlib

        app = importlib.import_module(f"services.{SERVICE}.app").create_app()
    statuses: set[int] = set()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    for _ in range(500):  # warm: the middleware stack is built on the first call
        await app(_scope(), receive, send)
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(n):
            await app(_scope(), receive, send)
        best = min(best, (time.process_time() - started) / n * 1e6)
    if statuses != {200}:
        raise SystemExit(f"answers other than 200: {statuses}")
    return best


def _run(root: Path, bare: bool) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--one", "bare" if bare else "app"],
        env={**os.environ, "PYTHONPATH": str(root), "LOG_LEVEL": "WARNING"},
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> dict[str, Any]:
    variants = {
        label: Path(root).resolve()
        for label, root in (
            item.split("=", 1) for item in os.environ["BENCH_RP_VARIANTS"].split(";")
        )
    }
    runs: dict[str, list[float]] = {"bare": [], **{label: [] for label in variants}}
    for _ in range(PAIRS):
        runs["bare"].append(_run(ROOT, bare=True))
        for label, root in variants.items():
            runs[label].append(_run(root, bare=False))
    best = {label: min(values) for label, values in runs.items()}
    return {
        "us_per_request": {k: [round(v, 1) for v in vs] for k, vs in runs.items()},
        "best": {k: round(v, 1) for k, v in best.items()},
        "to_bare": {k: round(v / best["bare"], 2) for k, v in best.items()},
        "service": SERVICE,
        "requests_per_run": REQUESTS,
        "load_average": os.getloadavg(),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(asyncio.run(_one_process(sys.argv[2] == "bare", REQUESTS)))
    else:
        print(json.dumps(main()))
