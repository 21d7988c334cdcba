"""An archived partner request kept once per partner and request identity.

A partner webhook whose scans are unmapped (or held, foreign or unreadable) is archived for
replay; a partner retrying it, or sending it twenty times at once, had it archived once per
delivery, though its scans were counted once. `raw_requests.request_key` is the hex SHA-256 of
the partner's own request id (swiftship's `webhook-id`; empty for a partner without one), a NUL
byte and the body, and a unique index on (partner_id, request_key) lets the transactional path
insert with `ON CONFLICT DO NOTHING` and take the row already there
(`services/intake/partners/`).

Upgrade: the key is computed for every row; of rows sharing one, the first received is kept,
the scans that name another (`unmapped_scans`, `held_scans`, `shipment_events`) are pointed at
it, their emitted events added to its count, and the others deleted; then the index is built.
Downgrade drops the index and the column; the deleted copies do not come back (they were the
same bytes).

Revision ID: f6c1a8e2d5b3
Revises: e5b2c9d4a716
Create Date: 2026-12-06 18:00:00+00:00
"""

from alembic import op

revision = "f6c1a8e2d5b3"
down_revision = "e5b2c9d4a716"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE raw_requests ADD COLUMN request_key varchar(64)")
    op.execute(
        """
        UPDATE raw_requests
           SET request_key = encode(sha256(
                   convert_to(coalesce(headers->>'webhook-id', ''), 'UTF8')
                   || '\\x00'::bytea || body), 'hex')
        """
    )
    op.execute(
        """
        CREATE TEMPORARY TABLE raw_request_copies ON COMMIT DROP AS
        SELECT id, kept FROM (
            SELECT id, first_value(id) OVER (
                       PARTITION BY partner_id, request_key ORDER BY received_at, id) AS kept
              FROM raw_requests) ranked
         WHERE id <> kept
        """
    )
    for table in ("unmapped_scans", "held_scans", "shipment_events"):
        op.execute(
            f"UPDATE {table} t SET raw_ref = c.kept "
            "FROM raw_request_copies c WHERE t.raw_ref = c.id"
        )
    op.execute(
        """
        UPDATE raw_requests k SET events_emitted = k.events_emitted + s.emitted
          FROM (SELECT c.kept, sum(r.events_emitted)::int AS emitted
                  FROM raw_request_copies c JOIN raw_requests r ON r.id = c.id
                 GROUP BY c.kept) s
         WHERE k.id = s.kept
        """
    )
    op.execute("DELETE FROM raw_requests r USING raw_request_copies c WHERE r.id = c.id")
    op.execute("DROP TABLE raw_request_copies")
    op.execute(
        "CREATE UNIQUE INDEX uq_raw_requests_partner_request_key "
        "ON raw_requests (partner_id, request_key) WHERE request_key IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX uq_raw_requests_partner_request_key")
    op.execute("ALTER TABLE raw_requests DROP COLUMN request_key")
