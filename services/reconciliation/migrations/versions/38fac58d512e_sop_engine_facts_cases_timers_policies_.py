"""sop engine: facts, cases, timers, policies, ledger

Seeds policy sop-v1 (a frozen copy of services/reconciliation/policy/sop_v1.py as adopted;
a test keeps the two equal) and makes the ledger append-only and balanced per transaction.

Revision ID: 38fac58d512e
Revises: 3bc3c14a1cde
Create Date: 2026-11-26 10:04:49.408649
"""

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "38fac58d512e"
down_revision = "3bc3c14a1cde"
branch_labels = None
depends_on = None


# The SOP v1 definition as adopted. Later revisions get their own migration and version row.
SOP_V1_DEFINITION = json.loads(r"""
{
    "approval_cap_paise": 2500000,
    "evidence": {
        "DAMAGED": {
            "alternatives": [
                {
                    "min_counts": {
                        "UNBOXING_VIDEO": 1
                    },
                    "needs_received_weight": false
                },
                {
                    "min_counts": {
                        "LABEL_PHOTO": 1,
                        "PHOTO": 2
                    },
                    "needs_received_weight": false
                }
            ],
            "checklist": [
                "An unboxing video of the returned parcel, or",
                "At least 2 photos of the item and 1 photo of the shipping label"
            ]
        },
        "MISSING_ITEM": {
            "alternatives": [
                {
                    "min_counts": {
                        "UNBOXING_VIDEO": 1
                    },
                    "needs_received_weight": true
                }
            ],
            "checklist": [
                "An unboxing video of the returned parcel",
                "The weight of the parcel as you received it, in grams"
            ]
        },
        "NOT_RECEIVED": {
            "alternatives": [],
            "checklist": []
        },
        "USED_ITEM": {
            "alternatives": [
                {
                    "min_counts": {
                        "UNBOXING_VIDEO": 1
                    },
                    "needs_received_weight": false
                },
                {
                    "min_counts": {
                        "LABEL_PHOTO": 1,
                        "PHOTO": 2
                    },
                    "needs_received_weight": false
                }
            ],
            "checklist": [
                "An unboxing video of the returned parcel, or",
                "At least 2 photos of the item and 1 photo of the shipping label"
            ]
        },
        "WRONG_ITEM": {
            "alternatives": [
                {
                    "min_counts": {
                        "UNBOXING_VIDEO": 1
                    },
                    "needs_received_weight": false
                },
                {
                    "min_counts": {
                        "LABEL_PHOTO": 1,
                        "PHOTO": 2
                    },
                    "needs_received_weight": false
                }
            ],
            "checklist": [
                "An unboxing video of the returned parcel, or",
                "At least 2 photos of the item and 1 photo of the shipping label"
            ]
        }
    },
    "liability": {
        "L1": {
            "liable_party": "PARTNER",
            "payout_pct": 100,
            "summary": "Partner declared the parcel lost."
        },
        "L10": {
            "liable_party": "BUYER",
            "payout_pct": 100,
            "summary": "No QC at pickup; wrong, used or missing item claimed."
        },
        "L11": {
            "liable_party": "BUYER",
            "payout_pct": 50,
            "summary": "No QC at pickup; damage claimed."
        },
        "L12": {
            "liable_party": null,
            "payout_pct": 0,
            "summary": "No rule matched: a person reviews the case."
        },
        "L2": {
            "liable_party": "PARTNER",
            "payout_pct": 100,
            "summary": "Partner declared the parcel damaged in transit."
        },
        "L3": {
            "liable_party": "PARTNER",
            "payout_pct": 100,
            "summary": "Not received, no delivery scan, filed after the waiting period."
        },
        "L4": {
            "liable_party": "SELLER",
            "payout_pct": 0,
            "summary": "Not received, but delivered with OTP-verified proof."
        },
        "L5": {
            "liable_party": "PARTNER",
            "payout_pct": 100,
            "summary": "Not received, delivered without OTP-verified proof."
        },
        "L6": {
            "liable_party": "PARTNER",
            "payout_pct": 100,
            "summary": "Weight dropped between pickup and delivery."
        },
        "L7": {
            "liable_party": "PARTNER",
            "payout_pct": 100,
            "summary": "QC failed at pickup but the parcel was picked up anyway."
        },
        "L8": {
            "liable_party": "PARTNER",
            "payout_pct": 100,
            "summary": "QC passed at pickup; wrong, used or missing item claimed."
        },
        "L9": {
            "liable_party": "PARTNER",
            "payout_pct": 100,
            "summary": "QC passed at pickup; damage claimed."
        }
    },
    "partner_caps_paise": {
        "desipost": 250000,
        "rapidroute": 500000,
        "swiftship": 1000000
    },
    "timers": {
        "acknowledgement_min": 5,
        "auto_decision_min": 10,
        "evidence_reply_h": 72,
        "facts_wait_h": 48,
        "fraud_wait_min": 5,
        "review_sla_h": 48
    },
    "unknown_partner_cap_paise": 0,
    "version": "sop-v1",
    "weight_drop": {
        "min_drop_g": 50,
        "min_drop_pct": 10
    },
    "windows": {
        "appeal_window_days": 7,
        "claim_window_h": 168,
        "not_received_earliest_days": 10,
        "not_received_latest_days": 45
    }
}
""")

