"""A webhook whose scans are ahead of their returns' feed entries, as one autocommitted call:
`intake_record_or_hold_scans`.

Such a request (every scan of a return the feed has not announced yet, or of one the feed gave
this partner under the scan's AWB) took the request's transaction: eight round trips (BEGIN,
the archive, the owners read, the return's advisory lock, the owners read again, the hold, the
verdict, COMMIT). The lock must come before the owners are read, and one statement's snapshot is
taken before anything in it runs; a VOLATILE function's statements each take a fresh snapshot,
so the locks, the read and the writes go in one call, which is its own transaction and decides
as `partners.service._emit` does. It declines, having written nothing, a request archived
before (a redelivery, judged against its copy) and one with a scan of another partner's or
another AWB's return (refused and counted by the transactional path); the caller then takes
the transaction.

What to archive (verdict, detail) for each number of new events and newly held scans is the
caller's, as `outcomes[fresh][held]`; the call adds the held scans' ids to the detail. A twin
of the request archived by another call at the same moment makes this one fail with SQLSTATE
DDH01, its writes rolled back with it: the caller takes the transaction, which judges it
against the twin's copy.

The text of the writes is frozen here, as a migration's must be; the transactional path writes
the same rows, and `tests/integration/test_webhook_round_trips.py` holds the two to them.

Revision ID: b5e1c7a3d9f4
Revises: a8d4e2f6c913
Create Date: 2026-12-07 19:40:00+00:00
"""

from alembic import op

revision = "b5e1c7a3d9f4"
down_revision = "a8d4e2f6c913"
branch_labels = None
depends_on = None

# Each scan as `partners.repository.OwnedScans.rows` carries it, numbered in request order.
_INCOMING = """jsonb_to_recordset(p_rows) AS i(
        ordinal int, event_id uuid, partner_id varchar, partner_event_id varchar,
        return_id varchar, awb varchar, event_type varchar, occurred_at timestamptz,
        raw_ref uuid, payload jsonb, recorded_at timestamptz, ce_type varchar,
        ce_source varchar, ce_time timestamptz, ce_subject varchar, topic varchar,
        key varchar, traceparent varchar)"""


def upgrade() -> None:
    # 21061 = 0x5245 ("RE"), the lock class of return ids (`returns.repository.lock_return_id`).
    op.execute(
        f"""
CREATE FUNCTION intake_record_or_hold_scans(
    p_rows jsonb, p_raw_id uuid, p_partner_id varchar, p_request_key varchar,
    p_received_at timestamptz, p_headers jsonb, p_body bytea, p_outcomes jsonb,
    OUT outcome text, OUT recorded text[], OUT held text[]
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_return_id varchar;
    v_picked jsonb;
    v_detail jsonb;
BEGIN
    recorded := '{{}}';
    held := '{{}}';
    IF EXISTS (SELECT 1 FROM raw_requests
                WHERE partner_id = p_partner_id AND request_key = p_request_key) THEN
        outcome := 'declined';
        RETURN;
    END IF;
    -- The returns not known yet, locked in the order the transactional path takes them
    -- (Python's string order): a hold and the feed entry of its return are serialised.
    FOR v_return_id IN
        SELECT DISTINCT i.return_id COLLATE "C" FROM {_INCOMING}
         WHERE NOT EXISTS (SELECT 1 FROM returns r WHERE r.return_id = i.return_id)
         ORDER BY 1
    LOOP
        PERFORM pg_advisory_xact_lock(21061, hashtext(v_return_id));
    END LOOP;
    -- After the locks, in a snapshot of their own: every return whose feed entry committed.
    IF EXISTS (SELECT 1 FROM {_INCOMING} JOIN returns r ON r.return_id = i.return_id
                WHERE r.partner_id <> p_partner_id OR r.awb <> i.awb) THEN
        outcome := 'declined';
        RETURN;
    END IF;
    WITH fresh AS (
        INSERT INTO shipment_events (event_id, partner_id, partner_event_id, return_id,
                                     event_type, occurred_at, raw_ref, payload, recorded_at)
        SELECT i.event_id, i.partner_id, i.partner_event_id, i.return_id, i.event_type,
               i.occurred_at, i.raw_ref, i.payload, i.recorded_at
          FROM {_INCOMING} JOIN returns r ON r.return_id = i.return_id
         ORDER BY i.ordinal
        ON CONFLICT (partner_id, partner_event_id) DO NOTHING
        RETURNING event_id, partner_event_id
    ), published AS (
        INSERT INTO outbox (ce_id, ce_type, ce_source, ce_time, ce_subject, topic, key,
                            payload, traceparent)
        SELECT i.event_id, i.ce_type, i.ce_source, i.ce_time, i.ce_subject, i.topic, i.key,
               i.payload, i.traceparent
          FROM {_INCOMING} JOIN fresh f ON f.event_id = i.event_id
         ORDER BY i.ordinal
    )
    SELECT coalesce(array_agg(partner_event_id), '{{}}') INTO recorded FROM fresh;
    WITH newly AS (
        INSERT INTO held_scans (partner_id, partner_event_id, return_id, awb, raw_ref,
                                payload, held_at)
        SELECT i.partner_id, i.partner_event_id, i.return_id, i.awb, i.raw_ref, i.payload,
               i.recorded_at
          FROM {_INCOMING}
         WHERE NOT EXISTS (SELECT 1 FROM returns r WHERE r.return_id = i.return_id)
         ORDER BY i.ordinal
        ON CONFLICT (partner_id, partner_event_id) DO NOTHING
        RETURNING partner_event_id
    )
    SELECT coalesce(array_agg(n.partner_event_id ORDER BY i.ordinal), '{{}}') INTO held
      FROM newly n JOIN {_INCOMING} ON i.partner_event_id = n.partner_event_id;
    v_picked := p_outcomes -> cardinality(recorded) -> cardinality(held);
    v_detail := v_picked -> 'detail';
    IF cardinality(held) > 0 THEN
        v_detail := coalesce(nullif(v_detail, 'null'), '{{}}') || jsonb_build_object('held', held);
    END IF;
    INSERT INTO raw_requests (id, partner_id, request_key, received_at, headers, body, verdict,
                              events_emitted, detail)
    VALUES (p_raw_id, p_partner_id, p_request_key, p_received_at, p_headers, p_body,
            v_picked ->> 'verdict', cardinality(recorded), nullif(v_detail, 'null'))
    ON CONFLICT (partner_id, request_key) WHERE request_key IS NOT NULL DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'request % of partner % archived by another call', p_request_key,
            p_partner_id USING ERRCODE = 'DDH01';
    END IF;
    outcome := 'stored';
END
$$
"""
    )


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION intake_record_or_hold_scans(jsonb, uuid, varchar, varchar, timestamptz, "
        "jsonb, bytea, jsonb)"
    )
