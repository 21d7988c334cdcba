"""What-if: judge past cases again under a draft policy and say what would have changed.

Each finished case stored the facts snapshot its decision read. Both sides of the comparison are
re-evaluated from that snapshot — the policy the case was decided under, and the draft — so the
difference is the policy's alone, not the desk's manual overrides or the order facts arrived in.
A finished case waits for nothing any more, so every timer counts as over: a claim without its
evidence is judged as one whose reply-by passed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.reconciliation.policy.facts import Facts
from services.reconciliation.policy.rules import Step, Verdict, evaluate_claim, evaluate_proactive
from services.reconciliation.policy.sop_v1 import Policy

# Verdict steps as the desk reads them: paid or denied by a rule, rejected, or left to a person.
_SETTLED = {Step.DECIDE: "DECIDED", Step.PROPOSE: "NEEDS_APPROVAL", Step.REJECT: "REJECTED"}
SAMPLE_LIMIT = 100


@dataclass(frozen=True, slots=True)
class PastCase:
    case_id: str
    proactive: bool
    policy_version: str
    facts: Facts


@dataclass(frozen=True, slots=True)
class Judgement:
    """What a policy makes of one case: where it ends and what it pays."""

    result: str  # DECIDED | NEEDS_APPROVAL | REJECTED | REVIEW
    rule_id: str
    outcome: str | None
    reason_code: str | None
    payout: int
    partner_debit: int
    buyer_receivable: int
    marketplace_cost: int

    @property
    def label(self) -> str:
        detail = self.outcome or self.reason_code or ""
        return f"{self.rule_id} {self.result}" + (f" {detail}" if detail else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "rule_id": self.rule_id,
            "outcome": self.outcome,
            "reason_code": self.reason_code,
            "payout": self.payout,
            "partner_debit": self.partner_debit,
            "buyer_receivable": self.buyer_receivable,
            "marketplace_cost": self.marketplace_cost,
        }


def judge(case: PastCase, policy: Policy) -> Judgement:
    verdict: Verdict
    if case.proactive:
        verdict = evaluate_proactive(case.facts, policy, fraud_wait_over=True)
    else:
        verdict = evaluate_claim(
            case.facts, policy, facts_wait_over=True, reply_by_passed=True, fraud_wait_over=True
        )
    amounts = verdict.amounts
    return Judgement(
        result=_SETTLED.get(verdict.step, "REVIEW"),
        rule_id=verdict.rule_id,
        outcome=amounts.outcome.value if amounts else None,
        reason_code=verdict.reason_code,
        payout=amounts.payout if amounts else 0,
        partner_debit=amounts.partner_debit if amounts else 0,
        buyer_receivable=amounts.buyer_receivable if amounts else 0,
        marketplace_cost=amounts.marketplace_cost if amounts else 0,
    )


@dataclass(slots=True)
class Totals:
    cases: int = 0
    decided: int = 0
    needs_approval: int = 0
    rejected: int = 0
    review: int = 0
    payout: int = 0
    partner_debit: int = 0
    buyer_receivable: int = 0
    marketplace_cost: int = 0

    def add(self, j: Judgement) -> None:
        self.cases += 1
        if j.result == "DECIDED":
            self.decided += 1
        elif j.result == "NEEDS_APPROVAL":
            self.needs_approval += 1
        elif j.result == "REJECTED":
            self.rejected += 1
        else:
            self.review += 1
        self.payout += j.payout
        self.partner_debit += j.partner_debit
        self.buyer_receivable += j.buyer_receivable
        self.marketplace_cost += j.marketplace_cost

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(slots=True)
class WhatIfReport:
    draft_version: str
    changes: list[dict[str, Any]]
    current: Totals = field(default_factory=Totals)
    draft: Totals = field(default_factory=Totals)
    changed: int = 0
    # "L6 DECIDED GRANTED → E4 REJECTED EVIDENCE_MISSING" -> cases, payout delta
    transitions: dict[str, dict[str, int]] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    # partner -> cases changed and the change in what that partner is debited
    partners: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        deltas = {
            key: self.draft.as_dict()[key] - value for key, value in self.current.as_dict().items()
        }
        return {
            "draft_version": self.draft_version,
            "policy_changes": self.changes,
            "cases": self.current.cases,
            "changed": self.changed,
            "current": self.current.as_dict(),
            "draft": self.draft.as_dict(),
            "delta": deltas,
            "transitions": [
                {"change": change, **figures}
                for change, figures in sorted(
                    self.transitions.items(), key=lambda kv: (-kv[1]["cases"], kv[0])
                )
            ],
            "samples": self.samples,
            "skipped": self.skipped,
            "partners": [
                {"partner_id": partner, **figures}
                for partner, figures in sorted(self.partners.items())
            ],
        }


def compare(
    cases: Iterable[PastCase], policies: Mapping[str, Policy], draft: Policy
) -> WhatIfReport:
    """Every case judged under the policy it was decided with and under the draft."""
    report = WhatIfReport(draft_version=draft.version, changes=[])
    transitions: dict[str, Counter[str]] = defaultdict(Counter)
    skipped: Counter[str] = Counter()
    partners: dict[str, Counter[str]] = defaultdict(Counter)
    for case in cases:
        current_policy = policies.get(case.policy_version)
        if current_policy is None:
            skipped[f"unknown policy {case.policy_version}"] += 1
            continue
        before, after = judge(case, current_policy), judge(case, draft)
        report.current.add(before)
        report.draft.add(after)
        if before == after:
            continue
        report.changed += 1
        partner = partners[case.facts.partner_id or "unknown"]
        partner["cases_changed"] += 1
        partner["partner_debit_delta"] += after.partner_debit - before.partner_debit
        change = f"{before.label} → {after.label}"
        transitions[change]["cases"] += 1
        transitions[change]["payout_delta"] += after.payout - before.payout
        transitions[change]["marketplace_cost_delta"] += (
            after.marketplace_cost - before.marketplace_cost
        )
        if len(report.samples) < SAMPLE_LIMIT:
            report.samples.append(
                {"case_id": case.case_id, "current": before.as_dict(), "draft": after.as_dict()}
            )
    report.transitions = {k: dict(v) for k, v in transitions.items()}
    report.skipped = dict(skipped)
    report.partners = {k: dict(v) for k, v in partners.items()}
    return report


def policy_changes(base: Policy, draft: Policy) -> list[dict[str, Any]]:
    """Field-by-field differences, as dotted paths: what a reviewer of the draft reads first."""
    out: list[dict[str, Any]] = []
    _diff(base.model_dump(mode="json"), draft.model_dump(mode="json"), "", out)
    return [c for c in out if c["field"] != "version"]


def _diff(a: Any, b: Any, path: str, out: list[dict[str, Any]]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            _diff(a.get(key), b.get(key), f"{path}.{key}" if path else str(key), out)
    elif a != b:
        out.append({"field": path, "from": a, "to": b})


def merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `changes` laid over it: nested objects merge, anything else is replaced."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out
