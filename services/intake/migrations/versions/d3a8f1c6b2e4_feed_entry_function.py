"""A new return's feed entry as one autocommitted call: `intake_store_new_return`.

The feed entry took four round trips (BEGIN, the return's advisory lock, the statement storing
the return with its outbox row and history line, COMMIT). The lock must come before the check
for held escalations and scans, and one statement's snapshot is taken before anything in it
runs; a VOLATILE function's statements each take a fresh snapshot, so the lock, the check and
the writes go in one call, which is its own transaction. It writes only when nothing is held
for the return and the return is new; otherwise it writes nothing and says so, and the caller
takes the transaction that binds what is held or answers the resend
(`services/intake/returns/`).

The text of the writes is frozen here, as a migration's must be; the statement the transactional
path sends (`returns.repository._STORE_NEW_RETURN`) writes the same rows, and
`tests/integration/test_feed_entry_one_call.py` holds the two to the same rows.

`intake_store_new_return_keyed` (e5b2c9d4a716) calls this function unqualified and by its
argument list: the two change together (a migration replacing this one, or changing its
arguments, replaces that one in the same revision).

Revision ID: d3a8f1c6b2e4
Revises: 6b7d09a08350
Create Date: 2026-12-05 21:00:00+00:00
"""

from alembic import op

revision = "d3a8f1c6b2e4"
down_revision = "6b7d09a08350"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 21061 = 0x5245 ("RE"), the lock class of return ids (`returns.repository.lock_return_id`).
    op.execute(
        """
CREATE FUNCTION intake_store_new_return(
    p_return_id varchar, p_seller_id varchar, p_partner_id varchar, p_awb varchar,
    p_payload jsonb, p_ce_id uuid, p_ce_type varchar, p_ce_source varchar,
    p_ce_time timestamptz, p_ce_subject varchar, p_topic varchar, p_key varchar,
    p_traceparent varchar, p_occurred_at timestamptz, p_recorded_at timestamptz,
    p_logged jsonb
) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(21061, hashtext(p_return_id));
    -- After the lock, in a snapshot of its own: every hold decided for the return is seen.
    IF EXISTS (SELECT 1 FROM escalations
                WHERE return_id = p_return_id AND state = 'pending_return')
       OR EXISTS (SELECT 1 FROM held_scans WHERE return_id = p_return_id AND state = 'held')
    THEN
        RETURN 'held';
    END IF;
    INSERT INTO returns (return_id, seller_id, partner_id, awb, payload, ce_id)
    VALUES (p_return_id, p_seller_id, p_partner_id, p_awb, p_payload, p_ce_id)
    ON CONFLICT (return_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN 'known';
    END IF;
    INSERT INTO outbox (ce_id, ce_type, ce_source, ce_time, ce_subject, topic, key, payload,
                        traceparent)
    VALUES (p_ce_id, p_ce_type, p_ce_source, p_ce_time, p_ce_subject, p_topic, p_key,
            p_payload, p_traceparent);
    INSERT INTO return_events (ce_id, return_id, ce_type, occurred_at, recorded_at, payload)
    VALUES (p_ce_id, p_return_id, p_ce_type, p_occurred_at, p_recorded_at, p_logged);
    RETURN 'stored';
END
$$
"""
    )


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION intake_store_new_return(varchar, varchar, varchar, varchar, jsonb, uuid, "
        "varchar, varchar, timestamptz, varchar, varchar, varchar, varchar, timestamptz, "
        "timestamptz, jsonb)"
    )
