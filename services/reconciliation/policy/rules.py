"""The SOP's rules as small pure functions over a `Facts` snapshot and a `Policy`.

Eligibility (E1–E5b) is checked in the SOP's order and each check returns a `Verdict` or None
(passes); liability (L1–L11) is a table of predicates where the first match wins, L12 otherwise;
amounts follow step 3. Proactive triggers (P1–P3) say when a case opens before any escalation.
Nothing here reads a clock or a database: time-outs arrive as flags from the case's timers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from services.reconciliation.policy.facts import Facts
from services.reconciliation.policy.sop_v1 import Policy
from shared.events import CaseState, ClaimType, FraudBand, LiableParty, Outcome

ITEM_CLAIMS = frozenset(
    {ClaimType.DAMAGED, ClaimType.WRONG_ITEM, ClaimType.MISSING_ITEM, ClaimType.USED_ITEM}
)
CONTENT_CLAIMS = frozenset({ClaimType.WRONG_ITEM, ClaimType.USED_ITEM, ClaimType.MISSING_ITEM})
OPEN_STATES = frozenset(
    {CaseState.OPEN, CaseState.AWAITING_EVIDENCE, CaseState.UNDER_REVIEW, CaseState.ESCALATED}
)
FINISHED_STATES = frozenset(
    {CaseState.DECIDED, CaseState.REJECTED, CaseState.APPEALED, CaseState.CLOSED}
)


class Step(StrEnum):
    WAIT_FACTS = "WAIT_FACTS"
    AWAIT_EVIDENCE = "AWAIT_EVIDENCE"
    WAIT_FRAUD = "WAIT_FRAUD"
    REJECT = "REJECT"
    REVIEW = "REVIEW"
    DECIDE = "DECIDE"
    PROPOSE = "PROPOSE"  # decided, but above the approval cap: an ops_manager must approve
    MERGE = "MERGE"


@dataclass(frozen=True, slots=True)
class Amounts:
    base: int
    payout_pct: int
    payout: int
    partner_debit: int
    buyer_receivable: int
    marketplace_cost: int
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class Verdict:
    step: Step
    rule_id: str
    reason_code: str | None = None
    liable_party: LiableParty | None = None
    amounts: Amounts | None = None
    checklist: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------------------------------------
# Step 1 — eligibility
# ---------------------------------------------------------------------------------------------


def missing_facts(f: Facts) -> list[str]:
    """The facts the SOP names as needed (E1): always the return; for an item claim the
    delivery scan (E3 counts from it). A partner's LOST / DAMAGED_IN_TRANSIT declaration settles
    liability by itself (L1/L2). Waited for up to `facts_wait_h`, then a person reviews."""
    missing = [] if f.return_known else ["RETURN"]
    if f.declared_lost or f.declared_damaged_in_transit:
        return missing
    if f.claim_type in ITEM_CLAIMS and not f.delivered:
        missing.append("DELIVERY_SCAN")
    return missing


def awaited_scans(f: Facts) -> list[str]:
    """Scans later rules read that may still be in flight: the pickup (its weight for L6, its
    time for E3b, E3c and L3) and, when the return required QC, the QC result (L7-L11).

    Partners' scans arrive out of order, so deciding the moment the delivery scan lands could
    judge a weight drop or a QC result that is a few seconds behind. The SOP does not need them,
    though: they are waited for only `scan_wait_min`, well inside the auto-decision target, and
    then the rules run on what is known ("no QC at pickup" is then L10/L11)."""
    if f.declared_lost or f.declared_damaged_in_transit:
        return []
    awaited = []
    if f.claim_type in ITEM_CLAIMS:
        if f.pickup_at is None:
            awaited.append("PICKUP_SCAN")
        if f.qc_required and f.qc_result is None:
            awaited.append("QC_RESULT")
    elif f.claim_type is ClaimType.NOT_RECEIVED and not f.delivered and f.pickup_at is None:
        awaited.append("PICKUP_SCAN")
    return awaited


def e1_missing_facts(f: Facts, p: Policy, *, facts_wait_over: bool = False) -> Verdict | None:
    """E1: wait for the facts the claim needs (after the wait, a person reviews); then, briefly,
    for scans still in flight (after that wait, judge without them). `facts_wait_over` says the
    case's current wait has ended, whichever of the two it was."""
    if missing_facts(f):
        if facts_wait_over:
            return Verdict(Step.REVIEW, "E1", "MISSING_FACTS")
        return Verdict(Step.WAIT_FACTS, "E1", "PENDING_FACTS")
    if awaited_scans(f) and not facts_wait_over:
        return Verdict(Step.WAIT_FACTS, "E1", "PENDING_SCANS")
    return None


