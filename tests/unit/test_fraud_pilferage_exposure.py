"""Hubs weighed by the part of the journey they held (`pilferage.exposure_scales`): the journey's
only hub, the last of several (where a loss on the way is declared), or an earlier one. An
honest hub's weighed rate is the network's whatever its partner's journeys look like, and a hub
pilfering on the parcels it receives stands out against honest hubs of both shapes."""

from __future__ import annotations

import math
import random
from collections import Counter

from services.fraud.detectors import pilferage, stats
from services.fraud.features.service import Increments, record_scan
from services.fraud.models import ReturnFacts
from tests.unit.test_fraud_pilferage_custody import S, desipost_sample, scan

T = stats.Thresholds()
SEQ = stats.Sequential(alpha=0.005)
PARTS = {"handled", "incidents", *pilferage.ROLE_METRICS}


def counted(scans: list) -> Counter[tuple[str, str]]:  # type: ignore[type-arg]
    f = ReturnFacts(
        return_id=scans[0].return_id, hubs=[], custody=[], incident=False, pair_counted=False
    )
    inc = Increments()
    for s in scans:
        record_scan(f, s, inc, dear_from=None)
    out: Counter[tuple[str, str]] = Counter()
    for (etype, eid, metric, _), n in inc.counts.items():
        if etype == "hub" and metric in PARTS:
            out[(eid, metric)] += n
    return out


def test_each_hub_counts_the_part_of_the_journey_it_held() -> None:
    # desipost: in transit at Kolkata, delivered short at Patna (the lot gives the drop to one).
    c = counted(desipost_sample())
    assert c[("Patna_Hub", "handled_last")] == 1
    assert c[("Kolkata_Hub", "handled_last")] == 0
    assert c[("Kolkata_Hub", "handled_only")] == c[("Patna_Hub", "handled_only")] == 0
    carrier = "Patna_Hub" if c[("Patna_Hub", "incidents")] else "Kolkata_Hub"
    assert c[("Patna_Hub", "incidents_last")] == (carrier == "Patna_Hub")
    # A loss declared at the destination is the last hub's.
    lost = [
        scan(S.PICKED_UP, 0, "Origin", weight=800, return_id="R-2"),
        scan(S.IN_TRANSIT, 10, "Origin", return_id="R-2"),
        scan(S.AT_HUB, 20, "Dest", return_id="R-2"),
        scan(S.LOST, 30, "Dest", return_id="R-2"),
    ]
    c = counted(lost)
    assert c[("Dest", "incidents_last")] == 1 and c[("Dest", "handled_last")] == 1
    assert c[("Origin", "handled")] == 1 and c[("Origin", "handled_last")] == 0
    # An earlier hub's part is counted too: parcels in no part are those counted before.
    assert c[("Origin", "handled_earlier")] == 1 and c[("Dest", "handled_earlier")] == 0
    # A journey of one hub is that hub's only.
    one = [
        scan(S.PICKED_UP, 0, "H-1", weight=1000, return_id="R-3"),
        scan(S.DELIVERED_TO_SELLER, 50, "H-1", weight=600, return_id="R-3"),
    ]
    c = counted(one)
    assert c[("H-1", "handled_only")] == 1 and c[("H-1", "incidents_only")] == 1


def late_scan(parts_counted: bool | None) -> Counter[tuple[str, str]]:
    """What a late scan at another hub revises on a journey that ended at one hub,
    counted with the parts (True) or before they were kept (None)."""
    f = ReturnFacts(return_id="R-9", hubs=[], custody=[], incident=False, pair_counted=False)
    for s in (
        scan(S.PICKED_UP, 0, "Dest", weight=1000, return_id="R-9"),
        scan(S.AT_HUB, 10, "Dest", return_id="R-9"),
        scan(S.DELIVERED_TO_SELLER, 50, "Dest", weight=1000, return_id="R-9"),
    ):
        record_scan(f, s, Increments(), dear_from=None)
    assert f.parts_counted is True
    f.parts_counted = parts_counted
    inc = Increments()
    record_scan(f, scan(S.IN_TRANSIT, 5, "Origin", return_id="R-9"), inc, dear_from=None)
    out: Counter[tuple[str, str]] = Counter()
    for (etype, eid, metric, _), n in inc.counts.items():
        if etype == "hub" and n:
            out[(eid, metric)] += n
    return out


