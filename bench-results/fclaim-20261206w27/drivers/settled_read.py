"""Read-only: what fraud's own claim-rate test reads of a seller at its latest counted claim on a
settled database (every scan in hand), against what its claims read when they were scored.

For each seller named: the latest counted claim's time, then `Assessor.reexamine_seller` as of
that time (the read `service.raise_at_latest_claims` makes when a late scan of a claimed return
moves its seller's counts), in a READ ONLY transaction that is rolled back. Prints the seller's
claim-abuse findings (counts, peer rate, a + b, log BF, whether it alerts).

usage: PYTHONPATH=<tree> python settled_read.py DATABASE_URL SELLER...
"""

import asyncio
import sys
from datetime import datetime

from sqlalchemy import text

from services.fraud.features import repository as features
from services.fraud.scoring.base import default_config
from services.fraud.scoring.service import Assessor
from shared.db import make_engine, make_sessionmaker


class At:
    """A payload stand-in that carries only a fact time (`base.fact_time` reads `filed_at`)."""

    def __init__(self, at: datetime) -> None:
        self.filed_at = at


async def main(url: str, sellers: list[str]) -> None:
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    cfg = default_config()
    for seller in sellers:
        async with maker() as session:
            await session.execute(text("SET TRANSACTION READ ONLY"))
            later = await features.latest_counted_claim(session, seller)
            if later is None or later.claimed_at is None:
                print(f"{seller}: no counted claim")
                continue
            a = Assessor(session, At(later.claimed_at), cfg)  # type: ignore[arg-type]
            with a.as_of(later.claimed_at):
                await a.reexamine_seller(later)
            found = a.evaluated.get(("seller", seller), [])
            for f in found:
                n = f.numbers
                print(
                    f"{seller} @ {later.claimed_at:%m-%d %H:%M}: {f.code} alert={f.alert} "
                    f"c={f.contribution:.2f} k={n.get('count')} n={n.get('trials')} "
                    f"peer={n.get('peer_rate')} a+b={n.get('peer_concentration')} "
                    f"logBF={n.get('log_bayes_factor')} explained={n.get('claims_explained_by_others')}"
                )
            if not found:
                print(f"{seller}: no finding")
            await session.rollback()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
