"""The I/O half of the wrong/used returns detector (`detectors.returns_abuse`): the claims that
say nothing of the buyers they name, left out of each buyer's counts and baseline."""

from __future__ import annotations

from services.fraud.alerts import repository as alerts_repo
from services.fraud.detectors import claim_abuse, evidence_reuse, qc_contradiction
from services.fraud.features import repository as features
from services.fraud.scoring.base import AssessorBase

# Sellers whose claims are not evidence against the buyers they name, while alerted.
UNTRUSTED_CLAIMANTS = (claim_abuse.PATTERN, evidence_reuse.PATTERN)
# QC agents whose passes are not evidence that the buyer returned the item sold, while alerted.
UNTRUSTED_QC = (f"{qc_contradiction.PATTERN_PREFIX}AGENT",)


class ReturnsInputs(AssessorBase):
    """Reads which named claims are explained by alerted sellers and QC agents."""

    async def explained_naming(self) -> tuple[list[str], dict[str, dict[str, int]]]:
        """The claims that say nothing of the buyers they name: those of sellers under a claim
        abuse or evidence reuse alert, and those on parcels passed by a QC agent under a QC
        contradiction alert. They leave each buyer's counts, and the baseline they would lift.
        Returns the alerted sellers and, per buyer, the named claims and deliveries to leave
        out (pair counts are lifetime, so they may exceed a window's: callers clamp at 0)."""
        abusers = await alerts_repo.alerted(self.session, "seller", UNTRUSTED_CLAIMANTS)
        passers = await alerts_repo.alerted(self.session, "agent", UNTRUSTED_QC)
        explained: dict[str, dict[str, int]] = {}
        for kind, lefts in (("seller_buyer", abusers), ("qc_agent_buyer", passers)):
            by_buyer = await features.pair_totals_by_right(
                self.session, kind=kind, lefts=lefts, metrics=["named", "delivered"]
            )
            for buyer, counts in by_buyer.items():
                mine = explained.setdefault(buyer, {})
                for metric, n in counts.items():
                    mine[metric] = mine.get(metric, 0) + n
        return abusers, explained
