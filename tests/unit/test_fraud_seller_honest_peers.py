"""The seller test's peer baselines read honest peers only (`claim_abuse.honest_peer_totals`):
the sellers under an alert of their own claims' fraud left out, and every other seller's
returns that other parties' fraud explains taken out of its counts, as the claim rate's counts
leave them out. A sign's robust baseline keeps the peers whose share of it is low, so an
alerted abuser whose claims carry no sign, kept among them, lowered the share an honest
seller's signed claims were read against (dev 101's honest seller alerted on MISSING_ITEM
claims against peers at 3 of 44, the world's honest claims at 18.6 %)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from services.fraud.detectors import claim_abuse
from services.fraud.detectors.claim_abuse import FlaggedParties, SellerReturn, honest_peer_totals

SIGN = "claims_missing_intact"


def _market() -> dict[str, dict[str, int]]:
    """Twenty honest beauty sellers whose claims carry the sign one in five, an abuser with
    many claims none of which carries it, and the seller scored: 4 of its 9 claims signed."""
    everyone: dict[str, dict[str, int]] = {
        f"beauty|s{i}": {"claims": 5, "delivered": 40, SIGN: 1} for i in range(20)
    }
    everyone["beauty|abuser"] = {"claims": 30, "delivered": 60, SIGN: 0}
    everyone["beauty|me"] = {"claims": 9, "delivered": 21, SIGN: 4}
    return everyone


def test_alerted_sellers_leave_and_explained_returns_come_out_of_each_peer() -> None:
    everyone = _market()
    read = honest_peer_totals(
        everyone,
        frozenset({"abuser"}),
        {"s1": {"claims": 2, "delivered": 3, SIGN: 1}},
    )
    assert "beauty|abuser" not in read
    assert read["beauty|s1"] == {"claims": 3, "delivered": 37, SIGN: 0}
    # Every other seller as it was, the scored one included (the baseline takes it out).
    assert read["beauty|s2"] == everyone["beauty|s2"]
    assert read["beauty|me"] == everyone["beauty|me"]
    # Nothing flagged: the totals as they are.
    assert honest_peer_totals(everyone, frozenset(), {}) == everyone


def _assessor(
    monkeypatch: Any,
    dishonest: frozenset[str],
    flagged: FlaggedParties,
    touched: list[tuple[str, str | None, SellerReturn]],
) -> Any:
    """A claim assessor over `_market()` with no database: the peers' baselines read for real
    (no kept baseline), the honest sellers' population, recent weeks and orders none."""
    from services.fraud.features import repository as features
    from services.fraud.scoring import claim_abuse as scoring
    from services.fraud.scoring.base import default_config

    everyone = _market()

    async def entity_totals(session, entity_type, metrics, since, until, *, id_prefix=""):  # type: ignore[no-untyped-def]
        return {k: v for k, v in everyone.items() if k.startswith(id_prefix)}

    monkeypatch.setattr(features, "entity_totals", entity_totals)
    a = scoring.ClaimInputs.__new__(scoring.ClaimInputs)
    a.session = SimpleNamespace(info={}, bind=None)
    a.config = default_config()
    a.t = a.config.thresholds
    a.at = datetime(2026, 3, 1, tzinfo=UTC)
    a.day = a.at.date()
    a.sequential = {}
    a.looked_back = set()
    a.evaluated = {}

    async def honest_sellers(*args: Any) -> scoring.HonestSellers:
        return scoring.HonestSellers()

    async def dishonest_sellers() -> frozenset[str]:
        return dishonest

    async def flagged_parties() -> FlaggedParties:
        return flagged

    async def touched_returns(
        since: date, flagged: FlaggedParties, *, seller: str | None = None, **_: Any
    ) -> list[tuple[str, str | None, SellerReturn]]:
        return [t for t in touched if seller is None or t[0] == seller]

    async def explained(*args: Any, **kwargs: Any) -> dict[str, int]:
        return {}

    async def recent_weeks(rates: Any, entity: Any, found: Any, **kwargs: Any) -> Any:
        return found

    a.honest_sellers = honest_sellers
    a.dishonest_sellers = dishonest_sellers
    a.flagged_parties = flagged_parties
    a.touched_returns = touched_returns
    a.explained = explained
    a.recent_weeks = recent_weeks
    return a


def _peers(a: Any) -> dict[str, tuple[int, int]]:
    facts = SimpleNamespace(seller_id="me", category="beauty")
    totals = {("category_seller", "beauty|me"): _market()["beauty|me"]}
    _, peers = asyncio.run(a.seller_tests(facts, totals))
    assert peers is not None
    return peers


def test_a_signs_peers_are_read_without_an_alerted_abuser(monkeypatch: Any) -> None:
    kept = _peers(_assessor(monkeypatch, frozenset(), FlaggedParties(), []))
    honest = _peers(_assessor(monkeypatch, frozenset({"abuser"}), FlaggedParties(), []))
    flagged, of = honest[SIGN]
    # The honest peers' share: one claim in five.
    assert flagged / of == 0.2
    # Kept among them, the abuser's unsigned claims read the share lower, and the honest
    # seller's four signed claims of nine worth more against it.
    assert kept[SIGN][0] / kept[SIGN][1] < 0.2
    floor = a_floor = 0.05
    assert claim_abuse.signs_log_bf(4, 9, flagged / of, floor=floor) < claim_abuse.signs_log_bf(
        4, 9, kept[SIGN][0] / kept[SIGN][1], floor=a_floor
    )


def test_a_peers_returns_a_flagged_buyer_explains_leave_its_counts(monkeypatch: Any) -> None:
    bad_buyer = FlaggedParties(buyers=frozenset({"B-bad"}))
    day = date(2026, 2, 20)
    returns = [
        (
            f"s{i}",
            "beauty",
            SellerReturn(
                buyer_id="B-bad",
                pickup_agent_id=None,
                hubs=(),
                lost_weight=False,
                qc_passed=False,
                qc_agent_id=None,
                qc_hub_id=None,
                delivered_on=day,
                dear=False,
                claimed_on=day,
            ),
        )
        for i in range(20)
    ]
    plain = _peers(_assessor(monkeypatch, frozenset({"abuser"}), FlaggedParties(), []))
    less = _peers(_assessor(monkeypatch, frozenset({"abuser"}), bad_buyer, returns))
    # Each honest peer's one explained claim (unsigned) and its delivery come out of its counts.
    assert less["claims"][0] < plain["claims"][0]
    assert less[SIGN][0] / less[SIGN][1] > plain[SIGN][0] / plain[SIGN][1]
