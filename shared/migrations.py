"""Alembic, driven from code: each service keeps its history in `services/<name>/migrations/`,
and `disputedesk migrate` upgrades all four databases to head."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def alembic_config(service: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def code_heads(service: str) -> frozenset[str] | None:
    """The revisions this code's migrations end at (one per branch; one in practice), or None
    for a name without a migrations folder (an app assembled by a test)."""
    from alembic.script import ScriptDirectory

    if not (SERVICES_DIR / service / "migrations").is_dir():
        return None
    script = ScriptDirectory.from_config(alembic_config(service, "postgresql://unused"))
    return frozenset(script.get_heads())


async def database_revisions(connection: AsyncConnection) -> frozenset[str]:
    """The revisions the database was migrated to; none when it never was."""
    exists = await connection.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    if not exists:
        return frozenset()
    rows = await connection.scalars(text("SELECT version_num FROM alembic_version"))
    return frozenset(rows)


def schema_verdict(service: str, code: frozenset[str], database: frozenset[str]) -> str:
    """What /readyz says of the schema: "ok", or where the database is against the code."""
    if database == code:
        return "ok"
    at = ", ".join(sorted(database)) or "never migrated"
    return (
        f"database at {at}, code needs {', '.join(sorted(code))}: "
        f"run `disputedesk migrate` (or `alembic upgrade head` for {service})"
    )


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    """Blocking; call from a thread when an event loop is already running."""
    command.upgrade(alembic_config(service, database_url), revision)


def downgrade(service: str, database_url: str, revision: str) -> None:
    """Blocking, like `upgrade`: roll the service's database back to `revision`."""
    command.downgrade(alembic_config(service, database_url), revision)


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's `migrations/env.py`."""
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(str(url), poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(main())