def e2_merge_into_open_case(case_state: CaseState | None) -> Verdict | None:
    """E2: a return with an open case gets the escalation merged into it, not a second case."""
    if case_state is not None and case_state in OPEN_STATES:
        return Verdict(Step.MERGE, "E2", "ESCALATION_MERGED")
    return None


def e2b_duplicate_claim(case_state: CaseState | None, *, is_appeal: bool) -> Verdict | None:
    """E2b: a decided or rejected case does not take a new escalation, only an appeal."""
    if case_state is not None and case_state in FINISHED_STATES and not is_appeal:
        return Verdict(Step.REJECT, "E2b", "DUPLICATE_CLAIM")
    return None


def e3_claim_window(f: Facts, p: Policy) -> Verdict | None:
    """E3: item claims must be filed within the window after delivery (exactly 168 h is in)."""
    if f.claim_type not in ITEM_CLAIMS or f.delivered_at is None or f.filed_at is None:
        return None
    if f.filed_at - f.delivered_at > timedelta(hours=p.windows.claim_window_h):
        return Verdict(Step.REJECT, "E3", "CLAIM_WINDOW_EXPIRED")
    return None


def e3b_premature_not_received(f: Facts, p: Policy) -> Verdict | None:
    """E3b: NOT_RECEIVED with no delivery scan needs the waiting period after pickup."""
    if f.claim_type is not ClaimType.NOT_RECEIVED or f.delivered or f.pickup_at is None:
        return None
    if f.filed_at is None:
        return None
    if f.declared_lost or f.declared_damaged_in_transit:
        return None  # the partner already admitted the loss: nothing to wait for
    if f.filed_at - f.pickup_at < timedelta(days=p.windows.not_received_earliest_days):
        return Verdict(Step.REJECT, "E3b", "PREMATURE_CLAIM")
    return None


def e3c_not_received_window(f: Facts, p: Policy) -> Verdict | None:
    """E3c: NOT_RECEIVED must be filed within the outer window after pickup."""
    if f.claim_type is not ClaimType.NOT_RECEIVED or f.pickup_at is None or f.filed_at is None:
        return None
    if f.filed_at - f.pickup_at > timedelta(days=p.windows.not_received_latest_days):
        return Verdict(Step.REJECT, "E3c", "CLAIM_WINDOW_EXPIRED")
    return None


def evidence_satisfied(f: Facts, p: Policy) -> bool:
    if f.claim_type is None:
        return True
    checklist = p.evidence.get(f.claim_type)
    if checklist is None or not checklist.alternatives:
        return True
    for option in checklist.alternatives:
        counts_ok = all(
            f.evidence_counts.get(kind.value, 0) >= need for kind, need in option.min_counts.items()
        )
        weight_ok = not option.needs_received_weight or f.received_weight_g is not None
        if counts_ok and weight_ok:
            return True
    return False


# The key of `EvidenceRequested.still_needed` for the seller's stated weight of the parcel.
RECEIVED_WEIGHT = "RECEIVED_WEIGHT_G"


def evidence_shortfall(f: Facts, p: Policy) -> list[dict[str, int]]:
    """What each acceptable set of the claim type's evidence still lacks, given what reached
    the case: how many more of each kind, and the received weight if it is needed and not
    stated. One entry per alternative, in the policy's order; empty when the checklist is met
    (or the claim type needs none)."""
    checklist = p.evidence.get(f.claim_type) if f.claim_type is not None else None
    if checklist is None or evidence_satisfied(f, p):
        return []
    out: list[dict[str, int]] = []
    for option in checklist.alternatives:
        lacks = {
            kind.value: need - f.evidence_counts.get(kind.value, 0)
            for kind, need in option.min_counts.items()
            if f.evidence_counts.get(kind.value, 0) < need
        }
        if option.needs_received_weight and f.received_weight_g is None:
            lacks[RECEIVED_WEIGHT] = 1
        out.append(lacks)
    return out


