"""Backfill the QC agent–buyer pair counters from the return facts.

The counters (how many of a buyer's QC-passed deliveries each QC agent passed, and how many of
them were claimed as wrong, used or missing) came after the facts they count: returns scored
before them left no trace there, and a QC agent under alert would explain none of their claims.
The facts hold all that is needed, so the counters are recomputed from them, the way scoring
counts them: QC passed, delivered to the seller; named when the claim names the buyer and the
parcel kept its weight in transit.

Revision ID: e7a41c9d2b60
Revises: c3b1d2e4f5a6
Create Date: 2026-11-27 01:45:00+00:00
"""

from alembic import op

revision = "e7a41c9d2b60"
down_revision = "c3b1d2e4f5a6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM pair_counts WHERE kind = 'qc_agent_buyer'")
    op.execute("""
        INSERT INTO pair_counts (kind, left_id, right_id, metric, n)
        SELECT 'qc_agent_buyer', qc_agent_id, buyer_id, 'delivered', count(*)
        FROM return_facts
        WHERE qc_result = 'PASSED' AND terminal = 'DELIVERED_TO_SELLER'
          AND qc_agent_id <> '' AND buyer_id <> ''
        GROUP BY qc_agent_id, buyer_id
        UNION ALL
        SELECT 'qc_agent_buyer', qc_agent_id, buyer_id, 'named', count(*)
        FROM return_facts
        WHERE qc_result = 'PASSED' AND NOT incident
          AND claim_type IN ('WRONG_ITEM', 'USED_ITEM', 'MISSING_ITEM')
          AND qc_agent_id <> '' AND buyer_id <> ''
        GROUP BY qc_agent_id, buyer_id
    """)


def downgrade() -> None:
    # The counters were kept before this revision too; recomputed ones are as good.
    pass