LEDGER_GUARDS = [
    """
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$
""",
    """
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only()
""",
    """
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()
""",
    """
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only()
""",
    """
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()
""",
    """
-- Checked at commit, so a transaction's lines can be inserted one by one.
CREATE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO total
      FROM ledger_entries WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: lines sum to % paise',
            NEW.transaction_id, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
""",
    """
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances()
""",
]

LEDGER_GUARDS_DOWN = [
    "DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries",
    "DROP TRIGGER IF EXISTS ledger_entries_append_only ON ledger_entries",
    "DROP TRIGGER IF EXISTS ledger_entries_no_truncate ON ledger_entries",
    "DROP TRIGGER IF EXISTS ledger_transactions_append_only ON ledger_transactions",
    "DROP TRIGGER IF EXISTS ledger_transactions_no_truncate ON ledger_transactions",
    "DROP FUNCTION IF EXISTS ledger_transaction_balances()",
    "DROP FUNCTION IF EXISTS ledger_append_only()",
]


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "idempotency_keys",
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("route", sa.String(length=300), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("client_id", "key"),
    )
    op.create_table(
        "appeals",
        sa.Column("ce_id", sa.UUID(), nullable=False),
        sa.Column("escalation_id", sa.String(length=64), nullable=False),
        sa.Column("return_id", sa.String(length=64), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disposition", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("ce_id"),
    )
    op.create_index(op.f("ix_appeals_return_id"), "appeals", ["return_id"], unique=False)
    op.create_table(
        "assessments",
        sa.Column("assessment_id", sa.UUID(), nullable=False),
        sa.Column("subject_event_id", sa.UUID(), nullable=False),
        sa.Column("subject_type", sa.String(length=200), nullable=False),
        sa.Column("return_id", sa.String(length=64), nullable=False),
        sa.Column("escalation_id", sa.String(length=64), nullable=True),
        sa.Column("band", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("assessment_id"),
    )
    op.create_index(
        op.f("ix_assessments_escalation_id"), "assessments", ["escalation_id"], unique=False
    )
    op.create_index(op.f("ix_assessments_return_id"), "assessments", ["return_id"], unique=False)
    op.create_index(
        op.f("ix_assessments_subject_event_id"), "assessments", ["subject_event_id"], unique=False
    )
    op.create_table(
        "escalations",
        sa.Column("escalation_id", sa.String(length=64), nullable=False),
        sa.Column("ce_id", sa.UUID(), nullable=False),
        sa.Column("return_id", sa.String(length=64), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("claim_type", sa.String(length=20), nullable=False),
        sa.Column("claimed_amount", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("evidence", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_weight_g", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_by", sa.String(length=200), nullable=False),
        sa.Column("seller_email", sa.String(length=254), nullable=True),
        sa.Column("disposition", sa.String(length=20), nullable=True),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("escalation_id"),
        sa.UniqueConstraint("ce_id"),
    )
    op.create_index(op.f("ix_escalations_return_id"), "escalations", ["return_id"], unique=False)
    op.create_table(
        "evidence_additions",
        sa.Column("ce_id", sa.UUID(), nullable=False),
        sa.Column("escalation_id", sa.String(length=64), nullable=False),
        sa.Column("return_id", sa.String(length=64), nullable=False),
        sa.Column("evidence", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_weight_g", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ce_id"),
    )
    op.create_index(
        op.f("ix_evidence_additions_return_id"), "evidence_additions", ["return_id"], unique=False
    )
    op.create_table(
        "ledger_transactions",
        sa.Column("transaction_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reverses", sa.UUID(), nullable=True),
        sa.Column("policy_version", sa.String(length=40), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("transaction_id"),
        sa.UniqueConstraint("seq"),
    )
    op.create_index(
        op.f("ix_ledger_transactions_case_id"), "ledger_transactions", ["case_id"], unique=False
    )
    op.create_table(
        "policies",
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "refunds",
        sa.Column("refund_id", sa.String(length=64), nullable=False),
        sa.Column("return_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("refund_id"),
    )
    op.create_index(op.f("ix_refunds_return_id"), "refunds", ["return_id"], unique=False)
    op.create_table(
        "returns",
        sa.Column("return_id", sa.String(length=64), nullable=False),
        sa.Column("ce_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("item_value", sa.BigInteger(), nullable=False),
        sa.Column("qc_required", sa.Boolean(), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("awb", sa.String(length=64), nullable=False),
        sa.Column("initiated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("return_id"),
    )
    op.create_table(
        "shipment_events",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("ce_id", sa.UUID(), nullable=False),
        sa.Column("return_id", sa.String(length=64), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("weight_g", sa.Integer(), nullable=True),
        sa.Column("pod_otp_verified", sa.Boolean(), nullable=True),
        sa.Column("hub_id", sa.String(length=64), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("qc_failure_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index(
        op.f("ix_shipment_events_return_id"), "shipment_events", ["return_id"], unique=False
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=120), nullable=False),
        sa.Column("account_type", sa.String(length=40), nullable=False),
        sa.Column("counterparty_id", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount <> 0", name="ck_ledger_entries_nonzero"),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.transaction_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_ledger_entries_account"), "ledger_entries", ["account"], unique=False)
    op.create_index(op.f("ix_ledger_entries_case_id"), "ledger_entries", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_ledger_entries_posted_at"), "ledger_entries", ["posted_at"], unique=False
    )
    op.create_index(
        op.f("ix_ledger_entries_transaction_id"), "ledger_entries", ["transaction_id"], unique=False
    )
    op.create_table(
        "timers",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.case_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_timers_case_id"), "timers", ["case_id"], unique=False)
    op.create_index(
        "ix_timers_due",
        "timers",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("fired_at IS NULL AND cancelled_at IS NULL"),
    )
    op.create_index(
        "uq_timers_pending_kind",
        "timers",
        ["case_id", "kind"],
        unique=True,
        postgresql_where=sa.text("fired_at IS NULL AND cancelled_at IS NULL"),
    )
    op.add_column("cases", sa.Column("buyer_id", sa.String(length=64), nullable=True))
    op.add_column("cases", sa.Column("trigger_rule", sa.String(length=10), nullable=True))
    op.add_column("cases", sa.Column("trigger_ce_id", sa.UUID(), nullable=True))
    op.add_column("cases", sa.Column("primary_escalation_id", sa.String(length=64), nullable=True))
    op.add_column("cases", sa.Column("reason_code", sa.String(length=40), nullable=True))
    op.add_column("cases", sa.Column("fraud_band", sa.String(length=10), nullable=True))
    op.add_column("cases", sa.Column("assignee", sa.String(length=200), nullable=True))
    op.add_column("cases", sa.Column("reply_by", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cases", sa.Column("evidence_requested_by", sa.String(length=200), nullable=True))
    op.add_column(
        "cases", sa.Column("sla_used_s", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("cases", sa.Column("sla_started_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "cases", sa.Column("sla_breached", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("cases", sa.Column("timer_kind", sa.String(length=30), nullable=True))
    op.add_column("cases", sa.Column("timer_due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "cases",
        sa.Column("facts_wait_over", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "cases",
        sa.Column("fraud_wait_over", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "cases", sa.Column("decision", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column(
        "cases", sa.Column("proposal", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column("cases", sa.Column("proposed_by", sa.String(length=200), nullable=True))
    op.add_column("cases", sa.Column("decided_by", sa.String(length=200), nullable=True))
    op.add_column("cases", sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cases", sa.Column("appeal_by", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cases", sa.Column("payout", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_index(op.f("ix_cases_assignee"), "cases", ["assignee"], unique=False)
    op.create_index(op.f("ix_cases_partner_id"), "cases", ["partner_id"], unique=False)
    op.create_index("ix_cases_queue", "cases", ["opened_at", "case_id"], unique=False)
    # ### end Alembic commands ###
    for statement in LEDGER_GUARDS:
        op.execute(statement)
    policies = sa.table(
        "policies",
        sa.column("version", sa.String),
        sa.column("status", sa.String),
        sa.column("definition", postgresql.JSONB),
        sa.column("adopted_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        policies.insert().values(
            version="sop-v1",
            status="ACTIVE",
            definition=SOP_V1_DEFINITION,
            adopted_at=sa.func.now(),
        )
    )


def downgrade() -> None:
    for statement in LEDGER_GUARDS_DOWN:
        op.execute(statement)
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_table("idempotency_keys")
    op.drop_index("ix_cases_queue", table_name="cases")
    op.drop_index(op.f("ix_cases_partner_id"), table_name="cases")
    op.drop_index(op.f("ix_cases_assignee"), table_name="cases")
    op.drop_column("cases", "payout")
    op.drop_column("cases", "appeal_by")
    op.drop_column("cases", "decided_at")
    op.drop_column("cases", "decided_by")
    op.drop_column("cases", "proposed_by")
    op.drop_column("cases", "proposal")
    op.drop_column("cases", "decision")
    op.drop_column("cases", "fraud_wait_over")
    op.drop_column("cases", "facts_wait_over")
    op.drop_column("cases", "timer_due_at")
    op.drop_column("cases", "timer_kind")
    op.drop_column("cases", "sla_breached")
    op.drop_column("cases", "sla_started_at")
    op.drop_column("cases", "sla_used_s")
    op.drop_column("cases", "evidence_requested_by")
    op.drop_column("cases", "reply_by")
    op.drop_column("cases", "assignee")
    op.drop_column("cases", "fraud_band")
    op.drop_column("cases", "reason_code")
    op.drop_column("cases", "primary_escalation_id")
    op.drop_column("cases", "trigger_ce_id")
    op.drop_column("cases", "trigger_rule")
    op.drop_column("cases", "buyer_id")
    op.drop_index(
        "uq_timers_pending_kind",
        table_name="timers",
        postgresql_where=sa.text("fired_at IS NULL AND cancelled_at IS NULL"),
    )
    op.drop_index(
        "ix_timers_due",
        table_name="timers",
        postgresql_where=sa.text("fired_at IS NULL AND cancelled_at IS NULL"),
    )
    op.drop_index(op.f("ix_timers_case_id"), table_name="timers")
    op.drop_table("timers")
    op.drop_index(op.f("ix_ledger_entries_transaction_id"), table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_posted_at"), table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_case_id"), table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_account"), table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_index(op.f("ix_shipment_events_return_id"), table_name="shipment_events")
    op.drop_table("shipment_events")
    op.drop_table("returns")
    op.drop_index(op.f("ix_refunds_return_id"), table_name="refunds")
    op.drop_table("refunds")
    op.drop_table("policies")
    op.drop_index(op.f("ix_ledger_transactions_case_id"), table_name="ledger_transactions")
    op.drop_table("ledger_transactions")
    op.drop_index(op.f("ix_evidence_additions_return_id"), table_name="evidence_additions")
    op.drop_table("evidence_additions")
    op.drop_index(op.f("ix_escalations_return_id"), table_name="escalations")
    op.drop_table("escalations")
    op.drop_index(op.f("ix_assessments_subject_event_id"), table_name="assessments")
    op.drop_index(op.f("ix_assessments_return_id"), table_name="assessments")
    op.drop_index(op.f("ix_assessments_escalation_id"), table_name="assessments")
    op.drop_table("assessments")
    op.drop_index(op.f("ix_appeals_return_id"), table_name="appeals")
    op.drop_table("appeals")
    # ### end Alembic commands ###
