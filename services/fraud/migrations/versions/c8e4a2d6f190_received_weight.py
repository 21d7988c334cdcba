"""The weight a seller states it received, kept on the return's facts: where the partner weighed
none at delivery it tells whether the parcel was delivered light (sop-v1's weight drop), and a
parcel delivered light is no trial of its seller's claim rate
(`features.service.delivered_light`).

Revision ID: c8e4a2d6f190
Revises: b6d2f8a4c173
Create Date: 2026-12-07 16:30:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c8e4a2d6f190"
down_revision = "b6d2f8a4c173"
branch_labels = None
depends_on = None


# What the returns delivered light (the partner's weight at delivery below the pickup weight
# less max(50 g, 10 %); no received weight was kept before this revision) added to their
# sellers' and categories' claim-rate counters, by the counters' days: taken out on the way up,
# so a database's record reads as the new counting would have counted it; put back on the way
# down.
LIGHT_COUNTS = """
WITH light AS (
    SELECT seller_id, category, dear,
           (terminal_at AT TIME ZONE 'UTC')::date AS delivered_on,
           (claimed_at AT TIME ZONE 'UTC')::date AS claimed_on
    FROM return_facts
    WHERE terminal = 'DELIVERED_TO_SELLER' AND terminal_at IS NOT NULL
      AND pickup_weight_g IS NOT NULL AND delivered_weight_g IS NOT NULL
      AND delivered_weight_g < pickup_weight_g - greatest(50, pickup_weight_g / 10)
), rows AS (
    SELECT e.entity_type, e.entity_id, m.metric, m.day
    FROM light l
    CROSS JOIN LATERAL (VALUES
        ('seller', l.seller_id),
        ('category', l.category),
        ('category_seller', CASE WHEN l.category <> '' AND l.seller_id <> ''
                                 THEN l.category || '|' || l.seller_id END)
    ) AS e(entity_type, entity_id)
    CROSS JOIN LATERAL (VALUES
        ('delivered', l.delivered_on),
        ('delivered_high_value', CASE WHEN l.dear THEN l.delivered_on END),
        ('claims', l.claimed_on),
        ('claims_high_value', CASE WHEN l.dear THEN l.claimed_on END)
    ) AS m(metric, day)
    WHERE e.entity_id IS NOT NULL AND e.entity_id <> '' AND m.day IS NOT NULL
)
SELECT entity_type, entity_id, metric, day, count(*) AS n FROM rows
GROUP BY entity_type, entity_id, metric, day
"""


def _move(sign: int) -> None:
    op.execute(
        f"""
        INSERT INTO feature_counts (entity_type, entity_id, metric, day, n)
        SELECT entity_type, entity_id, metric, day, {sign} * n FROM ({LIGHT_COUNTS}) AS c
        ON CONFLICT (entity_type, entity_id, metric, day)
        DO UPDATE SET n = feature_counts.n + EXCLUDED.n
        """
    )


def upgrade() -> None:
    op.add_column("return_facts", sa.Column("received_weight_g", sa.Integer(), nullable=True))
    _move(-1)


def downgrade() -> None:
    _move(1)
    op.drop_column("return_facts", "received_weight_g")
