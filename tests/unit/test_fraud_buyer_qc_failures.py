"""A return refused at pickup by the partner's QC counts for its buyer's wrong/used test: once,
whether the QC failure reaches fraud before or after the feed entry naming the buyer."""

from __future__ import annotations

from datetime import timedelta

from services.fraud.features.service import NETWORK, Increments, record_return, record_scan
from services.fraud.scoring.claim_abuse import CLAIM_METRICS
from shared.events import ShipmentEventType
from tests.unit.test_fraud_features import DEAR_FROM, T0, facts, ret, scan

FAILED = ShipmentEventType.QC_FAILED


def failed_counts(inc: Increments) -> dict[tuple[str, str, str], int]:
    out: dict[tuple[str, str, str], int] = {}
    for (etype, eid, metric, _), n in inc.counts.items():
        if metric == "qc_failed" and n:
            out[(etype, eid, metric)] = out.get((etype, eid, metric), 0) + n
    return out


def test_a_qc_failure_after_the_feed_counts_for_the_buyer_and_its_seller_once() -> None:
    f, inc = facts(), Increments()
    record_return(f, ret(), inc)
    at = T0 + timedelta(days=1)
    record_scan(f, scan(FAILED, at, 450), inc, dear_from=DEAR_FROM)
    # The partner sends the refusal again (a retry, a later snapshot): counted once.
    record_scan(f, scan(FAILED, at, 450), inc, dear_from=DEAR_FROM)
    assert inc.counts[("buyer", "B-1", "qc_failed", at.date())] == 1
    assert failed_counts(inc) == {
        ("buyer", "B-1", "qc_failed"): 1,
        (NETWORK, "buyer", "qc_failed"): 1,
    }
    assert inc.pairs[("seller_buyer", "S-1", "B-1", "qc_failed")] == 1
    # It is no named claim, and no delivery: the buyer's test adds it to both itself.
    assert not any(m in ("named_claims", "delivered") for (_, _, m, _) in inc.counts)


def test_a_qc_failure_ahead_of_the_feed_is_counted_when_the_buyer_is_known() -> None:
    f, inc = facts(), Increments()
    record_scan(f, scan(FAILED, T0 + timedelta(days=1), 450), inc, dear_from=DEAR_FROM)
    assert failed_counts(inc) == {}  # whose return it was is not known yet
    record_return(f, ret(), inc)
    assert inc.counts[("buyer", "B-1", "qc_failed", T0.date())] == 1
    assert inc.pairs[("seller_buyer", "S-1", "B-1", "qc_failed")] == 1
    # The feed entry again (a redelivery) counts nothing more.
    record_return(f, ret(), inc)
    assert failed_counts(inc) == {
        ("buyer", "B-1", "qc_failed"): 1,
        (NETWORK, "buyer", "qc_failed"): 1,
    }


def test_a_qc_pass_or_a_failure_after_a_pass_is_not_the_buyers() -> None:
    f, inc = facts(), Increments()
    record_return(f, ret(), inc)
    record_scan(f, scan(ShipmentEventType.QC_PASSED, T0 + timedelta(days=1), 450), inc, dear_from=0)
    # The return's QC result is its first: a later failure scan does not undo the pass.
    record_scan(f, scan(FAILED, T0 + timedelta(days=1, hours=1), 450), inc, dear_from=0)
    assert failed_counts(inc) == {}


def test_a_claim_reads_the_buyers_refusals_with_its_named_claims() -> None:
    from services.fraud.scoring.returns_abuse import BUYER_METRICS

    # The claim's window read (prefetched per batch) carries what the buyer's test weighs.
    assert set(BUYER_METRICS) <= set(CLAIM_METRICS)


PICKED_UP = ShipmentEventType.PICKED_UP
PASSED = ShipmentEventType.QC_PASSED
DELIVERED = ShipmentEventType.DELIVERED_TO_SELLER


def net_failed(inc: Increments) -> tuple[dict[tuple[str, str, str], int], int]:
    counts = {k: n for k, n in failed_counts(inc).items() if n}
    pair = inc.pairs.get(("seller_buyer", "S-1", "B-1", "qc_failed"), 0)
    return counts, pair


def test_a_refusal_the_return_moves_on_from_is_taken_back_in_any_order() -> None:
    """SOP P3 picks up a return after its QC failure (or it passes on a second look): it is
    counted as what it became (delivered, claimed), not also as a refusal, so one item is not
    two wrong of two. Whatever order the scans and the feed entry arrive in, and redelivered."""
    day1, day2 = T0 + timedelta(days=1), T0 + timedelta(days=1, hours=2)
    sequences = [
        ["ret", (FAILED, day1), (PICKED_UP, day2)],
        ["ret", (PICKED_UP, day2), (FAILED, day1)],
        [(FAILED, day1), "ret", (PICKED_UP, day2)],
        [(FAILED, day1), (PICKED_UP, day2), "ret"],
        ["ret", (FAILED, day1), (PASSED, day2)],
        ["ret", (FAILED, day1), (DELIVERED, T0 + timedelta(days=3))],
        ["ret", (FAILED, day1), (FAILED, day1), "ret", (PICKED_UP, day2), (PICKED_UP, day2)],
    ]
    for seq in sequences:
        f, inc = facts(), Increments()
        for step in seq:
            if step == "ret":
                record_return(f, ret(), inc)
            else:
                kind, at = step
                record_scan(f, scan(kind, at, 450), inc, dear_from=DEAR_FROM)
        assert net_failed(inc) == ({}, 0), seq
        assert f.refusal_day is None, seq


def test_a_refusal_that_stands_stays_counted_once_under_its_day() -> None:
    f, inc = facts(), Increments()
    record_return(f, ret(), inc)
    day1 = T0 + timedelta(days=1)
    record_scan(f, scan(FAILED, day1, 450), inc, dear_from=DEAR_FROM)
    # An ordinary scan without a pickup (an update of the status) does not move it on.
    record_return(f, ret(), inc)
    assert f.refusal_day == day1.date()
    assert net_failed(inc) == (
        {("buyer", "B-1", "qc_failed"): 1, (NETWORK, "buyer", "qc_failed"): 1},
        1,
    )
    # Picked up days later: taken back from the day it was counted under.
    record_scan(f, scan(PICKED_UP, day1 + timedelta(days=2), 450), inc, dear_from=DEAR_FROM)
    assert inc.counts[("buyer", "B-1", "qc_failed", day1.date())] == 0
