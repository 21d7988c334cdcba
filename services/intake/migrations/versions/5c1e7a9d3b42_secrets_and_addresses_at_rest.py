"""partner secrets encrypted at rest; no seller address in intake

Partner HMAC secrets move from `secret` (plaintext) to `secret_encrypted` (AES-256-GCM with the
operator's key, shared/secretbox.py). Existing rows are encrypted here, so upgrading a database
that holds secrets needs DISPUTEDESK_SECRETS_KEYS (or _FILE) in the environment of
`disputedesk migrate`; without it the upgrade stops before changing anything.

Seller addresses leave intake: `escalations.seller_email` becomes `seller_contact`, sealed for
notifications (intake cannot open it; a held escalation's event is built from it when it binds),
the return history forgets it, and events still in the outbox are sealed for notifications
(which needs DISPUTEDESK_PII_PUBLIC_KEY only when such events exist).

Revision ID: 5c1e7a9d3b42
Revises: c41d7e2a9b10
Create Date: 2026-12-03 07:10:00
"""

import sqlalchemy as sa
from alembic import op

from shared.at_rest_migrations import seal_address_column, seal_outbox_addresses
from shared.keys import SECRETS_KEYS, load_key_list
from shared.secretbox import SecretBox

revision = "5c1e7a9d3b42"
down_revision = "c41d7e2a9b10"
branch_labels = None
depends_on = None

# The same context the service uses (services/intake/partners/secrets.py): a ciphertext opens
# only on its own partner's rows.
_CONTEXT = "partner_secret:{}"


def _box(purpose: str) -> SecretBox:
    return SecretBox(load_key_list(SECRETS_KEYS, purpose=purpose))


def upgrade() -> None:
    bind = op.get_bind()
    plain = bind.execute(
        sa.text("SELECT id, partner_id, secret FROM partner_secrets WHERE secret IS NOT NULL")
    ).all()
    box = (
        _box("intake migration 5c1e7a9d3b42 (encrypting stored partner secrets)") if plain else None
    )
    op.add_column("partner_secrets", sa.Column("secret_encrypted", sa.Text(), nullable=True))
    if box is not None:
        bind.execute(
            sa.text("UPDATE partner_secrets SET secret_encrypted = :value WHERE id = :id"),
            [
                {"id": i, "value": box.encrypt(secret, context=_CONTEXT.format(partner))}
                for i, partner, secret in plain
            ],
        )
    op.drop_column("partner_secrets", "secret")

    op.add_column("escalations", sa.Column("seller_contact", sa.Text(), nullable=True))
    seal_address_column(
        bind,
        table="escalations",
        key="escalation_id",
        plain="seller_email",
        sealed="seller_contact",
        purpose="intake migration 5c1e7a9d3b42 (sealing escalations' reply addresses)",
    )
    op.drop_column("escalations", "seller_email")
    bind.execute(
        sa.text(
            "UPDATE return_events SET payload = payload - 'seller_email' "
            "WHERE payload ? 'seller_email'"
        )
    )
    seal_outbox_addresses(bind, purpose="intake migration 5c1e7a9d3b42 (sealing queued events)")


def downgrade() -> None:
    bind = op.get_bind()
    encrypted = bind.execute(
        sa.text(
            "SELECT id, partner_id, secret_encrypted FROM partner_secrets "
            "WHERE secret_encrypted IS NOT NULL"
        )
    ).all()
    box = (
        _box("intake downgrade from 5c1e7a9d3b42 (decrypting partner secrets)")
        if encrypted
        else None
    )
    op.add_column("partner_secrets", sa.Column("secret", sa.String(length=500), nullable=True))
    if box is not None:
        bind.execute(
            sa.text("UPDATE partner_secrets SET secret = :value WHERE id = :id"),
            [
                {"id": i, "value": box.decrypt(value, context=_CONTEXT.format(partner))}
                for i, partner, value in encrypted
            ],
        )
    op.drop_column("partner_secrets", "secret_encrypted")
    # Addresses are not brought back: intake never reads them.
    op.add_column("escalations", sa.Column("seller_email", sa.String(length=254), nullable=True))
    op.drop_column("escalations", "seller_contact")