def test_a_late_scan_revises_only_the_counters_its_end_wrote() -> None:
    # Ended with the parts: Dest was the only hub and is now the last; Origin an earlier one.
    c = late_scan(True)
    assert c[("Dest", "handled_only")] == -1 and c[("Dest", "handled_last")] == 1
    assert c[("Origin", "handled")] == 1 and c[("Origin", "handled_earlier")] == 1
    # Ended before the parts were kept: only the totals, never a part it did not store.
    c = late_scan(None)
    assert c[("Origin", "handled")] == 1
    assert not [key for key in c if key[1] in pilferage.ROLE_METRICS], c


def network(rng: random.Random, pilferer: str | None = None) -> dict[str, dict[str, int]]:
    """Four hubs of one-hub journeys and four of two-hub journeys (each receiving 400 parcels
    from the next), every honest parcel lost with 3 % on its last hub; `pilferer` loses 3x
    the parcels it receives."""
    rows: dict[str, Counter[str]] = {}
    for h in range(4):
        row = rows.setdefault(f"O-{h}", Counter())
        for _ in range(400):
            lost = rng.random() < 0.03
            row.update({"handled": 1, "handled_only": 1})
            row.update({"incidents": lost, "incidents_only": lost})
    for h in range(4):
        origin = rows.setdefault(f"T-{(h + 1) % 4}", Counter())
        dest = rows.setdefault(f"T-{h}", Counter())
        for _ in range(400):
            lost = rng.random() < 0.03 * (3 if f"T-{h}" == pilferer else 1)
            origin.update({"handled": 1, "handled_earlier": 1})
            dest.update({"handled": 1, "handled_last": 1})
            dest.update({"incidents": lost, "incidents_last": lost})
    return {h: dict(r) for h, r in rows.items()}


def weighed_rate(rows: dict[str, dict[str, int]], hub: str) -> float:
    scale = pilferage.exposure_scales(rows, T)[hub]
    r = rows[hub]
    return r["incidents"] / pilferage.weighed(r["handled"], r["incidents"], scale)


def test_honest_hubs_of_either_shape_weigh_alike() -> None:
    rng = random.Random(11)
    raw_two, raw_one, w_two, w_one = [], [], [], []
    for _ in range(40):
        rows = network(rng)
        for hub, r in rows.items():
            raw = r["incidents"] / r["handled"]
            (raw_two if hub.startswith("T") else raw_one).append(raw)
            (w_two if hub.startswith("T") else w_one).append(weighed_rate(rows, hub))
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    # Raw, a two-hub hub runs at half a one-hub hub's rate; weighed, they run alike.
    assert mean(raw_two) < 0.6 * mean(raw_one)
    assert abs(mean(w_two) / mean(w_one) - 1) < 0.1, (mean(w_two), mean(w_one))


def log_bf(rows: dict[str, dict[str, int]], hub: str, weigh: bool) -> float:
    scales = pilferage.exposure_scales(rows, T) if weigh else {}
    kept = [
        (r["incidents"], pilferage.weighed(r["handled"], r["incidents"], scales.get(h, 1.0)), 1)
        for h, r in rows.items()
        if h != hub
    ]
    spread = stats.sequential_peers(kept, T, prior_rate=0.03, leave_out=True, by_information=True)
    r = rows[hub]
    n = pilferage.weighed(r["handled"], r["incidents"], scales.get(hub, 1.0))
    return stats.sequential_log_bf(r["incidents"], n, spread, SEQ)


def test_a_hub_pilfering_on_the_parcels_it_receives_stands_out_weighed() -> None:
    rng = random.Random(1)
    raw = weighed = 0
    for _ in range(50):
        rows = network(rng, pilferer="T-2")
        raw += log_bf(rows, "T-2", weigh=False) >= math.log(200)
        weighed += log_bf(rows, "T-2", weigh=True) >= math.log(200)
    # At 3x on 400 parcels received (about 36 incidents), weighed: 33 of 50; raw: 3. (With each
    # hub's part rates taken from the other hubs, 33: 38 while a hub was among its own.)
    assert raw <= 8 and weighed >= 25, (raw, weighed)


def test_the_pilferer_does_not_lift_what_receiving_costs() -> None:
    # The part's expected rate is an ordinary hub's (a median), so the pilferer's excess does
    # not raise its own expectation nor lower its honest peers' weighed rate.
    rows = network(random.Random(3), pilferer="T-2")
    honest = network(random.Random(3))
    scales, honest_scales = pilferage.exposure_scales(rows, T), pilferage.exposure_scales(honest, T)
    assert abs(scales["T-2"] - honest_scales["T-2"]) < 0.1


def test_counters_without_parts_weigh_as_they_are() -> None:
    rows = {"A": {"handled": 300, "incidents": 9}, "B": {"handled": 500, "incidents": 10}}
    assert pilferage.exposure_scales(rows, T) == {"A": 1.0, "B": 1.0}
    assert pilferage.weighed(300, 9, 1.0) == 300


