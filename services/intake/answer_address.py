"""Where a seller's answers go: the address a filing names, sealed for notifications.

A seller's emails go to the address its filing names, else to its registered addresses in the
seller directory, which the marketplace writes and only notifications reads. A filing may name an
address of its own from any caller allowed to file it: a desk agent or manager copying the
address a seller wrote from, the marketplace relaying a contact it holds, or the seller portal,
whose key is bound to the one seller whose own case the answers concern. Intake never reads the
directory, so it cannot check a named address against it; it keeps no plaintext either.
"""

from __future__ import annotations

from shared.pii import ContactSealer


def sealed_answer_address(address: str | None, sealer: ContactSealer) -> str | None:
    """The named address sealed for notifications, or None when none is named."""
    return None if address is None else sealer.seal(address)
