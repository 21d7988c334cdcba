"""A reconciliation instance of its own for SOP tests: its own database, consumer group and
topics, and a `ManualClock`, so tests move time by days without sleeping and without other
services (or other tests) touching its cases. Events are produced to Kafka as intake and fraud
would produce them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from sqlalchemy import text

from shared.clock import ManualClock
from shared.envelope import Envelope
from shared.events import (
    AppealFiled,
    ClaimType,
    EscalationChannel,
    EventPayload,
    EvidenceAdded,
    EvidenceItem,
    EvidenceKind,
    FraudAlertRaised,
    FraudAssessed,
    FraudBand,
    InvolvedEntities,
    NotificationFailed,
    NotificationSent,
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    SellerRepliesRead,
    SellerReplyReceived,
    ShipmentEventType,
)
from shared.migrations import downgrade, upgrade
from tests.support.factories import uid
from tests.support.notifications import seal_contact
from tests.support.waiting import eventually, service_started

SOP_SELLER_EMAIL = "seller.sop@example.com"

T0 = datetime(2026, 11, 2, 4, 30, tzinfo=UTC)


def evidence(kind: str = "UNBOXING_VIDEO") -> EvidenceItem:
    return EvidenceItem(
        kind=EvidenceKind(kind),
        uri="https://evidence.example/e/1",  # type: ignore[arg-type]
        sha256=uuid.uuid4().hex + uuid.uuid4().hex,
        captured_at=T0,
    )


def return_initiated(
    rid: str,
    *,
    partner: str = "swiftship",
    item_value: int = 249_900,
    seller: str = "S-SOP",
    buyer: str = "B-SOP",
    qc_required: bool = False,
) -> ReturnInitiated:
    return ReturnInitiated(
        return_id=rid,
        order_id=f"O-{rid}",
        seller_id=seller,
        buyer_id=buyer,
        category="electronics",
        item_value=item_value,
        qc_required=qc_required,
        partner_id=partner,
        awb=f"AWB-{rid}",
        initiated_at=T0 - timedelta(days=1),
    )


def scan(
    rid: str,
    kind: str,
    at: datetime,
    *,
    weight: int | None = None,
    otp: bool | None = None,
    partner: str = "swiftship",
) -> ReturnShipmentEvent:
    return ReturnShipmentEvent(
        event_id=uuid.uuid4(),
        partner_id=partner,
        partner_event_id=uuid.uuid4().hex,
        return_id=rid,
        awb=f"AWB-{rid}",
        event_type=ShipmentEventType(kind),
        occurred_at=at,
        weight_g=weight,
        pod_otp_verified=otp,
        raw_ref="test",
        hub_id="HUB-1",
        agent_id="AG-1",
    )


def escalation(
    rid: str,
    *,
    claim: str = "DAMAGED",
    amount: int = 249_900,
    filed_at: datetime | None = None,
    items: list[str] | None = None,
    received_weight_g: int | None = None,
    seller: str = "S-SOP",
) -> SellerEscalationFiled:
    return SellerEscalationFiled(
        escalation_id=f"ESC-{uuid.uuid4().hex[:12].upper()}",
        return_id=rid,
        seller_id=seller,
        claim_type=ClaimType(claim),
        claimed_amount=amount,
        description="test claim",
        evidence=[evidence(k) for k in (items if items is not None else ["UNBOXING_VIDEO"])],
        received_weight_g=received_weight_g,
        channel=EscalationChannel.PORTAL,
        filed_at=filed_at or T0 + timedelta(days=3),
        filed_by="test",
        seller_contact=seal_contact(SOP_SELLER_EMAIL),
    )


def evidence_added(
    esc: SellerEscalationFiled, items: list[str], at: datetime, received_weight_g: int | None = None
) -> EvidenceAdded:
    return EvidenceAdded(
        escalation_id=esc.escalation_id,
        return_id=esc.return_id,
        seller_id=esc.seller_id,
        evidence=[evidence(k) for k in items],
        received_weight_g=received_weight_g,
        added_at=at,
    )


def appeal(esc: SellerEscalationFiled, at: datetime) -> AppealFiled:
    return AppealFiled(
        escalation_id=esc.escalation_id,
        return_id=esc.return_id,
        seller_id=esc.seller_id,
        reason="Please look again.",
        filed_at=at,
    )


def assessed(subject: Envelope, band: str = "LOW", at: datetime | None = None) -> FraudAssessed:
    payload = subject.payload
    return FraudAssessed(
        assessment_id=uuid.uuid4(),
        subject_event_id=subject.id,
        subject_type=subject.type,
        return_id=str(payload.return_id),
        escalation_id=getattr(payload, "escalation_id", None),
        entities=InvolvedEntities(seller_id=getattr(payload, "seller_id", None)),
        score={"LOW": 0.1, "MEDIUM": 0.6, "HIGH": 0.9}[band],
        band=FraudBand(band),
        reasons=[],
        model_version="test",
        assessed_at=at or T0 + timedelta(days=3, minutes=1),
    )


@dataclass
class Engine:
    app: FastAPI
    client: httpx.AsyncClient
    clock: ManualClock
    settings: Any
    producer: AIOKafkaProducer
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def sessionmaker(self) -> Any:
        return self.app.state.runtime.sessionmaker

    def envelope(self, payload: EventPayload) -> Envelope:
        return Envelope(payload, source="test")

    async def send(self, *items: EventPayload | Envelope) -> list[Envelope]:
        """Produce in this order, each event to the topic reconciliation reads it from."""
        sent = []
        for item in items:
            env = item if isinstance(item, Envelope) else self.envelope(item)
            if isinstance(env.payload, FraudAssessed):
                topic = self.settings.assessments_topic
            elif isinstance(env.payload, FraudAlertRaised):
                topic = self.settings.alerts_topic
            elif isinstance(
                env.payload,
                NotificationSent | NotificationFailed | SellerReplyReceived | SellerRepliesRead,
            ):
                topic = self.settings.deliveries_topic
            else:
                topic = self.settings.returns_topic
            await self.producer.send(
                topic, env.value(), key=env.key.encode(), headers=env.headers()
            )
            sent.append(env)
        await self.producer.flush()
        return sent

    async def sql(self, query: str, **params: Any) -> list[Any]:
        async with self.sessionmaker() as session:
            return list((await session.execute(text(query), params)).mappings().all())

    async def migrate(self, to: str | None = None) -> None:
        """Move the service's schema to revision `to` (down), or to head when `to` is None (up),
        under the running service."""
        if to is None:
            await asyncio.to_thread(upgrade, "reconciliation", self.settings.database_url)
        else:
            await asyncio.to_thread(downgrade, "reconciliation", self.settings.database_url, to)
        # The pool's connections prepared their statements against the schema as it was.
        await self.app.state.runtime.engine.dispose()

    async def case(self, rid: str) -> dict[str, Any] | None:
        rows = await self.sql("SELECT * FROM cases WHERE return_id = :r", r=rid)
        return dict(rows[0]) if rows else None

    async def wait_case(
        self, rid: str, until: Any, *, timeout: float = 30, what: str = ""
    ) -> dict[str, Any]:
        return await eventually(  # type: ignore[no-any-return]
            lambda: self.case(rid),
            until=lambda c: c is not None and until(c),
            timeout=timeout,
            interval=0.1,
            what=what or f"case of {rid}",
        )

    async def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)

    async def events(self, case_id: str) -> list[dict[str, Any]]:
        return await self.sql(
            "SELECT ce_type, payload FROM outbox WHERE ce_subject = :c ORDER BY id", c=case_id
        )


async def delivered_to_a_new_seller(
    harness: Any, notifications: Any, clocked: Engine, *, tag: str, language: str = "en"
) -> tuple[str, str, datetime]:
    """A return of a seller of the test's own (in the directory at SOP_SELLER_EMAIL, writing in
    `language`), worth ₹1,800, picked up two days ago and delivered yesterday at its full
    weight, told to `clocked` with its clock set to now. Returns (return id, seller, now)."""
    from tests.support.scenario import put_seller, seller_profile

    rid, seller, now = uid(f"RET-{tag}"), uid(f"S-{tag}"), datetime.now(UTC)
    await put_seller(
        harness, notifications, seller, seller_profile(SOP_SELLER_EMAIL, language=language)
    )
    clocked.clock.set(now)
    await clocked.send(
        return_initiated(rid, item_value=180_000, seller=seller),
        scan(rid, "PICKED_UP", now - timedelta(days=2), weight=1000),
        scan(rid, "DELIVERED_TO_SELLER", now - timedelta(days=1), weight=1000),
    )
    return rid, seller, now


async def _migrate(harness: Any, db: str) -> str:
    from shared.migrations import upgrade

    stack = harness.stack
    await asyncio.to_thread(stack.postgres.drop_database, db)
    await asyncio.to_thread(stack.postgres.create_database, db)
    url = stack.postgres.database_url(db)
    await asyncio.to_thread(upgrade, "reconciliation", url)
    return str(url)


@asynccontextmanager
async def start_app(
    settings: Any, clock: ManualClock
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    from services.reconciliation.app import create_app

    app = create_app(settings, clock=clock)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://recon.test")
        )
        runtime = app.state.runtime
        # This instance's case events stay in its outbox (tests read them there): published, they
        # would reach the shared pipeline's notifications service as thousands of seller emails.
        # Stopped before the producer connects, the relay never publishes a row.
        runtime.relay.stop()
        await service_started(runtime)
        yield app, client


@asynccontextmanager
async def engine(harness: Any, name: str, **overrides: Any) -> AsyncIterator[Engine]:
    from services.reconciliation.settings import ReconciliationSettings
    from shared.kafka.admin import ensure_topics

    suffix = uuid.uuid4().hex[:8]
    url = await _migrate(harness, f"test_recon_{name}")
    bootstrap = harness.env["KAFKA_BOOTSTRAP_SERVERS"]
    settings = ReconciliationSettings(
        database_url=url,
        consumer_group=f"recon-{name}-{suffix}",
        returns_topic=f"test.{name}.{suffix}.returns",
        assessments_topic=f"test.{name}.{suffix}.assessments",
        deliveries_topic=f"test.{name}.{suffix}.deliveries",
        alerts_consumer_group=f"recon-{name}-{suffix}-alerts",
        alerts_topic=f"test.{name}.{suffix}.alerts",
        timer_poll_interval_s=0.1,
        **overrides,
    )
    await ensure_topics(
        bootstrap,
        partitions=3,
        names=[
            name
            for topic in (
                settings.returns_topic,
                settings.assessments_topic,
                settings.deliveries_topic,
                settings.alerts_topic,
            )
            for name in (topic, f"{topic}.dlq")
        ],
    )
    clock = ManualClock(T0 + timedelta(days=3, minutes=5))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        async with start_app(settings, clock) as (app, client):
            yield Engine(app, client, clock, settings, producer)
    finally:
        await producer.stop()
