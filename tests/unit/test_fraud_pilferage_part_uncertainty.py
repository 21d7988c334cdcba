"""A hub's weighed parcels carry the uncertainty of the part rates they were weighed by
(`pilferage.exposure_of`'s `rel_var`, `pilferage.with_exposure_uncertainty`): a part's rate read
off a few other hubs' few incidents is a guess, and an honest hub is not alerted on it."""

from __future__ import annotations

import math
import random
from collections import Counter

from services.fraud.detectors import pilferage, stats
from tests.unit.test_fraud_pilferage_exposure import SEQ, T, network

ALERT = math.log(1 / SEQ.alpha)


def one_and_two_hub(one_hub_losses: list[int], parcels: int = 160) -> dict[str, dict[str, int]]:
    """Four one-hub hubs losing `one_hub_losses` of `parcels`, beside six two-hub hubs each
    receiving `parcels` from the next and losing 5 of them (the integration test's network)."""
    rows: dict[str, Counter[str]] = {}
    for h, k in enumerate(one_hub_losses):
        rows[f"O-{h}"] = Counter(
            {"handled": parcels, "incidents": k, "handled_only": parcels, "incidents_only": k}
        )
    for h in range(6):
        dest = rows.setdefault(f"T-{h}", Counter())
        origin = rows.setdefault(f"T-{(h + 1) % 6}", Counter())
        dest.update({"handled": parcels, "handled_last": parcels, "incidents": 5})
        dest.update({"incidents_last": 5})
        origin.update({"handled": parcels, "handled_earlier": parcels})
    return {h: dict(r) for h, r in rows.items()}


def log_bfs(rows: dict[str, dict[str, int]], hub: str) -> tuple[float, float]:
    """The hub's sequential log Bayes factor against the other hubs (leave-one-out, weighed by
    information) with its point weight, and with the weight's uncertainty carried."""
    exposure = pilferage.exposure_of(rows, T)
    kept = [
        (r["incidents"], pilferage.weighed(r["handled"], r["incidents"], exposure[h].scale), 1)
        for h, r in rows.items()
        if h != hub
    ]
    spread = stats.sequential_peers(kept, T, prior_rate=0.03, leave_out=True, by_information=True)
    r = rows[hub]
    n = pilferage.weighed(r["handled"], r["incidents"], exposure[hub].scale)
    carried = pilferage.with_exposure_uncertainty(spread, exposure[hub].rel_var)
    return (
        stats.sequential_log_bf(r["incidents"], n, spread, SEQ),
        stats.sequential_log_bf(r["incidents"], n, carried, SEQ),
    )


def test_the_uncertainty_widens_the_honest_population_and_keeps_its_mean() -> None:
    spread = stats.PeerSpread(0.02, 500.0)
    assert pilferage.with_exposure_uncertainty(spread, 0.0) == spread
    wide = pilferage.with_exposure_uncertainty(spread, 0.25)
    assert wide.rate == spread.rate and wide.concentration < spread.concentration

    def rel_var(s: stats.PeerSpread) -> float:
        return (1 - s.rate) / (s.rate * (s.concentration + 1))

    # A peer's rate times a weight of mean 1 and relative variance 0.25.
    assert math.isclose(1 + rel_var(wide), (1 + rel_var(spread)) * 1.25, rel_tol=1e-9)
    # However uncertain, a population of at least one pseudo-parcel.
    assert pilferage.with_exposure_uncertainty(spread, 1e6).concentration >= 1.0


def test_honest_hubs_weighed_off_a_cold_hubs_handful_stay_below_the_alert() -> None:
    # Four honest one-hub hubs at one rate split 12, 10, 1, 2 by chance: O-0's part rate is
    # the median of the others, O-3's 2 in 160. The point weight alerted both hot hubs.
    rows = one_and_two_hub([12, 10, 1, 2])
    exposure = pilferage.exposure_of(rows, T)
    for hub in ("O-0", "O-1"):
        point, carried = log_bfs(rows, hub)
        assert point >= ALERT, (hub, point)
        assert carried < ALERT - 2, (hub, carried)
        assert exposure[hub].rel_var > 1.0, exposure[hub]


def test_a_hub_pilfering_among_few_hubs_of_its_part_still_alerts() -> None:
    # O-0 at 13 % where its three others agree at 3.1-3.8 %: the weight is known about as well
    # as their 17 incidents tell, and the pilferer stays above the alert.
    rows = one_and_two_hub([21, 6, 5, 6])
    assert pilferage.exposure_of(rows, T)["O-0"].rel_var < 0.1
    point, carried = log_bfs(rows, "O-0")
    assert carried >= ALERT and carried > point - 1.5, (point, carried)


