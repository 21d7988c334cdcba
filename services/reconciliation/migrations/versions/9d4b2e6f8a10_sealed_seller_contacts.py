"""seller addresses sealed: cases and escalation facts keep only a sealed contact

`cases.seller_email` and `escalations.seller_email` (plaintext) become `seller_contact`, the
address sealed to notifications' public key (shared/pii.py); reconciliation cannot read it.
Existing addresses are sealed here, so upgrading a database that holds some needs
DISPUTEDESK_PII_PUBLIC_KEY (or _FILE) in the environment of `disputedesk migrate` (a public key:
nothing secret); without it the upgrade stops before changing anything. Case events still in
the outbox are sealed too; published ones lose the address.

Revision ID: 9d4b2e6f8a10
Revises: 25989a7e8266
Create Date: 2026-12-03 07:20:00
"""

import sqlalchemy as sa
from alembic import op

from shared.at_rest_migrations import seal_address_column, seal_outbox_addresses

revision = "9d4b2e6f8a10"
down_revision = "25989a7e8266"
branch_labels = None
depends_on = None

_PURPOSE = "reconciliation migration 9d4b2e6f8a10 (sealing stored seller addresses)"
_TABLES = (("cases", "case_id"), ("escalations", "escalation_id"))


def upgrade() -> None:
    bind = op.get_bind()
    for table, key in _TABLES:
        op.add_column(table, sa.Column("seller_contact", sa.String(length=512), nullable=True))
        seal_address_column(
            bind,
            table=table,
            key=key,
            plain="seller_email",
            sealed="seller_contact",
            purpose=_PURPOSE,
        )
        op.drop_column(table, "seller_email")
    seal_outbox_addresses(bind, purpose=_PURPOSE)


def downgrade() -> None:
    # Reconciliation holds no private key: the addresses cannot come back in clear.
    for table, _ in _TABLES:
        op.add_column(table, sa.Column("seller_email", sa.String(length=254), nullable=True))
        op.drop_column(table, "seller_contact")
