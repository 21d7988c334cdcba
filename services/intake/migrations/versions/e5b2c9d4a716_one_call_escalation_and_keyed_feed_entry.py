"""Two functions: a seller escalation on a named return as one autocommitted call
(`intake_file_escalation`), and a keyed feed entry as one (`intake_store_new_return_keyed`).

A keyed escalation took five round trips: the `Idempotency-Key`'s claim (autocommitted), then
BEGIN, the filing (the escalation with its outbox row and history line, the owner's check in the
same statement), the completion (the answer stored on the claim) and COMMIT; an unkeyed one the
middle three. The call does the same work in one transaction of its own, in another order: the
owner's check first (a return's seller never changes once the feed named it, so reading it
before the key changes no answer), then the key's row, inserted already completed with the
answer, and the filing. The key's row is seen by others only when the call commits, with the
filing, where the transactional path's claim is seen before the owner is read: a twin meanwhile
waits for the call rather than being told the key is in flight. The call writes only when the
return is named and is the filing's seller's and the key is new; otherwise it writes nothing
and says so, and the caller takes the transactional path, which holds the filing for the feed,
refuses another seller's return, or answers the key's earlier request (stored answer, 422, 409)
exactly as before (`services/intake/escalations/`).

A concurrent twin under the same key waits on the key's primary key for the call to end, then
finds the key taken and is answered the stored answer: one escalation. The key's row is
completed at `now()`, the clock of its `created_at` default, so it is never completed before it
was created.

The texts of the writes are frozen here, as a migration's must be; the statements the
transactional path sends (`escalations.repository._FILE_ON_NAMED_RETURN`,
`shared.idempotency`) write the same rows, and
`tests/integration/test_escalation_one_call.py` holds the two to the same rows.

A feed entry with an `Idempotency-Key` took the key's claim, BEGIN, the return's lock, the
storing statement, the completion and COMMIT; `intake_store_new_return_keyed` writes the key's
row completed with the answer and then calls `intake_store_new_return` (d3a8f1c6b2e4) as a
keyless entry does, in one transaction; when that writes nothing, the key's row is deleted
again and the caller takes the transaction (`tests/integration/test_feed_entry_one_call.py`).
The call names `intake_store_new_return` unqualified and by its argument list: the two change
together (a later migration replacing that function, or changing its arguments, replaces this
one in the same revision).

Revision ID: e5b2c9d4a716
Revises: d3a8f1c6b2e4
Create Date: 2026-12-06 03:00:00+00:00
"""

from alembic import op

revision = "e5b2c9d4a716"
down_revision = "d3a8f1c6b2e4"
branch_labels = None
depends_on = None

_ARGUMENTS = """
    p_client_id varchar, p_key varchar, p_route varchar, p_request_hash varchar,
    p_response_status integer, p_response_body jsonb,
    p_escalation_id varchar, p_return_id varchar, p_seller_id varchar, p_claim_type varchar,
    p_claimed_amount bigint, p_description text, p_evidence jsonb, p_received_weight_g integer,
    p_channel varchar, p_filed_by varchar, p_filed_at timestamptz, p_seller_contact text,
    p_state varchar,
    p_payload jsonb, p_ce_id uuid, p_ce_type varchar, p_ce_source varchar,
    p_ce_time timestamptz, p_ce_subject varchar, p_topic varchar, p_event_key varchar,
    p_traceparent varchar, p_occurred_at timestamptz, p_recorded_at timestamptz,
    p_logged jsonb
"""
_RETURN_ARGUMENTS = """
    p_return_id varchar, p_seller_id varchar, p_partner_id varchar, p_awb varchar,
    p_payload jsonb, p_ce_id uuid, p_ce_type varchar, p_ce_source varchar,
    p_ce_time timestamptz, p_ce_subject varchar, p_topic varchar, p_event_key varchar,
    p_traceparent varchar, p_occurred_at timestamptz, p_recorded_at timestamptz,
    p_logged jsonb
"""


