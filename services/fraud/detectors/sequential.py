"""Sequential evidence against an entity: the finding of a sequential test (see
`stats.sequential_test`), shared by the rate patterns (claim abuse, pilferage, QC
contradictions, wrong/used returns), and the rule that clears an alert once its entity proves
ordinary."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from services.fraud.detectors.findings import Finding
from services.fraud.detectors.stats import (
    PeerSpread,
    Sequential,
    SequentialTest,
    sequential_contribution,
    sequential_test,
)

# The patterns whose alerts rest on a rate, and so may be cleared when the rate proves
# ordinary; evidence reuse and collusion rest on facts that do not go away. A wrong/used
# buyer's alert rests on its named claims per return like any rate: a household flagged on
# its first few returns, claimed as wrong items, is as ordinary as its later returns show.
CLEARABLE_PREFIXES = ("CLAIM_ABUSE", "PILFERAGE_", "QC_CONTRADICTION_", "WRONG_USED_RETURNS")


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
    min_trials: float = 0.0,
    extra_log_bf: float = 0.0,
    history: tuple[int, int] = (0, 0),
) -> tuple[SequentialTest, list[Finding]]:
    """The test of k events in n trials against the peers' honest spread, and its finding
    when it tips towards the alternative (an alert once it reaches 1/alpha). No alert (and
    no HIGH) on fewer than `s.min_events` events or `min_trials` trials. `extra_log_bf` is a
    likelihood ratio on the same events' own features (a seller's claims' signs,
    `claim_abuse.signs_log_bf`), added to the count's. `history`: the entity's own record
    before these trials (`stats.sequential_test`)."""
    test = sequential_test(k, n, spread, s, history=history)
    if extra_log_bf:
        test = replace(test, log_bf=test.log_bf + extra_log_bf)
    contribution = sequential_contribution(test, s)
    if contribution <= 0:
        return test, []
    enough = k >= s.min_events and n >= min_trials
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


def strongest_of(findings: list[Finding], codes: list[str]) -> list[Finding]:
    """`stronger_of` for several readings of one body of evidence (the sequential test of the
    whole window, the one from a practice's likeliest onset, a rate test): only the strongest
    stays, the earlier of `codes` on a tie."""
    readings = [f for f in findings if f.code in codes]
    if len(readings) < 2:
        return findings
    keep = max(readings, key=lambda f: (f.contribution, -codes.index(f.code)))
    return [f for f in findings if f not in readings or f is keep]


def without_worst_part(
    k: int,
    n: int,
    parts: Mapping[str, tuple[int, int]],
    spread: PeerSpread,
    s: Sequential,
) -> tuple[str | None, SequentialTest]:
    """A place's (a hub's) sequential test with the part (an agent) whose leaving out weakens
    it most left out, and that part's name (None, and the whole place's test, when it has no
    named part, desipost never naming its agents, or when leaving out no part weakens it).

    A hub's excess that one agent carries is that agent's, whether or not the agent's own test
    has crossed yet; a hub's own practice shows on the parcels of several agents, and survives
    leaving any one of them out. A part whose leaving out makes the evidence stronger carries
    none of it: against peers read near the floor, every agent of a hub at 34 % lifted the
    factor by leaving, yet the least lift was named, and the hub's rate alert (p = 1.5e-10)
    was held as one agent's. A part without which fewer than `s.min_events` of the place's
    incidents remain carries it whatever the factors say: no test alerts on so few (a hub
    whose every incident comes through one agent is that agent's record)."""
    whole = sequential_test(k, n, spread, s)
    best: tuple[str | None, SequentialTest] = (None, whole)
    for name, (k_a, n_a) in parts.items():
        rest = sequential_test(max(k - k_a, 0), max(n - n_a, 0), spread, s)
        carries = rest.log_bf < whole.log_bf or rest.k < s.min_events
        # Of the parts that carry some of it, the one whose leaving out leaves the weakest rest.
        if carries and (best[0] is None or rest.log_bf < best[1].log_bf):
            best = (name, rest)
    return best


def held_by_one_part(
    findings: list[Finding],
    pattern: str,
    worst: str | None,
    rest: SequentialTest,
    s: Sequential,
) -> list[Finding]:
    """A place's alert-worthy findings of `pattern`, demoted to MEDIUM (no alert) when without
    its worst part (`without_worst_part`) the evidence is no longer telling (a Bayes factor
    below 1/alpha_medium). The alert itself still needs its own test at its false-alarm rate;
    this only adds a condition, so the stated rate still bounds it."""
    if worst is None or rest.log_bf >= math.log(1 / s.alpha_medium):
        return findings
    return demoted_where(
        findings,
        pattern,
        f"carried by one agent ({worst}): without it Bayes factor {rest.bayes_factor:.3g}",
        {"worst_part": worst, "log_bayes_factor_without_worst_part": round(rest.log_bf, 3)},
    )


def demoted_where(
    findings: list[Finding], pattern: str, why: str, numbers: Mapping[str, float | int | str]
) -> list[Finding]:
    """The findings, those alert-worthy for `pattern` held to MEDIUM (`demoted`)."""
    return [demoted(f, why, numbers) if f.alert_worthy(pattern) else f for f in findings]


def demoted(finding: Finding, why: str, numbers: Mapping[str, float | int | str]) -> Finding:
    """An alert-worthy finding held to MEDIUM (no alert, no HIGH), saying why."""
    return replace(
        finding,
        alert=False,
        contribution=min(finding.contribution, 0.79),
        detail=f"{finding.detail}; {why}",
        numbers=finding.numbers | dict(numbers),
    )
