"""A consumer batch reads the seller directory once: the profiles of all its events' sellers
in one statement (under the shared lock, in one more, for the sellers whose events name no
address of their own), and each event finds its seller's language, preferences and address
there instead of reading them again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from services.notifications.catalogue import samples
from services.notifications.messages.handlers import build_handlers
from services.notifications.sellers import service as sellers
from services.notifications.sellers.schemas import SellerProfileIn
from services.notifications.settings import NotificationsSettings
from shared.clock import SystemClock
from shared.envelope import Envelope
from shared.kafka.consumer import HandlerContext
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import statements_of
from tests.support.notifications import contact_opener


async def test_a_batch_reads_its_sellers_profiles_once(harness: Harness) -> None:
    engine = create_async_engine(harness.env["NOTIFICATIONS_DATABASE_URL"])
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    settings = NotificationsSettings()
    handlers = build_handlers(settings, SystemClock(), contact_opener())
    at = datetime.now(UTC)
    known, unknown = uid("S-DIR"), uid("S-DIR")
    try:
        async with sessions() as session, session.begin():
            await sellers.save(
                session,
                seller_id=known,
                data=SellerProfileIn(emails=["dir.reads@example.com"], language="hi"),
                actor="tests",
                now=at,
                hash_key=settings.address_hash_key,
            )
        events: list[Any] = []
        for seller in (known, unknown):
            for _ in range(3):
                case = uid("CASE-DIR")
                events.append(samples.case_opened(case, at, seller_id=seller))
                # No address of its own: the directory's, read under the seller's lock.
                events.append(
                    samples.case_decided(
                        case, at, seller_id=seller, seller_email=None, seller_contact=None
                    )
                )
        assert handlers.batch_handler is not None
        async with sessions() as session, session.begin():
            with statements_of(session) as sent:
                await handlers.batch_handler(
                    [HandlerContext(session, Envelope(e, source="tests"), "cases") for e in events]
                )
        profile_reads = [s for s in sent if "FROM seller_profiles" in s]
        locks = [s for s in sent if "pg_advisory_xact_lock_shared" in s]
        assert len(profile_reads) == 1
        assert len(locks) == 1
        async with sessions() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT seller_id, template, status, recipient FROM messages "
                        "WHERE seller_id IN (:a, :b) ORDER BY seller_id, template"
                    ),
                    {"a": known, "b": unknown},
                )
            ).all()
        by_seller = {(r.seller_id, r.template, r.status) for r in rows}
        # The known seller's decisions go to its directory address; the unknown seller's wait.
        # A dispatcher running on the same database (another test's service) may already have
        # claimed or sent them: what is checked is that they are due, not that they still wait.
        assert {(known, "decision", s) for s in ("pending", "sending", "sent")} & by_seller
        assert (unknown, "decision", "held") in by_seller
        assert {r.recipient for r in rows if r.seller_id == known and r.template == "decision"} == {
            "dir.reads@example.com"
        }
    finally:
        await engine.dispose()
