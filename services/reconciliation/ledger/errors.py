"""Named refusals of the ledger room; `problem_types.py` maps each to its problem type."""

from __future__ import annotations

from shared.errors import DomainError


class PartnerNotFound(DomainError):
    """No key, case, posting or notice endpoint names this partner: its statement would be one
    of zeros for an id that names nothing."""

    def __init__(self, partner_id: str) -> None:
        super().__init__(f"No partner {partner_id}.")
