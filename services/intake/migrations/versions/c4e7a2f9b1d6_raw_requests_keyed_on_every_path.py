"""Every archived partner request keyed, and copies folded into the first: the common path too.

Migration f6c1a8e2d5b3 keyed the archive (`raw_requests.request_key`: the hex SHA-256 of the
partner's own request id, a NUL byte and the body) and kept one copy per key; but the common
webhook statement (every scan mapped and of a shipment the partner carries) went on archiving
each delivery with no key, so a partner resending one payload grew the archive by its whole
body every time. That statement now keys its rows and takes no request archived before
(`services/intake/partners/repository.py`).

Upgrade: the rows stored without a key since are keyed as f6c1a8e2d5b3 keyed them; of rows
sharing a key, the first received is kept, the scans naming another are pointed at it, their
emitted events added to its count, and the others deleted. The unique index is dropped for the
while and built again. Downgrade changes nothing: the keys fit the schema before, and the
deleted copies do not come back (they were the same bytes).

Revision ID: c4e7a2f9b1d6
Revises: f6c1a8e2d5b3
Create Date: 2026-12-07 00:00:00+00:00
"""

from alembic import op

revision = "c4e7a2f9b1d6"
down_revision = "f6c1a8e2d5b3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX uq_raw_requests_partner_request_key")
    op.execute(
        """
        UPDATE raw_requests
           SET request_key = encode(sha256(
                   convert_to(coalesce(headers->>'webhook-id', ''), 'UTF8')
                   || '\\x00'::bytea || body), 'hex')
         WHERE request_key IS NULL
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
    pass
