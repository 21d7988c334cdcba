"""Assessment revisions: an event can be re-assessed when fraud learns more about its parties.

Revision ID: c3b1d2e4f5a6
Revises: 9f70606a290f
Create Date: 2026-11-26 16:05:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c3b1d2e4f5a6"
down_revision = "9f70606a290f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "assessments", sa.Column("revision", sa.Integer(), nullable=False, server_default="0")
    )
    op.drop_constraint("assessments_subject_event_id_key", "assessments", type_="unique")
    op.create_index(
        "uq_assessments_subject_revision",
        "assessments",
        ["subject_event_id", "revision"],
        unique=True,
    )
    # An alert looks up the recent events of its entity: claims by seller, buyer or QC agent,
    # journeys by pickup agent or hub.
    op.create_index("ix_return_facts_seller_claimed", "return_facts", ["seller_id", "claimed_at"])
    op.create_index("ix_return_facts_buyer_claimed", "return_facts", ["buyer_id", "claimed_at"])
    op.create_index(
        "ix_return_facts_qc_agent_claimed", "return_facts", ["qc_agent_id", "claimed_at"]
    )
    op.create_index("ix_return_facts_qc_hub_claimed", "return_facts", ["qc_hub_id", "claimed_at"])
    op.create_index(
        "ix_return_facts_agent_terminal", "return_facts", ["pickup_agent_id", "terminal_at"]
    )
    op.create_index(
        "ix_return_facts_hubs",
        "return_facts",
        ["hubs"],
        postgresql_using="gin",
        postgresql_ops={"hubs": "jsonb_path_ops"},
    )


def downgrade() -> None:
    for name in (
        "ix_return_facts_hubs",
        "ix_return_facts_agent_terminal",
        "ix_return_facts_qc_hub_claimed",
        "ix_return_facts_qc_agent_claimed",
        "ix_return_facts_buyer_claimed",
        "ix_return_facts_seller_claimed",
    ):
        op.drop_index(name, table_name="return_facts")
    op.drop_index("uq_assessments_subject_revision", table_name="assessments")
    op.create_unique_constraint(
        "assessments_subject_event_id_key", "assessments", ["subject_event_id"]
    )
    op.drop_column("assessments", "revision")
