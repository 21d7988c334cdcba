"""Where an escalation's time goes, hop by hop, from accepted to its decision email.

Reads, after an end-to-end run (`KEEP_BENCH_STACK=1 bash scripts/bench.sh e2e`), the four
`bench_e2e_*` databases and the mail sink the run left, and follows each escalation through the
timestamps every stage already records — no instrumentation in the services:

- intake's outbox row of the escalation: `created_at` (the accepting request's transaction
  began, PostgreSQL's `now()`) and `published_at` (the relay had Kafka's acknowledgement);
- fraud's inbox row of the escalation (`handled_at`: its consumer transaction began), its
  assessment's outbox row (payload `assessed_at`: the moment of the score; `published_at`);
- reconciliation's inbox row of that assessment (`handled_at`) and the first decision of the
  return's case in its outbox (`created_at`: the deciding transaction began; payload
  `occurred_at`: the decision; `published_at`);
- notifications' inbox row of the decision (`handled_at`), the message written for that case
  version (`sent_at`: the SMTP server accepted it) and the sink file's arrival stamp.

Every stamp comes from the one machine clock (PostgreSQL and the services run on it). A hop is
the difference of two consecutive stamps, so the hops of one escalation add up to its end to end.
Besides the percentiles of each hop, `tail` says where the slowest escalations spent their time:
each hop's mean over the escalations at or above the end-to-end p95.

The run's warm-up and steps are told apart by when intake accepted their escalations: the
benchmark drains the pipeline after each, so a step begins where an escalation was accepted
after every earlier one had its email (`--steps`: how many steps the run had, one by default).

    python -m bench.e2e_hops [--json OUT]     # the stack of DISPUTEDESK_STATE_DIR / *_PORT
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.e2e.figures import percentile
from bench.e2e.settings import DECIDED_TYPES
from bench.e2e.watchers import classify_email

ESCALATION = "disputedesk.intake.seller_escalation_filed.v1"
ASSESSED = "disputedesk.fraud.assessed.v1"

# (name, from stamp, to stamp): consecutive, so an escalation's hops add up to its end to end.
HOPS: tuple[tuple[str, str, str], ...] = (
    ("intake: accepted → escalation published (relay)", "accepted", "escalation_published"),
    ("fraud: published → its transaction began", "escalation_published", "fraud_began"),
    ("fraud: transaction began → escalation scored", "fraud_began", "scored"),
    ("fraud: scored → assessment published", "scored", "assessment_published"),
    ("recon: assessment published → deciding tx began", "assessment_published", "recon_began"),
    ("recon: deciding tx began → decided", "recon_began", "decided"),
    ("recon: decided → decision published", "decided", "decision_published"),
    ("notif: decision published → its tx began", "decision_published", "notif_began"),
    ("notif: tx began → SMTP accepted (dispatcher)", "notif_began", "sent"),
)
# Not a hop: the sink stamps a message's file when the SMTP DATA ends, the dispatcher records
# `sent_at` once it has read the reply, so this is normally a few milliseconds below zero.
SINK_CHECK = ("sink stamp minus sent_at", "sent", "arrived")
END_TO_END = ("accepted", "sent")


@dataclass
class Journey:
    """The stamps of one escalation, epoch seconds; a stage not reached is absent."""

    return_id: str
    stamps: dict[str, float]


def _ts(value: datetime | str | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.timestamp()


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _rows(url: str, sql: str, *args: Any) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(_dsn(url))
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def collect(urls: Mapping[str, str], mail_dir: Path | None) -> list[Journey]:
    """Every escalation of the run's databases, with the stamps it reached."""
    escalations = await _rows(
        urls["intake"],
        "SELECT ce_id, payload->>'return_id' AS return_id, created_at, published_at"
        " FROM outbox WHERE ce_type = $1",
        ESCALATION,
    )
    fraud_inbox = await _rows(
        urls["fraud"], "SELECT ce_id, handled_at FROM inbox WHERE ce_type = $1", ESCALATION
    )
    assessments = await _rows(
        urls["fraud"],
        "SELECT ce_id, payload->>'subject_event_id' AS subject, payload->>'assessed_at' AS at,"
        " published_at FROM outbox WHERE ce_type = $1 AND payload->>'subject_type' = $2"
        " AND COALESCE((payload->>'revision')::int, 0) = 0",
        ASSESSED,
        ESCALATION,
    )
    recon_inbox = await _rows(
        urls["reconciliation"], "SELECT ce_id, handled_at FROM inbox WHERE ce_type = $1", ASSESSED
    )
    decisions = await _rows(
        urls["reconciliation"],
        "SELECT DISTINCT ON (payload->>'return_id') ce_id, payload->>'return_id' AS return_id,"
        " payload->>'case_id' AS case_id, (payload->>'case_version')::int AS case_version,"
        " payload->>'occurred_at' AS at, created_at, published_at FROM outbox"
        " WHERE ce_type = ANY($1::text[]) ORDER BY payload->>'return_id', id",
        list(DECIDED_TYPES),
    )
    notif_inbox = await _rows(
        urls["notifications"],
        "SELECT ce_id, handled_at FROM inbox WHERE ce_type = ANY($1::text[])",
        list(DECIDED_TYPES),
    )
    messages = await _rows(
        urls["notifications"],
        "SELECT case_id, case_version, min(sent_at) AS sent_at FROM messages"
        " WHERE audience = 'seller' AND case_version IS NOT NULL GROUP BY case_id, case_version",
    )
    arrived = _sink_arrivals(mail_dir) if mail_dir else {}

    fraud_began = {r["ce_id"]: r["handled_at"] for r in fraud_inbox}
    assessment_of = {r["subject"]: r for r in assessments}
    recon_began = {r["ce_id"]: r["handled_at"] for r in recon_inbox}
    decision_of = {r["return_id"]: r for r in decisions}
    notif_began = {r["ce_id"]: r["handled_at"] for r in notif_inbox}
    sent = {(r["case_id"], r["case_version"]): r["sent_at"] for r in messages}

    journeys = []
    for e in escalations:
        stamps: dict[str, float | None] = {
            "accepted": _ts(e["created_at"]),
            "escalation_published": _ts(e["published_at"]),
            "fraud_began": _ts(fraud_began.get(e["ce_id"])),
        }
        a = assessment_of.get(str(e["ce_id"]))
        if a is not None:
            stamps["scored"] = _ts(a["at"])
            stamps["assessment_published"] = _ts(a["published_at"])
            stamps["assessment_handled"] = _ts(recon_began.get(a["ce_id"]))
        d = decision_of.get(e["return_id"])
        if d is not None:
            stamps["recon_began"] = _ts(d["created_at"])
            stamps["decided"] = _ts(d["at"])
            stamps["decision_published"] = _ts(d["published_at"])
            stamps["notif_began"] = _ts(notif_began.get(d["ce_id"]))
            stamps["sent"] = _ts(sent.get((d["case_id"], d["case_version"])))
            stamps["arrived"] = arrived.get(e["return_id"])
        journeys.append(Journey(e["return_id"], {k: v for k, v in stamps.items() if v is not None}))
    return journeys


