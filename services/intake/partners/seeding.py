"""Register the three known partners and their development secrets (idempotent)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.intake.models import Partner, PartnerSecret
from services.intake.partners.secrets import PartnerSecrets
from shared.auth import hash_key
from shared.db import make_engine, make_sessionmaker

# Liability caps per shipment from SOP v1, in paise.
KNOWN_PARTNERS = [
    ("swiftship", "SwiftShip Logistics", "swiftship", 1_000_000, "SWIFTSHIP_SECRET"),
    ("rapidroute", "RapidRoute Express", "rapidroute", 500_000, "RAPIDROUTE_SECRET"),
    ("desipost", "DesiPost", "desipost", 250_000, "DESIPOST_API_KEY"),
]


async def seed_dev_partners(
    database_url: str, secrets: dict[str, str], *, environ: Mapping[str, str] | None = None
) -> None:
    """`environ` (the process environment by default) names the key that encrypts the HMAC
    secrets; the services reading them must be given the same."""
    at_rest = PartnerSecrets.from_environment(environ)
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            for partner_id, name, scheme, cap, secret_env in KNOWN_PARTNERS:
                await session.execute(
                    pg_insert(Partner)
                    .values(
                        partner_id=partner_id,
                        display_name=name,
                        scheme=scheme,
                        liability_cap=cap,
                        rate_limit_per_s=200,
                        active=True,
                    )
                    .on_conflict_do_nothing()
                )
                await session.execute(
                    delete(PartnerSecret).where(PartnerSecret.partner_id == partner_id)
                )
                secret = secrets[secret_env]
                hashed_only = scheme == "desipost"  # a plain API key: keep only its hash
                session.add(
                    PartnerSecret(
                        partner_id=partner_id,
                        secret_encrypted=None
                        if hashed_only
                        else at_rest.encrypt(partner_id=partner_id, secret=secret),
                        secret_hash=hash_key(secret) if hashed_only else None,
                    )
                )
    finally:
        await engine.dispose()