def e4_evidence(f: Facts, p: Policy, *, reply_by_passed: bool = False) -> Verdict | None:
    """E4: the claim type's evidence checklist; missing → ask, reply-by passed → reject."""
    if evidence_satisfied(f, p):
        return None
    if reply_by_passed:
        return Verdict(Step.REJECT, "E4", "EVIDENCE_NOT_PROVIDED")
    checklist = p.evidence[f.claim_type].checklist if f.claim_type else ()
    return Verdict(Step.AWAIT_EVIDENCE, "E4", "EVIDENCE_MISSING", checklist=checklist)


def e5_fraud_high(f: Facts, p: Policy) -> Verdict | None:
    """E5: a HIGH fraud band is never auto-decided."""
    if f.fraud_band is FraudBand.HIGH:
        return Verdict(Step.REVIEW, "E5", "FRAUD_REVIEW")
    return None


def e5b_fraud_assessment_missing(
    f: Facts, p: Policy, *, fraud_wait_over: bool = False
) -> Verdict | None:
    """E5b: no decision without an assessment; after the wait a person reviews."""
    if f.fraud_band is not None:
        return None
    if fraud_wait_over:
        return Verdict(Step.REVIEW, "E5b", "FRAUD_ASSESSMENT_MISSING")
    return Verdict(Step.WAIT_FRAUD, "E5b", "FRAUD_ASSESSMENT")


# ---------------------------------------------------------------------------------------------
# Step 2 — liability
# ---------------------------------------------------------------------------------------------


def weight_drop_g(f: Facts) -> int | None:
    """Grams lost between pickup and delivery (partner's delivery weight, else the seller's)."""
    delivered = f.delivered_weight_g if f.delivered_weight_g is not None else f.received_weight_g
    if f.pickup_weight_g is None or delivered is None:
        return None
    return f.pickup_weight_g - delivered


def has_weight_drop(f: Facts, p: Policy) -> bool:
    drop = weight_drop_g(f)
    if drop is None or f.pickup_weight_g is None:
        return False
    # drop > max(min_g, pickup * pct / 100), kept in integers so the boundary is exact.
    return 100 * drop > max(
        100 * p.weight_drop.min_drop_g, f.pickup_weight_g * p.weight_drop.min_drop_pct
    )


def l1_partner_declared_lost(f: Facts, p: Policy) -> bool:
    return f.declared_lost


def l2_partner_declared_damaged(f: Facts, p: Policy) -> bool:
    return f.declared_damaged_in_transit


def l3_not_received_never_delivered(f: Facts, p: Policy) -> bool:
    return (
        f.claim_type is ClaimType.NOT_RECEIVED
        and not f.delivered
        and f.pickup_at is not None
        and f.filed_at is not None
        and f.filed_at - f.pickup_at >= timedelta(days=p.windows.not_received_earliest_days)
    )


def l4_not_received_otp_delivered(f: Facts, p: Policy) -> bool:
    return f.claim_type is ClaimType.NOT_RECEIVED and f.delivered and f.pod_otp_verified is True


def l5_not_received_unverified_delivery(f: Facts, p: Policy) -> bool:
    return f.claim_type is ClaimType.NOT_RECEIVED and f.delivered and f.pod_otp_verified is not True


def l6_weight_drop(f: Facts, p: Policy) -> bool:
    return f.claim_type is not ClaimType.NOT_RECEIVED and has_weight_drop(f, p)


def qc_failed_then_picked_up(f: Facts) -> bool:
    """L7 and P3: the QC failed and the parcel was picked up anyway, at or after the failed
    check by the scans' own times (arrival order says nothing). A QC that failed only after
    the pickup (a re-inspection at the hub) is not this: the partner did not take a parcel it
    knew had failed, and no other liability rule reads a failed QC, so a claim goes to a person
    (L12) and no proactive case opens."""
    return f.qc_result == "FAILED" and f.pickup_at is not None and f.picked_up_after_qc


def l7_qc_failed_but_picked_up(f: Facts, p: Policy) -> bool:
    return qc_failed_then_picked_up(f)


def l8_qc_passed_content_claim(f: Facts, p: Policy) -> bool:
    return f.qc_result == "PASSED" and f.claim_type in CONTENT_CLAIMS


def l9_qc_passed_damage_claim(f: Facts, p: Policy) -> bool:
    return f.qc_result == "PASSED" and f.claim_type is ClaimType.DAMAGED


def l10_no_qc_content_claim(f: Facts, p: Policy) -> bool:
    return f.qc_result is None and f.claim_type in CONTENT_CLAIMS