def upgrade() -> None:
    op.execute(
        f"""
CREATE FUNCTION intake_file_escalation({_ARGUMENTS}) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_owner varchar;
BEGIN
    SELECT seller_id INTO v_owner FROM returns WHERE return_id = p_return_id;
    IF v_owner IS DISTINCT FROM p_seller_id THEN
        RETURN 'not_named';  -- not fed yet, or another seller's: the transaction decides
    END IF;
    IF p_client_id IS NOT NULL THEN
        -- A twin in flight holds the key's index entry: this waits for it to end.
        INSERT INTO idempotency_keys (client_id, key, route, request_hash, response_status,
                                      response_body, completed_at)
        VALUES (p_client_id, p_key, p_route, p_request_hash, p_response_status,
                p_response_body, now())
        ON CONFLICT (client_id, key) DO NOTHING;
        IF NOT FOUND THEN
            RETURN 'key_taken';  -- the transaction answers it from the key's row
        END IF;
    END IF;
    INSERT INTO escalations (escalation_id, return_id, seller_id, claim_type, claimed_amount,
                             description, evidence, received_weight_g, channel, filed_by,
                             filed_at, seller_contact, state)
    VALUES (p_escalation_id, p_return_id, p_seller_id, p_claim_type, p_claimed_amount,
            p_description, p_evidence, p_received_weight_g, p_channel, p_filed_by, p_filed_at,
            p_seller_contact, p_state);
    INSERT INTO outbox (ce_id, ce_type, ce_source, ce_time, ce_subject, topic, key, payload,
                        traceparent)
    VALUES (p_ce_id, p_ce_type, p_ce_source, p_ce_time, p_ce_subject, p_topic, p_event_key,
            p_payload, p_traceparent);
    INSERT INTO return_events (ce_id, return_id, ce_type, occurred_at, recorded_at, payload)
    VALUES (p_ce_id, p_return_id, p_ce_type, p_occurred_at, p_recorded_at, p_logged);
    RETURN 'filed';
END
$$
"""
    )

    # A keyed feed entry: the key's row first (a twin in flight waits for this call to end),
    # then the keyless entry's call; when that writes nothing (the return is held for or known)
    # the key's row goes too, so the call leaves nothing and the transaction answers.
    op.execute(
        f"""
CREATE FUNCTION intake_store_new_return_keyed(
    p_client_id varchar, p_key varchar, p_route varchar, p_request_hash varchar,
    p_response_status integer, p_response_body jsonb,
    {_RETURN_ARGUMENTS}
) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_outcome text;
BEGIN
    INSERT INTO idempotency_keys (client_id, key, route, request_hash, response_status,
                                  response_body, completed_at)
    VALUES (p_client_id, p_key, p_route, p_request_hash, p_response_status, p_response_body,
            now())
    ON CONFLICT (client_id, key) DO NOTHING;
    IF NOT FOUND THEN
        RETURN 'key_taken';
    END IF;
    v_outcome := intake_store_new_return(
        p_return_id, p_seller_id, p_partner_id, p_awb, p_payload, p_ce_id, p_ce_type,
        p_ce_source, p_ce_time, p_ce_subject, p_topic, p_event_key, p_traceparent,
        p_occurred_at, p_recorded_at, p_logged);
    IF v_outcome <> 'stored' THEN
        DELETE FROM idempotency_keys WHERE client_id = p_client_id AND key = p_key;
    END IF;
    RETURN v_outcome;
END
$$
"""
    )


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION intake_store_new_return_keyed(varchar, varchar, varchar, varchar, "
        "integer, jsonb, varchar, varchar, varchar, varchar, jsonb, uuid, varchar, "
        "varchar, timestamptz, varchar, varchar, varchar, varchar, timestamptz, timestamptz, "
        "jsonb)"
    )
    op.execute(
        "DROP FUNCTION intake_file_escalation(varchar, varchar, varchar, varchar, integer, "
        "jsonb, varchar, varchar, varchar, varchar, bigint, text, jsonb, integer, "
        "varchar, varchar, timestamptz, text, varchar, jsonb, uuid, varchar, varchar, "
        "timestamptz, varchar, varchar, varchar, varchar, timestamptz, timestamptz, jsonb)"
    )
