"""Fraud's scoring on a database of a test's own (real PostgreSQL), and the return journeys the
scoring tests feed it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from shared.events import (
    EventPayload,
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    ShipmentEventType,
)
from tests.conftest import Harness
from tests.support.factories import uid

if TYPE_CHECKING:
    from services.fraud.models import Alert
    from services.fraud.scoring.base import ScoringConfig


@contextmanager
def statements_of(session: AsyncSession) -> Iterator[list[str]]:
    """The SQL statements the session sends while the block runs, in order."""
    sent: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engine = session.bind.sync_engine  # type: ignore[union-attr]
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def new_fraud_db(harness: Harness, name: str, revision: str = "head") -> str:
    """Create the database afresh and migrate it to `revision`; its URL."""
    from shared.migrations import upgrade

    stack: Any = harness.stack
    stack.postgres.drop_database(name)
    stack.postgres.create_database(name)
    url: str = stack.postgres.database_url(name)
    # Migrations drive their own event loop.
    await asyncio.to_thread(upgrade, "fraud", url, revision)
    return url


@asynccontextmanager
async def fresh_fraud_db(harness: Harness, name: str) -> AsyncIterator[async_sessionmaker[Any]]:
    """A new, migrated fraud database: the test knows every peer its detectors compare with."""
    engine = create_async_engine(await new_fraud_db(harness, name))
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


def intact_journey(
    rid: str,
    seller: str,
    buyer: str,
    delivered: datetime,
    claim: str | None,
    agent: str | None,
    *,
    hub: str,
    category: str,
    item_value: int,
    description: str,
    partner: str = "swiftship",
    passed_qc: bool = False,
    weight_g: int = 800,
    photo: bool = True,
) -> list[EventPayload]:
    """A return picked up (or passed at QC on pickup) and delivered intact, its agent named on
    the scans or not (`agent` None, as rapidroute leaves it off many), and the seller's claim (if
    any) an hour later, with one photo of its own unless `photo` is False."""
    out: list[EventPayload] = [
        ReturnInitiated(
            return_id=rid,
            order_id=f"O-{rid}",
            seller_id=seller,
            buyer_id=buyer,
            category=category,
            item_value=item_value,
            qc_required=passed_qc,
            partner_id=partner,
            awb=f"AWB-{rid}",
            initiated_at=delivered - timedelta(days=3),
        )
    ]
    pickup = ShipmentEventType.QC_PASSED if passed_qc else ShipmentEventType.PICKED_UP
    for kind, at in (
        (pickup, delivered - timedelta(days=2)),
        (ShipmentEventType.DELIVERED_TO_SELLER, delivered),
    ):
        out.append(
            ReturnShipmentEvent(
                event_id=uuid.uuid4(),
                partner_id=partner,
                partner_event_id=uid("pe"),
                return_id=rid,
                awb=f"AWB-{rid}",
                event_type=kind,
                occurred_at=at,
                hub_id=hub,
                agent_id=agent,
                weight_g=weight_g,
                pod_otp_verified=True,
                raw_ref=uid("raw"),
            )
        )
    if claim:
        out.append(
            SellerEscalationFiled(
                escalation_id=f"ESC-{rid}",
                return_id=rid,
                seller_id=seller,
                claim_type=claim,
                claimed_amount=item_value,
                description=description,
                channel="EMAIL",
                filed_at=delivered + timedelta(hours=1),
                filed_by="test",
                evidence=[
                    {
                        "kind": "PHOTO",
                        "uri": f"https://evidence.example/{rid}.jpg",
                        "sha256": uuid.uuid4().hex * 2,
                        "captured_at": delivered.isoformat(),
                    }
                ]
                if photo
                else [],
            )
        )
    return out


def seller_journey(
    seller: str,
    category: str,
    delivered: datetime,
    claim: str | None,
    *,
    item_value: int = 90_000,
) -> list[EventPayload]:
    """One delivery of `seller`'s in `category`, claimed as `claim` or not, with a buyer, an
    agent and a hub of its own and nothing lost on the way: a seller's record built delivery
    by delivery, with nothing else in it for fraud to see."""
    return intact_journey(
        uid("R"),
        seller,
        uid("B"),
        delivered,
        claim,
        uid("AG"),
        hub=uid("H"),
        category=category,
        item_value=item_value,
        description="broken",
    )


async def score_events(
    sessions: async_sessionmaker[Any],
    events: list[EventPayload],
    config: ScoringConfig | None = None,
) -> list[Any]:
    """Score `events` in order through fraud's own scoring (with `config`, or the default
    one), in one transaction (as the consumer commits a batch); their
    assessments."""
    from services.fraud.scoring.service import assess_event

    out: list[Any] = []
    async with sessions() as session, session.begin():
        for e in events:
            out.append(
                await assess_event(session, payload=e, subject_event_id=uuid.uuid4(), config=config)
            )
    return out


async def claims_scored(
    sessions: async_sessionmaker[Any],
    events: list[EventPayload],
    config: ScoringConfig | None = None,
) -> list[Any]:
    """Score `events` as `score_events` does; the assessments of the claims among them."""
    assessed = await score_events(sessions, events, config)
    return [
        a for e, a in zip(events, assessed, strict=True) if isinstance(e, SellerEscalationFiled)
    ]


async def rows_of(sessions: async_sessionmaker[Any], sql: str, **params: Any) -> list[Any]:
    """The rows `sql` reads from the test's own fraud database."""
    async with sessions() as session:
        return list((await session.execute(text(sql), params)).all())


