"""The I/O half of the wrong/used returns detector (`detectors.returns_abuse`): the claims that
say nothing of the buyers they name, left out of each buyer's counts and baseline."""

from __future__ import annotations

from services.fraud.alerts import repository as alerts_repo
from services.fraud.detectors import claim_abuse, collusion, evidence_reuse, qc_contradiction
from services.fraud.features import repository as features
from services.fraud.scoring.base import AssessorBase

# QC agents whose passes are not evidence that the buyer returned the item sold, while alerted.
UNTRUSTED_QC = (f"{qc_contradiction.PATTERN_PREFIX}AGENT",)


class ReturnsInputs(AssessorBase):
    """Reads which named claims are explained by alerted sellers and QC agents."""

    async def explained_naming(self) -> tuple[list[str], dict[str, dict[str, int]]]:
        """The claims that say nothing of the buyers they name: those of sellers under an
        evidence reuse alert or a claim abuse alert that no ring explains, and those on
        parcels passed by a QC agent under a QC contradiction alert. They leave each buyer's
        counts, and the baseline they would lift.
        Returns the alerted sellers and, per buyer, the named claims and deliveries to leave
        out (pair counts are lifetime, so they may exceed a window's: callers clamp at 0)."""
        reusers = await alerts_repo.alerted(self.session, "seller", (evidence_reuse.PATTERN,))
        claimers = await alerts_repo.alerted(self.session, "seller", (claim_abuse.PATTERN,))
        ringed = await self.ring_sellers(claimers)
        abusers = sorted(set(reusers) | (set(claimers) - ringed))
        passers = await alerts_repo.alerted(self.session, "agent", UNTRUSTED_QC)
        explained: dict[str, dict[str, int]] = {}
        # (pair kind, lefts, whether only the buyers they named more than once are explained)
        sources = (
            ("seller_buyer", abusers, False),
            ("seller_buyer", sorted(ringed), True),
            ("qc_agent_buyer", passers, False),
        )
        for kind, lefts, repeated_only in sources:
            by_buyer = await features.pair_totals_by_right(
                self.session, kind=kind, lefts=lefts, metrics=["named", "delivered"]
            )
            for buyer, counts in by_buyer.items():
                if repeated_only and counts.get("named", 0) < 2:
                    continue
                mine = explained.setdefault(buyer, {})
                for metric, n in counts.items():
                    mine[metric] = mine.get(metric, 0) + n
        return abusers, explained

    async def ring_sellers(self, claimers: list[str]) -> set[str]:
        """The claim-abuse sellers whose excess a ring explains: under a seller-buyer collusion
        alert, or claiming on buyer accounts under a shared-identity alert. A ring seller's
        claims on its own accounts lift its claim rate; a buyer it names once is named as any
        seller might, evidence against that buyer like any other seller's claim. A buyer it
        names again and again is its ring's (collusion's to find), and those claims stay out.
        Left out, a wrong/used buyer who happened to return to a ring seller lost that claim,
        and often the fourth one it needed."""
        if not claimers:
            return set()
        paired = await alerts_repo.alerted(self.session, "seller", (collusion.SELLER_BUYER,))
        accounts = await alerts_repo.alerted(self.session, "buyer", (collusion.SHARED_IDENTITY,))
        with_accounts = await features.rights_by_left(
            self.session, kind="seller_buyer", rights=accounts, metric="claims"
        )
        return set(claimers) & (set(paired) | set(with_accounts))
