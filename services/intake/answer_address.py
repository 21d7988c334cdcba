"""Where a seller's answers go, and who may name another address for them.

A seller's emails go to its registered addresses in the seller directory, which the marketplace
writes and only notifications reads. A filing may name an address of its own only when someone
answerable for it files: a desk agent or manager copying the address a seller wrote from, or the
marketplace relaying a contact it holds for its seller. A seller portal key may not: whoever
holds it could otherwise send the desk's mail about the case (and the rating outreach) to any
address, and intake cannot check an address against the directory, which it never reads.
"""

from __future__ import annotations

from services.intake import metrics
from shared.auth import Principal, Role
from shared.pii import ContactSealer
from shared.problems import Problem

# The roles that vouch for an address they name; every other caller's answers go to the
# directory's address.
NAME_ADDRESSES = (Role.OPS_AGENT, Role.OPS_MANAGER, Role.MARKETPLACE)


def sealed_answer_address(
    principal: Principal, address: str | None, sealer: ContactSealer, *, kind: str
) -> str | None:
    """The named address sealed for notifications, or None when none is named; a caller that
    may not name one is refused, naming the field, before anything is stored."""
    if address is None:
        return None
    if not principal.has(*NAME_ADDRESSES):
        metrics.security_event(kind, "answer_address_named")
        raise Problem(
            422,
            "Validation failed",
            "A seller portal key cannot choose where answers go: they go to the seller's "
            "registered address in the seller directory. Leave seller_email out; to change "
            "the address, the marketplace updates the seller's directory entry.",
            errors=[
                {
                    "field": "body.seller_email",
                    "message": "not accepted from a seller portal key: answers go to the "
                    "seller's registered address",
                }
            ],
        )
    return sealer.seal(address)