async def score_ordinary_category(
    sessions: async_sessionmaker[Any], category: str, start: datetime
) -> None:
    """A category of twenty ordinary sellers, each with forty deliveries half a day apart from
    `start` and one DAMAGED claim in twenty (5 %): the peers a seller's claims are weighed
    against."""
    for s in range(20):
        events: list[EventPayload] = []
        for i in range(40):
            events += seller_journey(
                f"{category}-peer{s}",
                category,
                start + timedelta(days=i * 0.5),
                "DAMAGED" if i % 20 == 7 else None,
            )
        await score_events(sessions, events)


# One ordinary category (`score_ordinary_category`) scored once a session into a template
# database: the claim-abuse tests that weigh a seller against it copy the template (a second)
# instead of scoring its 800 deliveries again (twenty seconds each on a loaded machine).
ORDINARY_CATEGORY = "cat-ordinary"
ORDINARY_START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=60)
_ORDINARY_TEMPLATE = "test_fraud_ordinary_template"
_templates_built: set[str] = set()


@asynccontextmanager
async def fraud_db_with_ordinary_category(
    harness: Harness, name: str
) -> AsyncIterator[async_sessionmaker[Any]]:
    """A new fraud database (as `fresh_fraud_db`) holding the ordinary category
    `ORDINARY_CATEGORY`, its deliveries from `ORDINARY_START`, and nothing else."""
    stack: Any = harness.stack
    if _ORDINARY_TEMPLATE not in _templates_built:
        async with fresh_fraud_db(harness, _ORDINARY_TEMPLATE) as sessions:
            await score_ordinary_category(sessions, ORDINARY_CATEGORY, ORDINARY_START)
        # Disposed: PostgreSQL copies a template no session is connected to.
        _templates_built.add(_ORDINARY_TEMPLATE)
    stack.postgres.drop_database(name)
    await asyncio.to_thread(
        stack.postgres.psql, f'CREATE DATABASE "{name}" TEMPLATE "{_ORDINARY_TEMPLATE}"'
    )
    engine = create_async_engine(stack.postgres.database_url(name))
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


async def claim_abuse_alerts(sessions: async_sessionmaker[Any], seller: str) -> list[Any]:
    """The evidence of every claim-abuse alert raised on `seller`."""
    return await rows_of(
        sessions,
        "SELECT evidence FROM alerts WHERE pattern = 'CLAIM_ABUSE' AND entity_id = :s",
        s=seller,
    )


def planted_alert(
    pattern: str,
    entity_type: str,
    entity_id: str,
    *,
    raised_at: datetime,
    event_time: datetime | None = None,
    evidence: dict[str, Any] | None = None,
    status: str = "open",
    closed_at: datetime | None = None,
    action: str = "hold claims",
    alert_id: uuid.UUID | None = None,
    subject_key: str | None = None,
) -> Alert:
    """A HIGH alert on `entity_type` `entity_id` as fraud raises one, for a test that starts
    from an entity already alerted (or once alerted and cleared): raised at `raised_at`, about
    events up to `event_time` (by default the same), on its own subject unless `subject_key`
    says (a pair's), its evidence a finding of `pattern` without numbers unless given."""
    from services.fraud.models import Alert

    return Alert(
        alert_id=alert_id or uuid.uuid4(),
        pattern=pattern,
        entity_type=entity_type,
        entity_id=entity_id,
        subject_key=subject_key or f"{entity_type}:{entity_id}",
        status=status,
        severity="HIGH",
        summary=f"{pattern} on {entity_type} {entity_id}",
        suggested_action=action,
        evidence={"code": f"{pattern}_TEST", "detail": "", "numbers": {}}
        if evidence is None
        else evidence,
        raised_at=raised_at,
        event_time=raised_at if event_time is None else event_time,
        closed_at=closed_at,
    )


def qc_agent_alert(agent: str, *, raised_at: datetime) -> Alert:
    """`agent` alerted (raised at `raised_at`) for QC passes contradicted at five times its
    peers' rate."""
    return planted_alert(
        "QC_CONTRADICTION_AGENT",
        "agent",
        agent,
        raised_at=raised_at,
        action="audit the agent's QC",
        evidence={
            "code": "AGENT_QC_CONTRADICTION_RATE_HIGH",
            "detail": "passes contradicted at 5x the peers' rate",
            "numbers": {"p_value": 1e-6},
        },
    )
