"""Escalations written before addresses were sealed: seal their plaintext address on arrival.

Before addresses were sealed, intake put the seller's address in clear on `SellerEscalationFiled`.
Such an event may still be in the topic when this release starts. Reconciliation never stores the
plaintext: with the public key (DISPUTEDESK_PII_PUBLIC_KEY, which reveals nothing) it seals the
address as intake now does; without it, the address is dropped and the case records no contact.
Remove this module, and the legacy field, in the release after this one.
"""

from __future__ import annotations

import functools
import logging

from shared.events import SellerEscalationFiled
from shared.keys import PII_PUBLIC_KEY, optional_key_list
from shared.metrics import LEGACY_ADDRESSES
from shared.pii import ContactSealer

log = logging.getLogger(__name__)


@functools.cache
def _sealer() -> ContactSealer | None:
    keys = optional_key_list(PII_PUBLIC_KEY)
    return None if keys is None else ContactSealer.from_keys(keys)


def sealed_contact(event: SellerEscalationFiled) -> str | None:
    """The event's sealed contact, sealing a legacy plaintext address when one came instead."""
    if event.seller_contact is not None or not event.seller_email:
        return event.seller_contact
    sealer = _sealer()
    if sealer is None:
        LEGACY_ADDRESSES.labels("reconciliation", "dropped").inc()
        log.warning(
            "legacy plaintext seller address dropped: no DISPUTEDESK_PII_PUBLIC_KEY to seal it",
            extra={"escalation_id": event.escalation_id},
        )
        return None
    LEGACY_ADDRESSES.labels("reconciliation", "sealed").inc()
    return sealer.seal(event.seller_email)
