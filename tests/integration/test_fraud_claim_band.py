"""What a seller's claim-abuse alert makes of its claims, on real PostgreSQL through fraud's
scoring (`scoring.claim_band`). By default (the claims' level is the seller's alert) a moderate
abuser alerted as its claim-rate evidence just reaches the alert has its claims HIGH, the earlier
ones lifted by the alert. With the claims' level set above the alert
(FRAUD_SELLER_CLAIM_HIGH_ALPHA=1e-3) a seller so alerted has its claims lifted to MEDIUM, not
HIGH (SOP v1 decides them on their facts); an abuser whose evidence goes far beyond the alert
has every claim of its window HIGH, the earlier ones lifted by the alert once its evidence gets
there. At either level, a seller in a collusion ring has none of its claims with other buyers
lifted to HIGH."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.fraud.scoring.base import default_config
from services.fraud.scoring.revisions import lower_outside_ring
from services.fraud.scoring.service import assess_event
from shared.events import EventPayload, FraudBand, SellerEscalationFiled
from tests.support.db import rows
from tests.support.factories import uid
from tests.support.fraud import planted_alert, seller_journey

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=62)
# The rule as a setting: claims HIGH on a seller's claim-rate evidence only at a Bayes factor of
# 1,000, ten times its alert.
ABOVE_ALERT = replace(default_config(), seller_claim_high_alpha=1e-3)
HIGH_LOG_BF = ABOVE_ALERT.seller_claim_high_log_bf


def journeys(seller: str, category: str, days: list[float], claimed: set[int]) -> list[Any]:
    """One delivery a day in `days`, the ones whose index is in `claimed` claimed DAMAGED."""
    out: list[EventPayload] = []
    for i, day in enumerate(days):
        out += seller_journey(
            seller, category, START + timedelta(days=day), "DAMAGED" if i in claimed else None
        )
    return out


def spaced(first: float, count: int, per_day: float) -> list[float]:
    return [first + i / per_day for i in range(count)]


@pytest.mark.timeout(900)
async def test_a_level_above_the_alert_holds_a_lucky_sellers_claims_at_medium(
    pipeline: dict[str, Any],
) -> None:
    fraud = pipeline["fraud"]
    category = uid("cat")

    async def score(events: list[EventPayload]) -> list[Any]:
        out = []
        async with fraud.runtime.sessionmaker() as session, session.begin():
            for e in events:
                assessed = await assess_event(
                    session, payload=e, subject_event_id=uuid.uuid4(), config=ABOVE_ALERT
                )
                if isinstance(e, SellerEscalationFiled):
                    out.append(assessed)
        return out

    async def alert(seller: str) -> list[Any]:
        return await rows(
            fraud,
            "SELECT status, evidence, alert_id FROM alerts WHERE pattern = 'CLAIM_ABUSE' "
            "AND entity_id = :s ORDER BY raised_at",
            s=seller,
        )

    async def latest_bands(seller: str) -> list[tuple[str, int, Any]]:
        found = await rows(
            fraud,
            "SELECT DISTINCT ON (a.escalation_id) a.band, a.revision, a.reasons "
            "FROM assessments a JOIN return_facts f USING (return_id) "
            "WHERE f.seller_id = :s AND a.escalation_id IS NOT NULL "
            "ORDER BY a.escalation_id, a.revision DESC",
            s=seller,
        )
        return [(str(b), int(r), reasons) for b, r, reasons in found]

    # The category: eight sellers, each claiming on one return in twenty (5 %).
    for s in range(8):
        await score(journeys(f"{category}-peer{s}", category, spaced(0, 40, 2), {7, 27}))

    lucky, abuser = uid("S-LUCKY"), uid("S-ABUSER")
    for seller in (lucky, abuser):
        # Twenty ordinary days: 2 claims in 40 deliveries.
        await score(journeys(seller, category, spaced(0, 40, 2), {10, 30}))

    # The lucky seller claims on one delivery in three until it is alerted, and then no more:
    # its evidence has just reached the alert (a Bayes factor of 100), far from 1,000.
    day = 20.0
    for i in range(60):
        await score(journeys(lucky, category, [day], {0} if i % 3 == 0 else set()))
        day += 1 / 3
        if await alert(lucky):
            break
    [(status, evidence, _)] = await alert(lucky)
    assert status == "open"
    assert evidence["numbers"]["test"] == "sequential"
    assert evidence["numbers"]["log_bayes_factor"] < HIGH_LOG_BF
    claims = await latest_bands(lucky)
    assert len(claims) >= 5
    # Its claims, the earlier ordinary ones too, are under review (MEDIUM), none HIGH.
    assert {band for band, _, _ in claims} == {FraudBand.MEDIUM.value}, claims
    # The alert did revise its earlier claims, to MEDIUM.
    revised = [reasons for band, revision, reasons in claims if revision > 0]
    assert revised
    assert all(r[0]["numbers"].get("alert_id") for r in revised)

    # The abuser claims on every other delivery for five weeks: far beyond the alert.
    abuser_claims: list[Any] = []
    for i in range(70):
        abuser_claims += await score(
            journeys(abuser, category, [20 + i / 2], {0} if i % 2 == 0 else set())
        )
    [(status, evidence, alert_id)] = await alert(abuser)
    assert status == "open"
    # The alert now stands on the evidence that makes the seller's claims HIGH.
    assert evidence["numbers"]["log_bayes_factor"] >= HIGH_LOG_BF
    assert abuser_claims[-1].band is FraudBand.HIGH
    claims = await latest_bands(abuser)
    assert len(claims) == 2 + 35
    # Every claim of its window is HIGH, the two ordinary ones before its run too.
    assert {band for band, _, _ in claims} == {FraudBand.HIGH.value}, claims
    lifted = [reasons for band, revision, reasons in claims if revision > 0]
    assert any(r[0]["numbers"].get("alert_id") == str(alert_id) for r in lifted)


@pytest.mark.timeout(900)
async def test_by_default_an_abuser_alerted_short_of_a_thousand_has_its_claims_high(
    pipeline: dict[str, Any],
) -> None:
    # The default level is the seller's alert: a moderate abuser's claims go to an analyst (only
    # HIGH is reviewed, SOP v1 E5), not decided on their facts and paid.
    fraud = pipeline["fraud"]
    category, abuser = uid("cat"), uid("S-MODERATE")

    async def score(events: list[EventPayload]) -> list[Any]:
        out = []
        async with fraud.runtime.sessionmaker() as session, session.begin():
            for e in events:
                assessed = await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
                if isinstance(e, SellerEscalationFiled):
                    out.append(assessed)
        return out

    async def alert() -> list[Any]:
        return await rows(
            fraud,
            "SELECT status, evidence FROM alerts WHERE pattern = 'CLAIM_ABUSE' AND entity_id = :s",
            s=abuser,
        )

    for s in range(8):
        await score(journeys(f"{category}-peer{s}", category, spaced(0, 40, 2), {7, 27}))
    await score(journeys(abuser, category, spaced(0, 40, 2), {10, 30}))
    # One claim in three until alerted, then one more claim: its evidence is just past the
    # alert, short of a Bayes factor of 1,000.
    day = 20.0
    for i in range(60):
        await score(journeys(abuser, category, [day], {0} if i % 3 == 0 else set()))
        day += 1 / 3
        if await alert():
            break
    [last] = await score(journeys(abuser, category, [day], {0}))
    [(status, evidence)] = await alert()
    assert status == "open"
    assert evidence["numbers"]["test"] == "sequential"
    assert evidence["numbers"]["log_bayes_factor"] < HIGH_LOG_BF
    assert last.band is FraudBand.HIGH
    claims = await rows(
        fraud,
        "SELECT DISTINCT ON (a.escalation_id) a.band, a.revision FROM assessments a "
        "JOIN return_facts f USING (return_id) WHERE f.seller_id = :s "
        "AND a.escalation_id IS NOT NULL ORDER BY a.escalation_id, a.revision DESC",
        s=abuser,
    )
    assert len(claims) >= 6
    # Every claim of its window is HIGH, the earlier ones lifted by the alert's revisions.
    assert {str(band) for band, _ in claims} == {FraudBand.HIGH.value}, claims
    assert any(revision > 0 for _, revision in claims)


@pytest.mark.timeout(900)
async def test_a_colluding_sellers_claims_outside_its_ring_are_not_lifted_to_high(
    pipeline: dict[str, Any],
) -> None:
    fraud = pipeline["fraud"]
    category, seller = uid("cat"), uid("S-RING")

    async def score(events: list[EventPayload]) -> list[Any]:
        out = []
        async with fraud.runtime.sessionmaker() as session, session.begin():
            for e in events:
                assessed = await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
                if isinstance(e, SellerEscalationFiled):
                    out.append(assessed)
        return out

    for s in range(8):
        await score(journeys(f"{category}-peer{s}", category, spaced(0, 40, 2), {7, 27}))
    async with fraud.runtime.sessionmaker() as session, session.begin():
        # The seller is in a ring with one buyer (its pair's alert, as collusion raises it).
        session.add(
            planted_alert(
                "COLLUSION_SELLER_BUYER",
                "seller",
                seller,
                raised_at=START,
                subject_key=f"seller:{seller}|buyer:{uid('B-RING')}",
                evidence={"code": "PAIR_CLAIMS", "detail": "ring", "numbers": {}},
            )
        )
    # Claims on every other delivery, each with a buyer of its own, none of the ring's: the
    # seller's claim-rate evidence goes far beyond the claims' level.
    claims: list[Any] = []
    for i in range(60):
        claims += await score(journeys(seller, category, [i / 2], {0} if i % 2 == 0 else set()))
    [(status, evidence)] = await rows(
        fraud,
        "SELECT status, evidence FROM alerts WHERE pattern = 'CLAIM_ABUSE' AND entity_id = :s",
        s=seller,
    )
    assert status == "open", "the seller's claim-abuse alert stands"
    assert (
        max(
            r["numbers"].get("log_bayes_factor", 0)
            for c in claims
            for r in (x.model_dump() for x in c.reasons)
            if r["code"] == "SELLER_CLAIM_RATE_SEQUENTIAL"
        )
        >= HIGH_LOG_BF
    )
    latest = await rows(
        fraud,
        "SELECT DISTINCT ON (a.escalation_id) a.band FROM assessments a "
        "JOIN return_facts f USING (return_id) WHERE f.seller_id = :s "
        "AND a.escalation_id IS NOT NULL ORDER BY a.escalation_id, a.revision DESC",
        s=seller,
    )
    assert len(latest) == 30
    assert FraudBand.HIGH.value not in {band for (band,) in latest}


@pytest.mark.timeout(900)
async def test_a_ring_alerted_after_its_sellers_claims_went_high_takes_back_the_others(
    pipeline: dict[str, Any],
) -> None:
    fraud = pipeline["fraud"]
    category, seller = uid("cat"), uid("S-LATE-RING")

    async def score(events: list[EventPayload]) -> list[Any]:
        out = []
        async with fraud.runtime.sessionmaker() as session, session.begin():
            for e in events:
                assessed = await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
                if isinstance(e, SellerEscalationFiled):
                    out.append(assessed)
        return out

    for s in range(8):
        await score(journeys(f"{category}-peer{s}", category, spaced(0, 40, 2), {7, 27}))
    # Claims on every other delivery: far beyond the claims' level, every claim HIGH.
    claims: list[Any] = []
    for i in range(60):
        claims += await score(journeys(seller, category, [i / 2], {0} if i % 2 == 0 else set()))

    async def latest() -> dict[str, tuple[str, Any]]:
        found = await rows(
            fraud,
            "SELECT DISTINCT ON (a.escalation_id) a.escalation_id, a.band, a.reasons "
            "FROM assessments a JOIN return_facts f USING (return_id) WHERE f.seller_id = :s "
            "AND a.escalation_id IS NOT NULL ORDER BY a.escalation_id, a.revision DESC",
            s=seller,
        )
        return {str(e): (str(b), r) for e, b, r in found}

    before = await latest()
    assert {b for b, _ in before.values()} == {FraudBand.HIGH.value}
    # Then one of its buyers is found to be its ring (as collusion raises the pair's alert).
    ring = claims[-1]
    at = START + timedelta(days=30)
    async with fraud.runtime.sessionmaker() as session, session.begin():
        lowered = await lower_outside_ring(
            session,
            seller=seller,
            ring_buyers={str(ring.entities.buyer_id)},
            alert_id=uuid.uuid4(),
            at=at,
            window=timedelta(days=120),
        )
    after = await latest()
    assert lowered == len(after) - 1 == 29
    assert after[str(ring.escalation_id)][0] == FraudBand.HIGH.value
    others = [v for e, v in after.items() if e != str(ring.escalation_id)]
    assert FraudBand.HIGH.value not in {b for b, _ in others}
    assert all(r[0]["code"] == "RING_EXPLAINS" for _, r in others)


@pytest.mark.timeout(900)
async def test_a_sellers_claims_come_down_when_its_evidence_falls_back_and_an_abusers_stay(
    pipeline: dict[str, Any],
) -> None:
    # Set to (FRAUD_SELLER_CLAIM_FOLLOW_DOWN, FRAUD_SELLER_CLAIM_LIFT_ALPHA=1e-3), what an
    # alert makes of a seller's claims follows its evidence down as well as up: a seller in its
    # category's tail whose claims then slow to its peers' rate has its HIGH claims lowered to
    # MEDIUM while its alert stays open; an abuser far beyond keeps every claim HIGH.
    fraud = pipeline["fraud"]
    category = uid("cat")
    config = replace(default_config(), seller_claim_lift_alpha=1e-3, seller_claim_follow_down=True)
    high, lift = config.seller_claim_high_log_bf, config.seller_claim_lift_log_bf

    async def score(events: list[EventPayload]) -> list[Any]:
        out = []
        async with fraud.runtime.sessionmaker() as session, session.begin():
            for e in events:
                assessed = await assess_event(
                    session, payload=e, subject_event_id=uuid.uuid4(), config=config
                )
                if isinstance(e, SellerEscalationFiled):
                    out.append(assessed)
        return out

    async def alert(seller: str) -> list[Any]:
        return await rows(
            fraud,
            "SELECT status, evidence FROM alerts WHERE pattern = 'CLAIM_ABUSE' "
            "AND entity_id = :s ORDER BY raised_at",
            s=seller,
        )

    async def latest(seller: str) -> list[tuple[str, Any]]:
        found = await rows(
            fraud,
            "SELECT DISTINCT ON (a.escalation_id) a.band, a.reasons FROM assessments a "
            "JOIN return_facts f USING (return_id) WHERE f.seller_id = :s "
            "AND a.escalation_id IS NOT NULL ORDER BY a.escalation_id, a.revision DESC",
            s=seller,
        )
        return [(str(b), r) for b, r in found]

    for s in range(8):
        await score(journeys(f"{category}-peer{s}", category, spaced(0, 40, 2), {7, 27}))
    tail, abuser = uid("S-TAIL"), uid("S-ABUSER")
    for seller in (tail, abuser):
        await score(journeys(seller, category, spaced(0, 40, 2), {10, 30}))

    # The seller in the tail claims on one delivery in three until alerted, and twice more.
    day = 20.0
    for i in range(60):
        await score(journeys(tail, category, [day], {0} if i % 3 == 0 else set()))
        day += 1 / 3
        if await alert(tail):
            break
    for _ in range(2):
        await score(journeys(tail, category, [day], {0}))
        day += 1 / 3
    [(status, evidence)] = await alert(tail)
    assert status == "open" and evidence["numbers"]["log_bayes_factor"] >= high
    bands = [b for b, _ in await latest(tail)]
    assert FraudBand.HIGH.value in bands, bands

    # Then it claims as its peers do (one in twenty): its evidence falls below the alert, not
    # so far that it proves ordinary.
    fell = False
    for i in range(200):
        await score(journeys(tail, category, [day], {0} if i % 20 == 19 else set()))
        day += 1 / 3
        [(status, evidence)] = await alert(tail)
        if evidence["numbers"]["log_bayes_factor"] < high:
            fell = status == "open"
            break
    assert fell, evidence
    after = await latest(tail)
    assert FraudBand.HIGH.value not in {b for b, _ in after}, after
    lowered = [b for b, r in after if "fell below" in r[0]["detail"]]
    assert lowered and set(lowered) == {FraudBand.MEDIUM.value}, after

    # The abuser claims on every other delivery: far beyond the lift level, every claim HIGH.
    for i in range(70):
        await score(journeys(abuser, category, [20 + i / 2], {0} if i % 2 == 0 else set()))
    [(status, evidence)] = await alert(abuser)
    assert status == "open" and evidence["numbers"]["log_bayes_factor"] >= lift
    assert {b for b, _ in await latest(abuser)} == {FraudBand.HIGH.value}
