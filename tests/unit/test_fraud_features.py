"""Feature updates: what each event adds to the counters, once, in event time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from services.fraud.features.custody import weight_drop
from services.fraud.features.dear import value_bin, value_metric
from services.fraud.features.service import (
    NETWORK,
    Increments,
    record_claim,
    record_return,
    record_scan,
)
from services.fraud.labels.service import precision_of
from services.fraud.models import ReturnFacts
from services.fraud.scoring.base import event_time
from services.fraud.scoring.service import apply_watchlist
from shared.events import (
    ClaimType,
    EscalationChannel,
    FraudBand,
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    ShipmentEventType,
)

T0 = datetime(2026, 1, 10, 9, tzinfo=UTC)


# Dear in its category from ₹10,000: the returns' items (₹15,000) are.
DEAR_FROM = value_bin(1_000_000)


def facts() -> ReturnFacts:
    return ReturnFacts(return_id="R-1", hubs=[], incident=False, pair_counted=False)


def ret() -> ReturnInitiated:
    return ReturnInitiated(
        return_id="R-1",
        order_id="O-1",
        seller_id="S-1",
        buyer_id="B-1",
        category="fashion",
        item_value=1_500_000,
        qc_required=True,
        partner_id="swiftship",
        awb="A-1",
        initiated_at=T0,
        buyer_contact_hash="c" * 64,
        buyer_address_hash="a" * 64,
    )


def scan(kind: ShipmentEventType, at: datetime, weight: int | None = None) -> ReturnShipmentEvent:
    return ReturnShipmentEvent(
        event_id=uuid4(),
        partner_id="swiftship",
        partner_event_id=str(uuid4()),
        return_id="R-1",
        awb="A-1",
        event_type=kind,
        occurred_at=at,
        hub_id="H-1",
        agent_id="AG-1",
        weight_g=weight,
        raw_ref="raw",
    )


def claim(kind: ClaimType, at: datetime) -> SellerEscalationFiled:
    return SellerEscalationFiled(
        escalation_id="ESC-1",
        return_id="R-1",
        seller_id="S-1",
        claim_type=kind,
        claimed_amount=1_500_000,
        description="x",
        channel=EscalationChannel.PORTAL,
        filed_at=at,
        filed_by="portal",
    )


def test_weight_drop_follows_the_sop_rule() -> None:
    assert weight_drop(1000, 899) is True
    assert weight_drop(1000, 900) is False
    assert weight_drop(300, 251) is False  # 50 g floor
    assert weight_drop(None, 100) is None


def test_a_journey_counts_in_event_time_for_every_entity_and_peer_group() -> None:
    f, inc = facts(), Increments()
    record_return(f, ret(), inc)
    assert inc.identities == [("contact", "c" * 64, "B-1"), ("address", "a" * 64, "B-1")]
    record_scan(
        f,
        scan(ShipmentEventType.QC_PASSED, T0 + timedelta(days=1), 1000),
        inc,
        dear_from=DEAR_FROM,
    )
    delivered_at = T0 + timedelta(days=3)
    ended = record_scan(
        f, scan(ShipmentEventType.DELIVERED_TO_SELLER, delivered_at, 600), inc, dear_from=DEAR_FROM
    )
    assert ended and f.incident  # 600 g of 1000 g arrived: a weight drop
    d = delivered_at.date()
    c = inc.counts
    assert c[("agent", "AG-1", "qc_passed", (T0 + timedelta(days=1)).date())] == 1
    assert c[("seller", "S-1", "delivered", d)] == 1
    assert c[("category", "fashion", "delivered_high_value", d)] == 1
    # The category's values, from which its dear end is learnt.
    assert c[("category", "fashion", value_metric(1_500_000), d)] == 1
    assert c[("hub", "H-1", "incidents", d)] == 1 and c[("agent", "AG-1", "incidents", d)] == 1
    assert c[(NETWORK, "hub", "handled", d)] == 1
    assert inc.pairs[("seller_buyer", "S-1", "B-1", "delivered")] == 1


def test_a_second_terminal_scan_counts_nothing() -> None:
    f, inc = facts(), Increments()
    record_return(f, ret(), inc)
    record_scan(f, scan(ShipmentEventType.DELIVERED_TO_SELLER, T0, 500), inc, dear_from=0)
    before = dict(inc.counts)
    assert not record_scan(
        f, scan(ShipmentEventType.DELIVERED_TO_SELLER, T0, 500), inc, dear_from=0
    )
    assert dict(inc.counts) == before


def test_a_claim_is_counted_once_per_return_with_its_red_flags() -> None:
    f, inc = facts(), Increments()
    record_return(f, ret(), inc)
    record_scan(f, scan(ShipmentEventType.QC_PASSED, T0, 1000), inc, dear_from=DEAR_FROM)
    record_scan(
        f,
        scan(ShipmentEventType.DELIVERED_TO_SELLER, T0 + timedelta(days=2), 995),
        inc,
        dear_from=DEAR_FROM,
    )
    filed = T0 + timedelta(days=2, hours=160)
    assert record_claim(
        f,
        claim(ClaimType.MISSING_ITEM, filed),
        inc,
        window_h=168,
        late_margin_h=12,
    )
    d = filed.date()
    c = inc.counts
    assert c[("seller", "S-1", "claims", d)] == 1
    assert c[("seller", "S-1", "claims_missing_intact", d)] == 1
    assert c[("seller", "S-1", "claims_late", d)] == 1
    # Dear as its delivery was counted.
    assert c[("category_seller", "fashion|S-1", "claims_high_value", d)] == 1
    assert c[("buyer", "B-1", "named_claims", d)] == 1
    # A missing item can vanish after a sound pickup: it does not contradict the QC pass.
    assert ("agent", "AG-1", "qc_contradictions", d) not in c
    assert inc.pairs[("agent_buyer", "AG-1", "B-1", "disputed")] == 1
    inc2 = Increments()
    assert not record_claim(
        f,
        claim(ClaimType.DAMAGED, filed),
        inc2,
        window_h=168,
        late_margin_h=12,
    )
    assert not inc2.counts


def test_a_wrong_item_after_a_qc_pass_contradicts_the_agent_and_hub() -> None:
    f, inc = facts(), Increments()
    record_return(f, ret(), inc)
    record_scan(f, scan(ShipmentEventType.QC_PASSED, T0, 1000), inc, dear_from=DEAR_FROM)
    record_scan(
        f,
        scan(ShipmentEventType.DELIVERED_TO_SELLER, T0 + timedelta(days=2), 995),
        inc,
        dear_from=DEAR_FROM,
    )
    filed = T0 + timedelta(days=3)
    assert record_claim(
        f,
        claim(ClaimType.WRONG_ITEM, filed),
        inc,
        window_h=168,
        late_margin_h=12,
    )
    d = filed.date()
    assert inc.counts[("agent", "AG-1", "qc_contradictions", d)] == 1
    assert inc.counts[("hub_agent", f"{f.qc_hub_id}|AG-1", "qc_contradictions", d)] == 1


def test_event_time_is_the_facts_own_time() -> None:
    assert event_time(claim(ClaimType.DAMAGED, T0)) == T0
    assert event_time(scan(ShipmentEventType.PICKED_UP, T0 + timedelta(hours=1))) == T0 + timedelta(
        hours=1
    )
    assert event_time(ret()) == T0


def test_manual_watchlist_raises_the_band_by_one() -> None:
    class Entry:
        source, entity_type, entity_id, reason = "manual", "seller", "S-1", "chargebacks"

    score, band, reasons = apply_watchlist(0.1, FraudBand.LOW, [Entry()])
    assert band is FraudBand.MEDIUM and score == 0.5
    assert reasons[0].code == "WATCHLIST_MANUAL"
    _, band, _ = apply_watchlist(0.6, FraudBand.MEDIUM, [Entry()])
    assert band is FraudBand.HIGH


def test_precision_from_labels() -> None:
    fig = precision_of(
        [
            ("confirmed_fraud", True),
            ("legitimate", True),
            ("confirmed_fraud", False),
            ("legitimate", False),
        ]
    )
    assert (fig.flagged, fig.true_positives, fig.false_positives) == (2, 1, 1)
    assert fig.precision == 0.5 and fig.recall == 0.5
    assert precision_of([]).precision is None


def test_a_claim_on_a_parcel_that_never_arrived_stays_out_of_the_seller_claim_rate() -> None:
    f, inc = facts(), Increments()
    record_return(f, ret(), inc)
    record_scan(f, scan(ShipmentEventType.LOST, T0), inc, dear_from=DEAR_FROM)
    assert record_claim(
        f,
        claim(ClaimType.NOT_RECEIVED, T0 + timedelta(days=12)),
        inc,
        window_h=168,
        late_margin_h=12,
    )
    assert not any(k[0] == "seller" and k[2] == "claims" for k in inc.counts)


def test_a_naming_claim_on_a_parcel_that_lost_weight_does_not_name_the_buyer() -> None:
    def named(delivered_weight: int) -> Increments:
        f, inc = facts(), Increments()
        record_return(f, ret(), inc)
        record_scan(f, scan(ShipmentEventType.QC_PASSED, T0, 1000), inc, dear_from=DEAR_FROM)
        record_scan(
            f,
            scan(ShipmentEventType.DELIVERED_TO_SELLER, T0 + timedelta(days=2), delivered_weight),
            inc,
            dear_from=DEAR_FROM,
        )
        out = Increments()
        record_claim(
            f,
            claim(ClaimType.MISSING_ITEM, T0 + timedelta(days=2, hours=5)),
            out,
            window_h=168,
            late_margin_h=12,
        )
        return out

    d = (T0 + timedelta(days=2, hours=5)).date()
    intact, light = named(995), named(600)
    assert intact.counts[("buyer", "B-1", "named_claims", d)] == 1
    assert intact.pairs[("seller_buyer", "S-1", "B-1", "named")] == 1
    # The QC agent who passed the parcel: what its passes said of this buyer.
    assert intact.pairs[("qc_agent_buyer", "AG-1", "B-1", "named")] == 1
    # 600 g of 1000 g arrived: the partner's handling explains the missing item.
    assert ("buyer", "B-1", "named_claims", d) not in light.counts
    assert ("seller_buyer", "S-1", "B-1", "named") not in light.pairs
    assert ("qc_agent_buyer", "AG-1", "B-1", "named") not in light.pairs
    # It is still a dispute of the agent's pickup.
    assert light.pairs[("agent_buyer", "AG-1", "B-1", "disputed")] == 1


def test_a_qc_passed_delivery_counts_for_its_qc_agent_and_buyer() -> None:
    f, inc = facts(), Increments()
    record_return(f, ret(), inc)
    record_scan(f, scan(ShipmentEventType.QC_PASSED, T0, 1000), inc, dear_from=DEAR_FROM)
    record_scan(
        f,
        scan(ShipmentEventType.DELIVERED_TO_SELLER, T0 + timedelta(days=2), 990),
        inc,
        dear_from=DEAR_FROM,
    )
    assert inc.pairs[("qc_agent_buyer", "AG-1", "B-1", "delivered")] == 1
    g, plain = facts(), Increments()
    record_return(g, ret(), plain)
    record_scan(g, scan(ShipmentEventType.PICKED_UP, T0, 1000), plain, dear_from=DEAR_FROM)
    record_scan(
        g,
        scan(ShipmentEventType.DELIVERED_TO_SELLER, T0 + timedelta(days=2), 990),
        plain,
        dear_from=DEAR_FROM,
    )
    assert not any(k[0] == "qc_agent_buyer" for k in plain.pairs)
