"""Partner secrets at rest: encrypted with the operator's key, opened only to verify webhooks.

HMAC schemes need each secret itself, so it is stored encrypted (AES-256-GCM, shared/secretbox.py)
with the partner id as associated data: a ciphertext moved onto another partner's row does not
open. Plain API keys never reach this module; they are kept only as a hash.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import PartnerSecret
from services.intake.partners import repository
from services.intake.partners.adapter import PartnerCredential
from shared.keys import SECRETS_KEYS, load_key_list
from shared.retention import Retention
from shared.secretbox import SecretBox, UndecryptableError

log = logging.getLogger(__name__)


def _context(partner_id: str) -> str:
    return f"partner_secret:{partner_id}"


class PartnerSecrets:
    def __init__(self, box: SecretBox) -> None:
        self.box = box

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> PartnerSecrets:
        """Raises `MissingKeyError` naming DISPUTEDESK_SECRETS_KEYS(_FILE) when there is none."""
        purpose = "intake keeps partner secrets encrypted at rest"
        return cls(SecretBox(load_key_list(SECRETS_KEYS, purpose=purpose, environ=environ)))

    def encrypt(self, *, partner_id: str, secret: str) -> str:
        return self.box.encrypt(secret, context=_context(partner_id))

    def credential(self, row: PartnerSecret) -> PartnerCredential | None:
        """The row as the webhook path uses it; None when it cannot be decrypted (made with a
        key no longer in the list), so the partner's other secrets still work and a request
        signed with this one gets 401, not 500."""
        secret = None
        if row.secret_encrypted is not None:
            try:
                secret = self.box.decrypt(row.secret_encrypted, context=_context(row.partner_id))
            except UndecryptableError as exc:
                log.error(
                    "partner secret %s cannot be decrypted: %s",
                    row.id,
                    exc,
                    extra={"partner_id": row.partner_id},
                )
                return None
        return PartnerCredential(secret, row.secret_hash, row.not_after)

    def reencrypted(self, row: PartnerSecret) -> str | None:
        """The row's secret under the current key, or None when it is current already."""
        if row.secret_encrypted is None or not self.box.needs_rotation(row.secret_encrypted):
            return None
        plain = self.box.decrypt(row.secret_encrypted, context=_context(row.partner_id))
        return self.encrypt(partner_id=row.partner_id, secret=plain)


async def reencrypt_all(session: AsyncSession, *, secrets: PartnerSecrets) -> int:
    """Rewrite every secret made with a retired key under the current key; how many. The
    step between adding a new key (first in the list) and dropping the old one."""
    changed = 0
    for row in await repository.secrets_to_reencrypt(session):
        fresh = secrets.reencrypted(row)
        if fresh is not None:
            row.secret_encrypted = fresh
            changed += 1
    return changed


def revoked_secret_retention(grace: timedelta) -> Retention:
    """Secrets whose validity ended more than `grace` ago are deleted (shared/retention.py); a
    secret without an end date never matches, so it stays."""
    return Retention(PartnerSecret.__tablename__, "not_after", grace)