def test_a_hub_with_counters_from_before_the_parts_weighs_as_it_is() -> None:
    # Hubs counted with the parts beside one counted before them (totals only): its parcels
    # are in no part, not the cheapest (`earlier`), and it runs at its own rate, not ~100 %.
    rows = network(random.Random(7))
    rows["OLD"] = {"handled": 400, "incidents": 12}
    scales = pilferage.exposure_scales(rows, T)
    assert scales["OLD"] == 1.0
    assert weighed_rate(rows, "OLD") < 0.06, weighed_rate(rows, "OLD")
    # A hub with some journeys counted before the parts: that remainder weighs as it is.
    rows["MIX"] = {"handled": 200, "incidents": 6, "handled_only": 100, "incidents_only": 3}
    scales = pilferage.exposure_scales(rows, T)
    assert 1.0 < scales["MIX"] < scales["O-0"] and scales["O-0"] > 1.3
    assert abs(scales["MIX"] - (1 + scales["O-0"]) / 2) < 0.05


def test_a_pilferer_holding_half_a_part_does_not_set_its_own_rate() -> None:
    # A pilfering last hub (27 of 300) beside an honest last hub (3 of 100) and four one-hub
    # hubs (12 of 400): its part's rate is the other hubs', so it reads about 3x theirs.
    rows = {
        "P": {"handled": 300, "incidents": 27, "handled_last": 300, "incidents_last": 27},
        "L": {"handled": 100, "incidents": 3, "handled_last": 100, "incidents_last": 3},
    }
    for h in range(4):
        rows[f"O-{h}"] = {
            "handled": 400,
            "incidents": 12,
            "handled_only": 400,
            "incidents_only": 12,
        }
    assert weighed_rate(rows, "P") > 2 * weighed_rate(rows, "O-0")
    # Alone in its part, a hub weighs its parcels there as they are.
    alone = {"A": {"handled": 100, "incidents": 9, "handled_last": 100, "incidents_last": 9}}
    alone["B"] = {"handled": 400, "incidents": 12, "handled_only": 400, "incidents_only": 12}
    assert pilferage.exposure_scales(alone, T)["A"] == 1.0


def test_negative_counters_weigh_as_none() -> None:
    rows = {
        "A": {"handled": 300, "incidents": 9, "handled_only": -1, "handled_last": 301},
        "B": {"handled": 500, "incidents": 10, "handled_only": 500, "incidents_only": 10},
    }
    assert all(s >= 0 for s in pilferage.exposure_scales(rows, T).values())
    assert pilferage.weighed(-3, 0, 1.0) == 0 and pilferage.weighed(10, -1, -0.5) == 0


def test_the_last_hub_is_where_the_journey_ended() -> None:
    # A -> B -> A after the pickup: the journey ends at A, first seen first; B held an earlier
    # part (counted as B's last while the last hub was the one first seen last).
    c = counted(
        [
            scan(S.PICKED_UP, 0, "AREA", weight=1000, return_id="R-4"),
            scan(S.AT_HUB, 5, "A", return_id="R-4"),
            scan(S.AT_HUB, 10, "B", return_id="R-4"),
            scan(S.AT_HUB, 20, "A", return_id="R-4"),
            scan(S.LOST, 30, "A", return_id="R-4"),
        ]
    )
    assert c[("A", "handled_last")] == c[("A", "incidents_last")] == 1
    assert c[("B", "handled_earlier")] == 1 and c[("B", "handled_last")] == 0


def early_two_hub_partner() -> dict[str, dict[str, int]]:
    """A wide world's first week as counted: nine hubs of one-hub journeys, and a partner of
    three hubs whose journeys pass two of them. D-1 is honest and careless (its own incidents
    and its partners' drops by lot: 9 in 87); its partner hubs have few incidents yet, D-2
    none in its 73 two-hub parcels."""

    def one(k: int, n: int) -> dict[str, int]:
        return {"handled": n, "incidents": k, "handled_only": n, "incidents_only": k}

    rows = {
        f"O-{i}": one(k, n)
        for i, (k, n) in enumerate(
            [(2, 28), (1, 28), (5, 35), (1, 9), (0, 16), (0, 16), (0, 25), (3, 22), (1, 21)]
        )
    }
    for hub, (only, last, earlier) in {
        "D-1": ((3, 3), (5, 43), (1, 41)),
        "D-2": ((1, 1), (0, 35), (0, 38)),
        "D-3": ((1, 1), (4, 33), (0, 32)),
    }.items():
        parts = {"only": only, "last": last, "earlier": earlier}
        rows[hub] = {
            "handled": sum(n for _, n in parts.values()),
            "incidents": sum(k for k, _ in parts.values()),
        } | {
            f"{m}_{p}": c[i]
            for p, c in parts.items()
            for i, m in ((0, "incidents"), (1, "handled"))
        }
    return rows


