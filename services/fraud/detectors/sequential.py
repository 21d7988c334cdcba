"""Sequential evidence against an entity: the finding of a sequential test (see
`stats.sequential_test`), shared by the rate patterns (claim abuse, pilferage, QC
contradictions), and the rule that clears an alert once its entity proves ordinary."""

from __future__ import annotations

import math

from services.fraud.detectors.findings import Finding
from services.fraud.detectors.stats import (
    PeerSpread,
    Sequential,
    SequentialTest,
    sequential_contribution,
    sequential_test,
)

# The patterns whose alerts rest on a rate, and so may be cleared when the rate proves
# ordinary; evidence reuse and collusion rest on facts that do not go away.
CLEARABLE_PREFIXES = ("CLAIM_ABUSE", "PILFERAGE_", "QC_CONTRADICTION_")


def sequential_findings(
    *,
    code: str,
    what: str,
    pattern: str,
    entity_type: str,
    entity_id: str,
    k: int,
    n: int,
    spread: PeerSpread,
    s: Sequential,
    action: str,
) -> tuple[SequentialTest, list[Finding]]:
    """The test of k events in n trials against the peers' honest spread, and its finding
    when it tips towards the alternative (an alert once it reaches 1/alpha)."""
    test = sequential_test(k, n, spread, s)
    contribution = sequential_contribution(test, s)
    if contribution <= 0:
        return test, []
    enough = k >= s.min_events
    if not enough:
        contribution = min(contribution, 0.79)
    return test, [
        Finding(
            code=code,
            detail=f"{what} {test.detail()}",
            contribution=contribution,
            pattern=pattern,
            entity_type=entity_type,
            entity_id=entity_id,
            numbers=test.numbers(),
            alert=enough and test.log_bf >= math.log(1 / s.alpha),
            suggested_action=action,
        )
    ]


def clears(
    pattern: str, test: SequentialTest | None, findings: list[Finding], s: Sequential
) -> bool:
    """Whether an open alert of `pattern` on the entity is cleared: the pattern rests on a
    rate, its sequential evidence has drained to `clear_at` (the entity's record now favours
    an ordinary entity over one at `ratio` times its peers, ten to one by default) and no live
    finding of the pattern is alert-worthy. A flag raised on a few early events is
    re-examined with every event."""
    if test is None or not pattern.startswith(CLEARABLE_PREFIXES):
        return False
    if any(f.alert for f in findings if f.pattern == pattern):
        return False
    return test.log_bf <= math.log(s.clear_at)


def stronger_of(findings: list[Finding], rate_code: str, sequential_code: str) -> list[Finding]:
    """A rate test and the sequential test of the same counts are two readings of one body of
    evidence, not two: only the stronger of them stays among the findings."""
    pair = [f for f in findings if f.code in (rate_code, sequential_code)]
    if len(pair) < 2:
        return findings
    keep = max(pair, key=lambda f: (f.contribution, f.code == sequential_code))
    return [f for f in findings if f not in pair or f is keep]
