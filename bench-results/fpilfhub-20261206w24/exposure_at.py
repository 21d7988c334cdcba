"""Every hub's window record by the part of the journey it held, and its exposure scale
(`pilferage.exposure_scales`), on given days: python exposure_at.py RANGES SEED DAY [DAY ...]
(DAY: the window's last day, 2026-01-12; the window is the 56 days before it, as scoring reads
it). No database: the world's scans counted by fraud's own `record_scan`."""

from __future__ import annotations

import sys
from collections import defaultdict
from datetime import date, timedelta

from disputedesk.simulate import generator as g
from disputedesk.simulate.direct import canonical_event
from disputedesk.simulate.ranges import RANGE_SETS, draw_market
from services.fraud.detectors import pilferage
from services.fraud.detectors.stats import Thresholds
from services.fraud.features.service import Increments, record_scan
from services.fraud.models import ReturnFacts


def counts(ranges: str, seed: int) -> tuple[g._Generator, Increments]:
    gen = g._Generator(draw_market(seed, RANGE_SETS[ranges][1]), seed, f"s{seed}")
    world = gen.run()
    world.seed = seed
    facts: dict[str, ReturnFacts] = {}
    inc = Increments()
    for i, a in enumerate(world.actions):
        if a.kind != "scan":
            continue
        _, ev = canonical_event(world, i, a)
        f = facts.setdefault(
            ev.return_id,
            ReturnFacts(
                return_id=ev.return_id, hubs=[], custody=[], incident=False, pair_counted=False
            ),
        )
        record_scan(f, ev, inc, dear_from=None)  # type: ignore[arg-type]
    return gen, inc


def rows_at(inc: Increments, until: date) -> dict[str, dict[str, int]]:
    since = until - timedelta(days=56)
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (etype, eid, metric, day), n in inc.counts.items():
        if etype == "hub" and since <= day <= until:
            rows[eid][metric] += n
    return {h: dict(r) for h, r in rows.items()}


def main() -> None:
    ranges, seed, *days = sys.argv[1:]
    gen, inc = counts(ranges, int(seed))
    t = Thresholds()
    for d in days:
        rows = rows_at(inc, date.fromisoformat(d))
        scales = pilferage.exposure_scales(rows, t)
        print(f"== {seed} window ending {d}")
        for h in sorted(rows):
            if h not in gen.partner_of_hub:
                continue
            r = rows[h]
            parts = " ".join(
                f"{p}={r.get(f'incidents_{p}', 0)}/{r.get(f'handled_{p}', 0)}"
                for p in pilferage.PARTS
            )
            n, k = r.get("handled", 0), r.get("incidents", 0)
            w = pilferage.weighed(n, k, scales[h])
            print(
                f"  {h} {gen.partner_of_hub[h].format:10s} f={gen.hub_factor[h]:.2f} "
                f"{k}/{n} raw {k / n if n else 0:.3f} scale {scales[h]:.2f} weighed {k}/{w} "
                f"= {k / w if w else 0:.3f}  [{parts}]"
                + (" PLANTED" if h in gen.pilfering_hubs else "")
                + (" bad-day" if h == gen.bad_day_hub else "")
            )


if __name__ == "__main__":
    main()