def test_a_part_its_other_hubs_cannot_tell_yet_weighs_as_the_network() -> None:
    # The other hubs of D-1's parts expect about four incidents there: a rate read from them
    # (D-2's none in 35 parcels) weighed D-1's 87 parcels as 25 (scale 0.28), and scoring read
    # its honest 9 incidents at a Bayes factor of e^5.4, past the alert. Until the part can
    # tell its rate (`PART_MIN_EXPECTED`), its parcels weigh as the network's average.
    rows = early_two_hub_partner()
    scales = pilferage.exposure_scales(rows, T)
    assert scales["D-1"] > 0.8, scales["D-1"]
    assert log_bf(rows, "D-1", weigh=True) < math.log(200)
    # The one-hub hubs' own part holds enough parcels to be read, as before.
    assert scales["O-0"] != 1.0


def _figures(exposures: dict[str, pilferage.Exposure]) -> dict[str, tuple[float, float]]:
    return {h: (e.scale, e.rel_var) for h, e in exposures.items()}


def test_kept_exposures_patched_hub_by_hub_are_a_fresh_builds_to_the_last_bit() -> None:
    """`HubExposures` kept for a window and told of each hub whose totals change (as a batch's
    scans add to them) gives every hub's exposure, and each hub's asked alone, exactly as a
    fresh `exposure_of` of the totals as they now are: a scan later in the batch is weighed
    against the counts the scans before it added, not against those the table was built from.
    One hub's new parcels move the other hubs' weights too (the pooled rate, a part's ordinary
    rate and the medians without each hub), so a weight kept from before the change is
    wrong."""
    rnd = random.Random(37)
    rows: dict[str, dict[str, int]] = {}
    for h in range(12):
        row = {f"handled_{p}": rnd.choice([0, rnd.randint(20, 300)]) for p in pilferage.PARTS}
        row |= {
            f"incidents_{p}": rnd.randint(0, row[f"handled_{p}"] // 12) for p in pilferage.PARTS
        }
        row["handled"] = sum(row[f"handled_{p}"] for p in pilferage.PARTS) + rnd.choice([0, 9])
        row["incidents"] = sum(row[f"incidents_{p}"] for p in pilferage.PARTS)
        rows[f"H-{h}"] = row
    kept = pilferage.HubExposures.of(rows)
    before = _figures(kept.all(T))
    assert before == _figures(pilferage.exposure_of(rows, T))
    changes: list[tuple[str, dict[str, int]]] = [
        # A hub's last-of-several parcel lost on the way: its part's rate and every hub's
        # pooled rate move.
        ("H-3", {"handled": 1, "handled_last": 1, "incidents": 1, "incidents_last": 1}),
        # A hub new to the window, after the others; then one of its parcels again.
        ("H-new", {"handled": 40, "handled_only": 40, "incidents": 3, "incidents_only": 3}),
        ("H-new", {"handled": 1, "handled_earlier": 1}),
        # Parcels counted before the parts were kept (in no part).
        ("H-0", {"handled": 25}),
        # Many parcels at one hub: a part's median hub changes.
        ("H-5", {"handled": 900, "handled_only": 900, "incidents": 90, "incidents_only": 90}),
        # Totals unchanged (another metric of the read moved): nothing to patch.
        ("H-1", {}),
    ]
    moved_others = False
    for hub, increments in changes:
        row = rows.setdefault(hub, {})
        for metric, n in increments.items():
            row[metric] = row.get(metric, 0) + n
        kept.update(hub, row)
        fresh = _figures(pilferage.exposure_of(rows, T))
        assert _figures(kept.all(T)) == fresh
        assert list(kept.all(T)) == list(rows)  # in the read's order
        for h in rows:
            one = kept.exposure(h, T)
            assert one is not None and (one.scale, one.rel_var) == fresh[h]
        moved_others |= any(fresh[h] != before.get(h) for h in before if h != hub)
        before = fresh
    assert moved_others
    assert kept.exposure("H-unknown", T) is None
    # A population with no parcel in any part weighs every hub as counted.
    none = pilferage.HubExposures.of({"A": {"handled": 5}})
    assert (
        _figures(none.all(T))
        == {"A": (1.0, 0.0)}
        == _figures(pilferage.exposure_of({"A": {"handled": 5}}, T))
    )