def l11_no_qc_damage_claim(f: Facts, p: Policy) -> bool:
    return f.qc_result is None and f.claim_type is ClaimType.DAMAGED


LIABILITY_RULES: tuple[tuple[str, Callable[[Facts, Policy], bool]], ...] = (
    ("L1", l1_partner_declared_lost),
    ("L2", l2_partner_declared_damaged),
    ("L3", l3_not_received_never_delivered),
    ("L4", l4_not_received_otp_delivered),
    ("L5", l5_not_received_unverified_delivery),
    ("L6", l6_weight_drop),
    ("L7", l7_qc_failed_but_picked_up),
    ("L8", l8_qc_passed_content_claim),
    ("L9", l9_qc_passed_damage_claim),
    ("L10", l10_no_qc_content_claim),
    ("L11", l11_no_qc_damage_claim),
)


def assign_liability(f: Facts, p: Policy) -> str:
    """The first matching liability rule, or L12 when none matches."""
    for rule_id, matches in LIABILITY_RULES:
        if matches(f, p):
            return rule_id
    return "L12"


# ---------------------------------------------------------------------------------------------
# Step 3 — amounts
# ---------------------------------------------------------------------------------------------


def outcome_for(pct: int) -> Outcome:
    if pct >= 100:
        return Outcome.GRANTED
    return Outcome.PARTIAL if pct > 0 else Outcome.DENIED


def compute_amounts(
    *,
    claimed_amount: int,
    item_value: int | None,
    payout_pct: int,
    liable_party: LiableParty | None,
    partner_id: str | None,
    p: Policy,
) -> Amounts:
    base = claimed_amount if item_value is None else min(claimed_amount, item_value)
    payout = base * payout_pct // 100
    partner_debit = (
        min(payout, p.partner_cap(partner_id)) if liable_party is LiableParty.PARTNER else 0
    )
    buyer_receivable = payout if liable_party is LiableParty.BUYER else 0
    return Amounts(
        base=base,
        payout_pct=payout_pct,
        payout=payout,
        partner_debit=partner_debit,
        buyer_receivable=buyer_receivable,
        marketplace_cost=payout - partner_debit - buyer_receivable,
        outcome=outcome_for(payout_pct),
    )


def above_approval_cap(payout: int, p: Policy) -> bool:
    """More than the cap needs an ops_manager; exactly the cap does not."""
    return payout > p.approval_cap_paise


def liability_verdict(f: Facts, p: Policy) -> Verdict:
    rule_id = assign_liability(f, p)
    if rule_id == "L12":
        return Verdict(Step.REVIEW, "L12", "NO_RULE_MATCHED")
    rule = p.liability[rule_id]
    amounts = compute_amounts(
        claimed_amount=f.claimed_amount or 0,
        item_value=f.item_value,
        payout_pct=rule.payout_pct,
        liable_party=rule.liable_party,
        partner_id=f.partner_id,
        p=p,
    )
    step = Step.PROPOSE if above_approval_cap(amounts.payout, p) else Step.DECIDE
    reason = "ABOVE_APPROVAL_CAP" if step is Step.PROPOSE else None
    return Verdict(step, rule_id, reason, liable_party=rule.liable_party, amounts=amounts)


# ---------------------------------------------------------------------------------------------
# The whole procedure
# ---------------------------------------------------------------------------------------------


def evaluate_claim(
    f: Facts,
    p: Policy,
    *,
    facts_wait_over: bool = False,
    reply_by_passed: bool = False,
    fraud_wait_over: bool = False,
) -> Verdict:
    """A seller's claim through eligibility (in SOP order), then liability and amounts; a claim
    on a return the partner's own record already settles (P1, P3) as the desk's case on it."""
    if settled_by_partner_record(f, p):
        return evaluate_proactive(f, p, fraud_wait_over=fraud_wait_over)
    checks: tuple[Callable[[], Verdict | None], ...] = (
        lambda: e1_missing_facts(f, p, facts_wait_over=facts_wait_over),
        lambda: e3_claim_window(f, p),
        lambda: e3b_premature_not_received(f, p),
        lambda: e3c_not_received_window(f, p),
        lambda: e4_evidence(f, p, reply_by_passed=reply_by_passed),
        lambda: e5_fraud_high(f, p),
        lambda: e5b_fraud_assessment_missing(f, p, fraud_wait_over=fraud_wait_over),
    )
    for check in checks:
        verdict = check()
        if verdict is not None:
            return verdict
    return liability_verdict(f, p)


