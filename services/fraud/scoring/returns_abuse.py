"""The I/O half of the wrong/used returns detector (`detectors.returns_abuse`): the claims that
say nothing of the buyers they name, left out of each buyer's counts and baseline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from services.fraud.alerts import repository as alerts_repo
from services.fraud.detectors import (
    claim_abuse,
    collusion,
    evidence_reuse,
    qc_contradiction,
    returns_abuse,
)
from services.fraud.detectors.stats import PeerSpread
from services.fraud.features import repository as features
from services.fraud.features.service import NETWORK
from services.fraud.scoring.base import AssessorBase
from services.fraud.scoring.baselines import Counts

# QC agents whose passes are not evidence that the buyer returned the item sold, while alerted.
UNTRUSTED_QC = (f"{qc_contradiction.PATTERN_PREFIX}AGENT",)


# What the buyer's test reads of it over the long window: its named claims and its returns
# that failed QC at pickup, each against its returns (`features.service.count_refusal`).
BUYER_METRICS = ("named_claims", "delivered", "qc_failed")


class ReturnsInputs(AssessorBase):
    """The buyer's wrong/used test, on a claim naming it or a QC failure at its door, and the
    named claims explained by alerted sellers and QC agents."""

    async def buyer_tests(
        self,
        buyer: str,
        totals: Mapping[tuple[str, str], Counts],
        *,
        direct: bool,
        onto_event: bool = True,
    ) -> None:
        """The buyer's wrong/used findings: its named claims and its returns that failed QC at
        pickup (each a return the partner found wrong or used at the door) out of its delivered
        and QC-failed returns, against every other buyer counted alike. `totals` holds the
        buyer's `BUYER_METRICS` over the long window. The sellers naming it are those whose
        claims named it (alerted abusers' aside) and those whose returns from it failed QC."""
        cfg = self.config
        since, until = self.window(cfg.long_window)
        abusers, explained = await self.explained_naming()
        namers = await features.lefts_of_right(
            self.session,
            kind="seller_buyer",
            right_id=buyer,
            metric="named",
            except_lefts=abusers,
        )
        own_counts = totals.get(("buyer", buyer), {})
        if own_counts.get("qc_failed", 0):
            namers |= await features.lefts_of_right(
                self.session, kind="seller_buyer", right_id=buyer, metric="qc_failed"
            )

        def unexplained(buyer_id: str, counts: Counts) -> dict[str, int]:
            less = explained.get(buyer_id, {})
            failed = counts.get("qc_failed", 0)
            return {
                "named_claims": max(0, counts.get("named_claims", 0) - less.get("named", 0))
                + failed,
                "delivered": max(0, counts.get("delivered", 0) - less.get("delivered", 0)) + failed,
            }

        async def every_buyer() -> Mapping[str, Counts]:
            rows = await features.entity_totals(
                self.session, "buyer", list(BUYER_METRICS), since, until
            )
            return {other: unexplained(other, v) for other, v in rows.items()}

        own = unexplained(buyer, own_counts)
        buyer_spread: dict[str, PeerSpread] = {}
        k, n = (
            await self.peers(
                ("buyer", "", "long", "unexplained"),
                [("named_claims", "delivered", returns_abuse.PRIOR_RATE)],
                own_id=buyer,
                own=own,
                load=every_buyer,
                spreads=buyer_spread,
            )
        )["named_claims"]
        evidence = returns_abuse.buyer_evidence(
            buyer,
            own,
            {"named_claims": k, "delivered": n},
            len(namers),
            self.t,
            spread=buyer_spread.get("named_claims"),
            s=returns_abuse.buyer_sequential(cfg.sequential, cfg.buyer_seq_alpha),
        )
        found = evidence.findings
        if evidence.sequential is not None:
            # Kept for the clearing rule (`service.clear_alerts`), as the other rate
            # patterns' tests are (`AssessorBase.sequential_test`).
            self.sequential[(returns_abuse.PATTERN, "buyer", buyer)] = evidence.sequential
        if own_counts.get("qc_failed", 0):
            failed = {"qc_failed": own_counts["qc_failed"]}
            found = [replace(f, numbers=f.numbers | failed) for f in found]
        self.evaluated_entity("buyer", buyer)
        self.evaluated[("buyer", buyer)].extend(found)
        if onto_event:
            self.add(found, direct=direct)
        else:
            # Read on an event that is not the buyer's act (a refusal at pickup, a delivery of
            # its return): an alert-worthy finding is raised as the buyer's alert all the same.
            self.entity_alerts.extend(f for f in found if f.alert)

    async def buyer_at_qc_failure(self, buyer: str) -> None:
        """A return of the buyer's refused at pickup (or, moving on, no longer a refusal): no
        claim will follow a refusal, so the buyer's test runs on the scan, and a buyer whose
        fourth wrong or used return is one the partner caught is found then, not at its next
        claim. The finding raises or updates the buyer's alert and risk only: it is not the
        scan's own score, since the scan is the subject of any case the desk opens on the
        return (SOP P3 after a refusal), whose seller is not the suspect (rule E5's hold). The
        buyer's alert reaches its claims through their revisions and explanations. A refusal
        taken back is an ordinary return again, and may clear the buyer's alert here.

        A refusal reaches fraud in any order with the buyer's claims (a partner's batch or
        snapshot hours late, a claim expedited ahead of a backlog). When a claim naming the
        buyer lies later in event time, its own test ran without this refusal, and a test at
        the refusal's time does not count that claim: the buyer is then read as of its latest
        claim, as that claim would have read it with the refusal in hand (to raise, not to
        clear: `as_of`). Without it the buyer's later claims were found only if a case's
        decision on one of them happened to test the claim again after the refusal arrived."""
        latest = await features.latest_claim_naming(self.session, buyer)
        if latest is None or latest <= self.at:
            await self.reexamine_buyer(buyer)
            return
        with self.as_of(latest):
            await self.reexamine_buyer(buyer)

    async def reexamine_buyer(self, buyer: str) -> None:
        """The buyer's wrong/used test read on an event that changes its trials but names no
        one: a refusal at pickup counted or taken back, or, while the buyer is under an open
        wrong/used alert, a return of its delivered to the seller. A buyer flagged on its first
        few returns whose later returns arrive unclaimed proves ordinary on them, and is
        cleared there (`service.clear_alerts`) without waiting for a claim that an ordinary
        buyer's returns never bring. The findings refresh the buyer's risk and alert; they
        are not the event's own evidence, so they do not score it."""
        since, until = self.window(self.config.long_window)
        totals = await features.window_totals(
            self.session, [("buyer", buyer), (NETWORK, "buyer")], list(BUYER_METRICS), since, until
        )
        await self.buyer_tests(buyer, totals, direct=True, onto_event=False)

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
