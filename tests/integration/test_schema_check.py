"""/readyz holds a service's database to the schema its code needs: a database never migrated
(or behind) is named with what to run, and reads ok once migrated — on a real PostgreSQL."""

from __future__ import annotations

import asyncio

import httpx

from services.intake.models import Outbox
from services.intake.settings import IntakeSettings
from shared.app import create_service_app
from shared.migrations import code_heads, upgrade
from tests.conftest import Harness
from tests.support.db import scratch_database
from tests.support.waiting import eventually


async def test_readyz_names_a_schema_behind_the_code_until_it_is_migrated(
    harness: Harness,
) -> None:
    async with scratch_database(harness, "schema_check") as (url, _engine):
        app = create_service_app(
            name="intake",
            title="schema check",
            description="",
            settings=IntakeSettings(database_url=url, rate_limit_enabled=False),
            outbox_model=Outbox,
        )
        (head,) = code_heads("intake") or ()
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                r = await client.get("/readyz")
                assert r.status_code == 503, r.text
                schema = r.json()["checks"]["schema"]
                assert "never migrated" in schema and head in schema and "migrate" in schema

                await asyncio.to_thread(upgrade, "intake", url)

                async def schema_ok() -> str:
                    return str((await client.get("/readyz")).json()["checks"]["schema"])

                await eventually(schema_ok, until=lambda s: s == "ok", what="schema ok")