def _sink_arrivals(directory: Path) -> dict[str, float]:
    """Return id → arrival stamp of its first decision email in the sink."""
    found: dict[str, float] = {}
    if not directory.is_dir():
        return found
    for entry in os.scandir(directory):
        if not entry.name.endswith(".eml"):
            continue
        with open(entry.path, "rb") as f:
            head = f.read(2048)
        c = classify_email(entry.name, head)
        if c and c[1] == "decision":
            found[c[0]] = min(found.get(c[0], c[2]), c[2])
    return found


def _summary(values: Sequence[float]) -> dict[str, Any]:
    def ms(p: float) -> float | None:
        v = percentile(values, p)
        return None if v is None else round(v * 1000, 1)

    return {"count": len(values), "p50_ms": ms(50), "p95_ms": ms(95), "p99_ms": ms(99)}


def steps(journeys: Sequence[Journey], count: int) -> list[list[Journey]]:
    """The warm-up's journeys, then each of the run's `count` steps'. The benchmark drains
    the pipeline after the warm-up and after each step, so a step begins where an escalation
    was accepted after every earlier one had its email: of those pauses, the `count` longest."""
    ordered = sorted(journeys, key=lambda j: j.stamps["accepted"])
    pauses: list[tuple[float, int]] = []
    done_by = float("-inf")  # when every escalation so far had its email (inf: one never did)
    for i, j in enumerate(ordered):
        if i and j.stamps["accepted"] > done_by:
            pauses.append((j.stamps["accepted"] - ordered[i - 1].stamps["accepted"], i))
        done_by = max(done_by, j.stamps.get("sent", float("inf")))
    cuts = sorted(i for _, i in sorted(pauses, reverse=True)[:count])
    bounds = [0, *cuts, len(ordered)]
    return [ordered[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _between(journeys: Sequence[Journey], a: str, b: str) -> list[float]:
    return [j.stamps[b] - j.stamps[a] for j in journeys if a in j.stamps and b in j.stamps]


def hops(journeys: Sequence[Journey]) -> dict[str, Any]:
    """Each hop's percentiles, the end to end's, and each hop's mean in the end to end's tail."""
    start, end = END_TO_END
    whole = {j.return_id: j.stamps[end] - j.stamps[start] for j in journeys if end in j.stamps}
    cut = percentile(list(whole.values()), 95)
    tail = [j for j in journeys if cut is not None and whole.get(j.return_id, -1.0) >= cut]
    by_hop: dict[str, Any] = {}
    for name, a, b in (*HOPS, SINK_CHECK):
        in_tail = _between(tail, a, b)
        by_hop[name] = _summary(_between(journeys, a, b)) | {
            "tail_mean_ms": round(1000 * sum(in_tail) / len(in_tail), 1) if in_tail else None
        }
    # Reconciliation's deciding transaction is normally the one that handled the assessment;
    # where it is not, the case decided later (a timer, another event) and this says how often.
    later = _between(journeys, "assessment_handled", "recon_began")
    accepted = [j.stamps["accepted"] for j in journeys]
    return {
        "escalations": len(journeys),
        "accepted_over_s": round(max(accepted) - min(accepted), 1) if accepted else 0.0,
        "reached": {
            stage: sum(1 for j in journeys if stage in j.stamps)
            for stage in ("escalation_published", "scored", "decided", "sent", "arrived")
        },
        "end_to_end": _summary(list(whole.values())),
        "tail_escalations": len(tail),
        "hops": by_hop,
        "decided_after_the_assessment_transaction": {
            "count": sum(1 for d in later if d > 0.001),
            "of": len(later),
        },
    }


def render(result: Mapping[str, Any]) -> str:
    e = result["end_to_end"]
    lines = [
        f"{result['escalations']} escalations accepted over {result['accepted_over_s']} s;"
        f" reached {result['reached']}",
        f"accepted → SMTP accepted: p50 {e['p50_ms']} / p95 {e['p95_ms']} / p99 {e['p99_ms']} ms"
        f" ({e['count']}); tail = {result['tail_escalations']} at or above p95",
        f"{'hop, ms':<52} {'p50':>8} {'p95':>8} {'p99':>8} {'tail mean':>10}",
    ]
    for name, s in result["hops"].items():
        lines.append(
            f"{name:<52} {s['p50_ms']!s:>8} {s['p95_ms']!s:>8} {s['p99_ms']!s:>8}"
            f" {s['tail_mean_ms']!s:>10}"
        )
    later = result["decided_after_the_assessment_transaction"]
    lines.append(
        f"decided in a later transaction than the assessment's: {later['count']} of {later['of']}"
    )
    return "\n".join(lines)


def _stack_urls() -> tuple[dict[str, str], Path | None]:
    from disputedesk.stack import Stack

    stack = Stack.from_env()
    env = stack.env()
    urls = {s: stack.postgres.database_url(f"bench_e2e_{s}") for s in DB_SERVICES}
    mail = env.get("MAIL_SINK_DIR")
    return urls, Path(mail) if mail else None


DB_SERVICES = ("intake", "fraud", "reconciliation", "notifications")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--steps", type=int, default=1, help="the run's steps after its warm-up")
    args = parser.parse_args(argv)
    urls, mail_dir = _stack_urls()
    found = steps(asyncio.run(collect(urls, mail_dir)), args.steps)
    results = []
    for n, step in enumerate(found):
        label = f"step {n}" if n else "warm-up"
        result = {"step": label} | hops(step)
        results.append(result)
        print(f"== {label}\n{render(result)}\n")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
