"""SQL of holds that spans both kinds of held item (escalations and partner scans)."""

from __future__ import annotations

from services.intake.models import Escalation, HeldScan

# Whether an escalation or a scan waits for the feed entry of the return `:return_id`: an SQL
# boolean for the statement that stores a feed entry (`returns.repository.store_new_return`),
# so that the usual entry, for which nothing waits, asks in the same round trip.
ANYTHING_HELD_SQL = f"""(
    EXISTS (SELECT 1 FROM {Escalation.__tablename__}
             WHERE return_id = :return_id AND state = 'pending_return')
    OR EXISTS (SELECT 1 FROM {HeldScan.__tablename__}
                WHERE return_id = :return_id AND state = 'held')
)"""