# Proactive cases whose first email tells the seller no action is needed (P1: "email the seller
# that no action is needed"; P3 is decided the same way, by its liability rule after the fraud
# gate). A claim the seller files while such a case is open joins it as an update (E2) and the
# case stays the desk's: no filing window or evidence checklist of its own, so no email asks the
# seller for what the first one said was not needed. The claim's type and amount still count in
# liability and amounts. P2 asks for evidence from its first email and adopts the claim whole.
TOLD_NO_ACTION = frozenset({"P1", "P3"})


def settled_by_partner_record(f: Facts, p: Policy) -> bool:
    """The partner's own record decides the return (P1: declared lost or damaged in transit;
    P3: picked up after a failed QC), so a seller's claim on it is judged as the case the desk
    opens on that record: the fraud gate, then liability, with no filing window, wait for a
    delivery scan or evidence checklist of the claim's own.

    Which came first must not matter ("facts may arrive in any order"): record first, the
    desk's P1/P3 case adopts the claim (`TOLD_NO_ACTION`) and pays on the record; claim first,
    judged by E1-E4 alone, the same facts asked the seller for evidence (or closed the claim
    out of its window) and paid nothing. P2 is not such a record: it asks for evidence itself,
    so a weight drop at delivery leaves the claim to E3-E4. P2 is weighed at the filing, as a
    delivery scan reaching us then would be (`p2_window_closed`)."""
    trigger = proactive_trigger(f, p, at=f.filed_at)
    return trigger is not None and trigger.rule_id in TOLD_NO_ACTION


def evaluate_proactive(f: Facts, p: Policy, *, fraud_wait_over: bool = False) -> Verdict:
    """A case the desk opened itself (P1/P3): no seller filing, so no windows or evidence;
    the fraud gate still applies before anything is paid."""
    if not f.return_known:
        return Verdict(Step.WAIT_FACTS, "E1", "PENDING_FACTS")
    for verdict in (
        e5_fraud_high(f, p),
        e5b_fraud_assessment_missing(f, p, fraud_wait_over=fraud_wait_over),
    ):
        if verdict is not None:
            return verdict
    return liability_verdict(f, p)


# ---------------------------------------------------------------------------------------------
# Proactive triggers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProactiveTrigger:
    rule_id: str
    claim_type: ClaimType | None
    awaits_evidence: bool


def p1_partner_declared_loss(f: Facts, p: Policy) -> ProactiveTrigger | None:
    if f.declared_lost:
        return ProactiveTrigger("P1", ClaimType.NOT_RECEIVED, awaits_evidence=False)
    if f.declared_damaged_in_transit:
        return ProactiveTrigger("P1", ClaimType.DAMAGED, awaits_evidence=False)
    return None


def p2_window_closed(f: Facts, p: Policy, at: datetime) -> bool:
    """P2 asks for the evidence within the claim window after delivery (E3's): a delivery scan
    that reaches us after the window closed leaves nothing to ask for by a time still ahead."""
    return f.delivered_at is not None and at > f.delivered_at + timedelta(
        hours=p.windows.claim_window_h
    )


def p2_delivered_with_weight_drop(f: Facts, p: Policy) -> ProactiveTrigger | None:
    if f.delivered and f.delivered_weight_g is not None and has_weight_drop(f, p):
        return ProactiveTrigger("P2", ClaimType.MISSING_ITEM, awaits_evidence=True)
    return None


def p3_picked_up_after_qc_failed(f: Facts, p: Policy) -> ProactiveTrigger | None:
    if qc_failed_then_picked_up(f):
        return ProactiveTrigger("P3", None, awaits_evidence=False)
    return None


def proactive_trigger(
    f: Facts, p: Policy, *, at: datetime | None = None
) -> ProactiveTrigger | None:
    """Which proactive rule, if any, opens a case for a return nobody has escalated yet, at
    `at` (P2 only while its window is open; None: any time)."""
    if not f.return_known:
        return None
    for rule in (
        p1_partner_declared_loss,
        p2_delivered_with_weight_drop,
        p3_picked_up_after_qc_failed,
    ):
        trigger = rule(f, p)
        if trigger is not None and trigger.rule_id == "P2" and at is not None:
            if p2_window_closed(f, p, at):
                continue
        if trigger is not None:
            return trigger
    return None
