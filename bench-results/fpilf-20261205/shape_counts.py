"""Each hub's pilferage record in a drawn world, counted the two ways, from the world's own
scans through fraud's `record_scan` (no database): every hub named (custody None, as before
2026-12-05) and the hub where the incident happened (`features.custody`). Prints per world the
planted hubs, the honest hubs' pooled rate by partner, and the pickup areas.

    python shape_counts.py SEED [SEED ...]
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict

from disputedesk.simulate.direct import canonical_event
from disputedesk.simulate.generator import generate
from disputedesk.simulate.ranges import draw_market
from services.fraud.features.service import Increments, record_scan
from services.fraud.models import ReturnFacts
from shared.events import ReturnShipmentEvent


def hub_records(world, kept: bool) -> dict[str, tuple[int, int]]:
    facts: dict[str, ReturnFacts] = {}
    inc = Increments()
    for i, action in enumerate(world.actions):
        if action.kind != "scan":
            continue
        _, event = canonical_event(world, i, action)
        assert isinstance(event, ReturnShipmentEvent)
        f = facts.setdefault(
            event.return_id,
            ReturnFacts(
                return_id=event.return_id,
                hubs=[],
                custody=[] if kept else None,
                incident=False,
                pair_counted=False,
            ),
        )
        record_scan(f, event, inc, dear_from=None)
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (etype, eid, metric, _), n in inc.counts.items():
        if etype == "hub" and metric in ("incidents", "handled"):
            out[eid][metric == "handled"] += n
    return {h: (k, n) for h, (k, n) in out.items()}


def main() -> None:
    for seed in map(int, sys.argv[1:]):
        market = draw_market(seed)
        world = generate(market, seed)
        planted = {e for t, e in world.truth.entities["pilferage"] if t == "hub"}
        partner = {}
        for a in world.actions:
            if a.kind == "scan":
                partner.setdefault(a.body["hub"], a.partner_format)
        print(f"world {seed}: rapidroute agentless {market.rapidroute_agentless_share:.2f}")
        for kept in (False, True):
            rec = hub_records(world, kept)
            honest: dict[str, Counter[str]] = defaultdict(Counter)
            for h, (k, n) in rec.items():
                if h in planted:
                    continue
                kind = "pickup area" if h.startswith("PA-") else partner[h]
                honest[kind]["k"] += k
                honest[kind]["n"] += n
            label = "custody" if kept else "every hub named"
            rates = ", ".join(
                f"{p} {c['k']}/{c['n']} = {c['k'] / max(c['n'], 1):.2%}"
                for p, c in sorted(honest.items())
            )
            print(f"  {label}: honest {rates}")
            for h in sorted(planted):
                k, n = rec.get(h, (0, 0))
                rel = world.truth.relevant[("pilferage", "hub", h)]
                print(
                    f"    planted {h} ({partner[h]}, realized "
                    f"{world.truth.realized.get(('pilferage', 'hub', h))}x, truth {rel}): "
                    f"{k}/{n} = {k / max(n, 1):.2%}"
                )


if __name__ == "__main__":
    main()