def test_a_network_of_one_part_has_no_weight_to_doubt() -> None:
    # Every hub a journey's only hub (our simulator's swiftship worlds): the part is the whole
    # network, a hub weighs as its peers do, and nothing changes.
    rng = random.Random(4)
    rows = {}
    for h in range(6):
        n = rng.randint(100, 400)
        k = sum(rng.random() < 0.03 for _ in range(n))
        rows[f"H-{h}"] = {"handled": n, "incidents": k, "handled_only": n, "incidents_only": k}
    assert all(e.rel_var < 1e-9 for e in pilferage.exposure_of(rows, T).values())


def test_a_part_many_incidents_tell_is_known_well() -> None:
    # Four one-hub and four two-hub hubs of 400 parcels at 3 %: each part rate rests on tens of
    # incidents, and the weights' uncertainty stays small beside how much honest hubs differ.
    for seed in range(5):
        rows = network(random.Random(seed))
        assert all(e.rel_var < 0.05 for e in pilferage.exposure_of(rows, T).values())


def test_hubs_that_agree_leave_a_pilferers_weight_as_it_was() -> None:
    # The integration test of exposure's network: four two-hub hubs receiving 120 parcels, one
    # losing 14 (3.5x) where the others lose 4 each. Its part rate is read off three hubs that
    # agree: nothing to doubt beyond the binomial noise every peer rate carries, and its
    # evidence is what it was.
    rows: dict[str, Counter[str]] = {}
    for h in range(4):
        rows[f"O-{h}"] = Counter(
            {"handled": 120, "incidents": 4, "handled_only": 120, "incidents_only": 4}
        )
        dest = rows.setdefault(f"T-{h}", Counter())
        origin = rows.setdefault(f"T-{(h + 1) % 4}", Counter())
        k = 14 if h == 3 else 4
        dest.update({"handled": 120, "handled_last": 120, "incidents": k, "incidents_last": k})
        origin.update({"handled": 120, "handled_earlier": 120})
    counts = {h: dict(r) for h, r in rows.items()}
    assert pilferage.exposure_of(counts, T)["T-3"].rel_var == 0.0
    point, carried = log_bfs(counts, "T-3")
    assert carried == point
    # Its honest partners read their rate off it among others: theirs is doubted.
    assert pilferage.exposure_of(counts, T)["T-0"].rel_var > 0.1


def test_a_part_too_thin_to_tell_adds_no_doubt_to_the_networks_average() -> None:
    # Two one-hub hubs of 40 parcels beside six two-hub hubs: the other one-hub hub's parcels
    # lead one to expect under 10 incidents, so the part weighs at the network's average
    # (`PART_MIN_EXPECTED`), as before, and no disagreement is read from one hub.
    rows = one_and_two_hub([1, 2, 0, 0], parcels=40)
    for h in ("O-2", "O-3"):
        del rows[h]
    exposure = pilferage.exposure_of(rows, T)
    assert exposure["O-0"].scale == 1.0 and exposure["O-0"].rel_var == 0.0


def _scatter_of_the_others(cells: list[tuple[int, int]], rate: float) -> float:
    """`_disagreement` as its docstring states it, over a list of the other hubs' cells."""
    held = [(k, n) for k, n in cells if n > 0]
    if len(held) < 2 or rate <= 0:
        return 0.0
    total_n = sum(n for _, n in held)
    pooled = sum(k for k, _ in held) / total_n
    m = len(held)
    scatter = m / (m - 1) * sum(n * n * (k / n - pooled) ** 2 for k, n in held) / total_n**2
    return max(scatter - pooled * (1 - pooled) / total_n, 0.0) / (rate * rate)


def test_a_hubs_part_read_off_the_others_sums_is_the_others_scatter() -> None:
    """Each hub's disagreement is read off a part's sums less its own cell (so a scored event
    costs the network's hubs once, not their square): the same as over the others' cells."""
    rnd = random.Random(7)
    for _ in range(200):
        cells = [
            (rnd.randint(0, 12), rnd.choice([0, rnd.randint(1, 300)]))
            for _ in range(rnd.randint(1, 12))
        ]
        whole = pilferage._Scatter.of(cells)
        for i, (k, n) in enumerate(cells):
            others = cells[:i] + cells[i + 1 :]
            rate = rnd.uniform(0.005, 0.1)
            want = _scatter_of_the_others(others, rate)
            got = whole.without(k, n).disagreement(rate)
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (cells, i)
