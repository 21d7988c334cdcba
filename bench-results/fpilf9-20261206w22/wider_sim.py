"""As `upper_sim.py` (same generator and draws), the spread read two ways: main (the peers whose
own evidence is MEDIUM leave both the mean and the spread, `stats.sequential_peers`) and
`wider` (they leave the mean, but the spread is the wider of the kept peers' and of all peers'
under `information_spread`'s own trim of peers three standard deviations above: an honest
population's most extreme members, which the MEDIUM step takes out, are its spread).
Run: .venv/bin/python wider_sim.py NETWORKS SEED [pilferers]"""

from __future__ import annotations

import sys

import upper_sim

from services.fraud.detectors import stats

MAIN = stats.sequential_peers


def wider(kept, t, *, prior_rate, **kw):  # type: ignore[no-untyped-def]
    trimmed = MAIN(kept, t, prior_rate=prior_rate, **kw)
    whole = stats.information_spread(
        [p for p in kept], prior_rate=prior_rate, max_concentration=t.max_concentration
    )
    return stats.PeerSpread(trimmed.rate, min(trimmed.concentration, whole.concentration))


upper_sim.WAYS = {"main": upper_sim.MAIN, "wider": upper_sim.MAIN}
_orig_run = upper_sim.run


class _Switch(dict):  # the way's name picks sequential_peers; _scatter stays main
    def items(self):  # type: ignore[override]
        for name in ("main", "wider"):
            stats.sequential_peers = MAIN if name == "main" else wider
            yield name, upper_sim.MAIN
        stats.sequential_peers = MAIN


upper_sim.WAYS = _Switch(main=None, wider=None)

if __name__ == "__main__":
    upper_sim.run(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0)
