"""Backfill where each buyer's named claims fell, per QC hub.

Since this revision a QC entity's contradictions leave its counts when the buyer is named on
returns it did not pass (`qc_contradiction.named_elsewhere`): that needs the buyer's named claims
on each hub's passes (pair kind `qc_hub_buyer`, metric `named`), as the agents' were counted
already. Returns scored before it left no such count, and every contradicting buyer of a hub
would otherwise look named elsewhere; the facts hold what is needed, counted the way scoring
counts it: QC passed, the claim naming the buyer, the parcel unharmed in transit.

Revision ID: 5b3e9d0c7a21
Revises: 44c8b12d5458
Create Date: 2026-12-04 18:10:00+00:00
"""

from alembic import op

revision = "5b3e9d0c7a21"
down_revision = "44c8b12d5458"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM pair_counts WHERE kind = 'qc_hub_buyer' AND metric = 'named'")
    op.execute("""
        INSERT INTO pair_counts (kind, left_id, right_id, metric, n)
        SELECT 'qc_hub_buyer', qc_hub_id, buyer_id, 'named', count(*)
        FROM return_facts
        WHERE qc_result = 'PASSED' AND NOT incident
          AND claim_type IN ('WRONG_ITEM', 'USED_ITEM', 'MISSING_ITEM')
          AND qc_hub_id <> '' AND buyer_id <> ''
        GROUP BY qc_hub_id, buyer_id
    """)


def downgrade() -> None:
    # Before this revision the count was not kept.
    op.execute("DELETE FROM pair_counts WHERE kind = 'qc_hub_buyer' AND metric = 'named'")
