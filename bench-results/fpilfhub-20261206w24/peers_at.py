"""A hub's sequential test as scoring reads it at a moment, offline: its window record weighed
by exposure, against every other hub weighed the same way (robust baseline, each peer without
itself and by information), without the product's explaining agents (hubs naming agents keep
their planted agents' parcels here: an upper bound for those hubs' peers).

    python peers_at.py RANGES SEED HUB AT [HUB AT ...]     (AT: 2026-01-12T12:44:08+00:00)

VARIANT=... selects an exposure variant from `variants.py` (default: the product's).
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from disputedesk.simulate import generator as g
from disputedesk.simulate.direct import canonical_event
from disputedesk.simulate.ranges import RANGE_SETS, draw_market
from services.fraud.detectors import pilferage
from services.fraud.detectors.stats import (
    PeerSpread,
    Sequential,
    Thresholds,
    robust_baseline,
    sequential_log_bf,
    sequential_test,
)
from services.fraud.features.service import Increments, record_scan
from services.fraud.models import ReturnFacts


def world(ranges: str, seed: int) -> tuple[g._Generator, g.World]:
    gen = g._Generator(draw_market(seed, RANGE_SETS[ranges][1]), seed, f"s{seed}")
    w = gen.run()
    w.seed = seed
    return gen, w


def counts_until(w: g.World, at: datetime) -> Increments:
    facts: dict[str, ReturnFacts] = {}
    inc = Increments()
    for i, a in enumerate(w.actions):
        if a.kind != "scan":
            continue
        _, ev = canonical_event(w, i, a)
        if ev.occurred_at > at:  # type: ignore[union-attr]
            break
        f = facts.setdefault(
            ev.return_id,  # type: ignore[union-attr]
            ReturnFacts(
                return_id=ev.return_id,  # type: ignore[union-attr]
                hubs=[],
                custody=[],
                incident=False,
                pair_counted=False,
            ),
        )
        record_scan(f, ev, inc, dear_from=None)  # type: ignore[arg-type]
    return inc


def hub_rows(
    inc: Increments, at: datetime, etype: str = "hub"
) -> dict[str, dict[str, int]]:
    since = (at - timedelta(days=56)).date()
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (et, eid, metric, day), n in inc.counts.items():
        if et == etype and since <= day <= at.date():
            rows[eid][metric] += n
    return {h: dict(r) for h, r in rows.items()}


def explained_rows(
    inc: Increments, at: datetime, rows: dict[str, dict[str, int]], t: Thresholds
) -> tuple[dict[str, dict[str, int]], dict[str, set[str]]]:
    """The hubs as the product counts them as peers: without their explaining agents
    (`hubs_without_explaining`, agents standing out or telling against the standardised
    agents), as `PilferageInputs.pilferage` reads them for a scan naming no agent."""
    all_hubs: dict[str, dict[str, pilferage.DayCount]] = defaultdict(dict)
    for pair, r in hub_rows(inc, at, "hub_agent").items():
        hub, _, agent = pair.partition("|")
        all_hubs[hub][agent] = pilferage.DayCount(r.get("handled", 0), r.get("incidents", 0))
    agents = {
        a: pilferage.DayCount(r.get("handled", 0), r.get("incidents", 0))
        for a, r in hub_rows(inc, at, "agent").items()
    }
    if not any(all_hubs.values()):
        return rows, {}
    std, _ = pilferage.standardised(agents, all_hubs, t)
    b = robust_baseline(
        list(std.values()), t, prior_rate=pilferage.PRIOR_RATE, leave_out=True,
        by_information=True,
    )
    s = Sequential()
    spread = b.spread or PeerSpread(pilferage.PRIOR_RATE, t.max_concentration)
    medium = math.log(1 / s.alpha_medium)
    explaining = {}
    for hub, at_hub in all_hubs.items():
        out = pilferage.agents_standing_out(at_hub, t)
        out |= {
            a for a in at_hub if a in std and sequential_test(*std[a], spread, s).log_bf >= medium
        }
        explaining[hub] = out
    return (
        pilferage.hubs_without_explaining(rows, all_hubs, lambda h: explaining.get(h, set())),
        explaining,
    )


def scales_of(rows: dict[str, dict[str, int]], t: Thresholds) -> dict[str, float]:
    variant = os.environ.get("VARIANT")
    if not variant:
        return pilferage.exposure_scales(rows, t)
    spec = importlib.util.spec_from_file_location("variants", Path(__file__).with_name("variants.py"))
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, variant)(rows, t)  # type: ignore[no-any-return]


def main() -> None:
    ranges, seed, *pairs = sys.argv[1:]
    gen, w = world(ranges, int(seed))
    t = Thresholds()
    s = Sequential()
    for hub, when in zip(pairs[::2], pairs[1::2], strict=True):
        at = datetime.fromisoformat(when)
        inc = counts_until(w, at)
        rows = hub_rows(inc, at)
        scales = scales_of(rows, t)
        if not os.environ.get("RAW"):
            rows, explaining = explained_rows(inc, at, rows, t)
            print("  explaining:", {h: sorted(a) for h, a in explaining.items() if a})
        weighed = {
            h: (
                r.get("incidents", 0),
                pilferage.weighed(r.get("handled", 0), r.get("incidents", 0), scales.get(h, 1.0)),
            )
            for h, r in rows.items()
        }
        others = [v for h, v in weighed.items() if h != hub]
        b = robust_baseline(others, t, prior_rate=pilferage.PRIOR_RATE, leave_out=True,
                            by_information=True)
        spread = b.spread or PeerSpread(pilferage.PRIOR_RATE, t.max_concentration)
        k, n = weighed[hub]
        kept = [
            h for h, (k_, n_) in weighed.items() if h != hub and b.keeps(k_, n_, t)
        ]
        print(
            f"{seed} {hub} at {when}: {k}/{n} (raw {rows[hub].get('handled', 0)}, scale "
            f"{scales.get(hub, 1.0):.2f}) vs peers {spread.rate:.4f} a+b "
            f"{spread.concentration:.0f}: log BF {sequential_log_bf(k, n, spread, s):.2f}; "
            f"kept {len(kept)}/{len(others)}, left out "
            f"{sorted(set(weighed) - set(kept) - {hub})}"
        )
        for h in sorted(weighed):
            if h not in gen.partner_of_hub:
                continue
            k_, n_ = weighed[h]
            print(
                f"    {h} {gen.partner_of_hub[h].format:10s} f={gen.hub_factor[h]:.2f} "
                f"{k_}/{n_} = {k_ / n_ if n_ else 0:.3f} scale {scales.get(h, 1.0):.2f}"
                + (" PLANTED" if h in gen.pilfering_hubs else "")
                + (" kept" if h in kept else "")
            )


if __name__ == "__main__":
    main()
