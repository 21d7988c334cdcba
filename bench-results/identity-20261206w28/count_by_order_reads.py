"""How often the shared-identity test reads an identity's returns by order, and what the read
changes: `fraud-eval` run with `ClaimInputs.identity_by_order` and the test's findings counted.

    nice -n 10 .venv/bin/python bench-results/identity-20261206w28/count_by_order_reads.py \
        --direct --ranges dev --seeds 2 --out bench-results/identity-20261206w28/counted
"""

from __future__ import annotations

import atexit
import sys
from collections import Counter

from disputedesk.cli import app
from services.fraud.detectors import collusion
from services.fraud.scoring.claim_abuse import ClaimInputs

seen: Counter[str] = Counter()
changed: list[tuple[str, int, int, int, int]] = []
_by_order = ClaimInputs.identity_by_order
_findings = collusion.shared_identity_findings


async def identity_by_order(self, kind, value, own, since, until):  # type: ignore[no-untyped-def]
    k, n = await _by_order(self, kind, value, own, since, until)
    seen["reads"] += 1
    item = (own.get("claims", 0), own.get("delivered", 0))
    if (k, n) != item:
        seen["reads that changed the counts"] += 1
        changed.append((kind, *item, k, n))
    return k, n


def shared_identity_findings(*args, **kwargs):  # type: ignore[no-untyped-def]
    found = _findings(*args, **kwargs)
    seen["tests"] += 1
    seen["findings"] += bool(found)
    return found


ClaimInputs.identity_by_order = identity_by_order  # type: ignore[method-assign]
collusion.shared_identity_findings = shared_identity_findings


@atexit.register
def report() -> None:
    print("shared-identity tests and by-order reads:", dict(seen), file=sys.stderr)
    for kind, k0, n0, k, n in changed:
        print(f"  {kind}: {k0}/{n0} by item -> {k}/{n} by order", file=sys.stderr)


if __name__ == "__main__":
    app(["fraud-eval", *sys.argv[1:]])
