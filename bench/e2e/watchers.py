"""What was sent and seen: the Kafka topics, the mail sink and the backlog, watched while the
load runs."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.e2e.settings import CONSUMER_GROUPS, DECIDED_TYPES

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
    # Each stage at its record's own timestamp (the producing relay's send time) when there
    # is one: this reader shares the machine's cores and would add its own delays otherwise.
    at = published if published is not None else seen
    if topic == "intake.returns.v1":
        if kind.endswith("return_shipment_event.v1"):
            obs.scan_canonical.setdefault((rid, payload.get("event_type", "")), at)
        elif kind.endswith("seller_escalation_filed.v1"):
            obs.escalation_canonical.setdefault(rid, at)
            if published is not None:
                obs.escalation_published.setdefault(rid, published)
    elif topic == "fraud.assessments.v1":
        if payload.get("escalation_id"):
            obs.assessed.setdefault(rid, at)
            if published is not None:
                obs.assessment_published.setdefault(rid, published)
    elif kind.endswith("case_opened.v1"):
        obs.opened.setdefault(rid, at)
    elif kind in DECIDED_TYPES and rid not in obs.decided:
        occurred = datetime.fromisoformat(payload["occurred_at"]).timestamp()
        obs.decided[rid] = (at, occurred, DECIDED_TYPES[kind])


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
    would re-read) and the outbox backlog each service exports on /metrics. With replicas
    (several URLs per service) a service's backlog is the largest its replicas report: they
    share one outbox table, and only the replica holding the relay's lock refreshes it."""

    def __init__(
        self,
        bootstrap: str,
        service_urls: Mapping[str, str | Sequence[str]],
        groups: Sequence[str] = CONSUMER_GROUPS,
    ) -> None:
        self.bootstrap = bootstrap
        self.service_urls = {
            name: [urls] if isinstance(urls, str) else list(urls)
            for name, urls in service_urls.items()
        }
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
        names = [n for n, urls in self.service_urls.items() for _ in urls]
        answers = await asyncio.gather(
            *(self._outbox(u) for urls in self.service_urls.values() for u in urls)
        )
        backlogs: dict[str, float] = {}
        for name, backlog in zip(names, answers, strict=True):
            if backlog is not None:
                backlogs[name] = max(backlogs.get(name, 0.0), backlog)
        return BacklogSample(time.time(), dict(zip(self.groups, lags, strict=True)), backlogs)
