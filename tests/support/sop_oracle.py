"""SOP v1 read from its text, as a small oracle the property tests hold the product to.

Nothing here imports the product's rules: the expected answer for a set of facts is worked out
again from `sop-v1.md` (and the readings `docs/sop.md` records: the first delivery scan starts
the claim window, "picked up anyway" by the scans' own times, a case the desk opened on the
partner's own record (P1, P3) needs no filing window or evidence from the seller). A scenario is
a set of facts with no arrival order; `expected` is the one answer every order must give once all
of them are in and no timer has fired.

Times are offsets before the moment the claim is filed (`Story.now`), so the same story can be
told at any wall-clock time."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta

ITEM = ("DAMAGED", "WRONG_ITEM", "MISSING_ITEM", "USED_ITEM")
CONTENT = ("WRONG_ITEM", "USED_ITEM", "MISSING_ITEM")
CAPS = {"swiftship": 1_000_000, "rapidroute": 500_000, "desipost": 250_000}
APPROVAL_CAP = 2_500_000
# The liable party and payout percentage of each liability rule (sop-v1, step 2).
RULES = {
    "L1": ("PARTNER", 100),
    "L2": ("PARTNER", 100),
    "L3": ("PARTNER", 100),
    "L4": ("SELLER", 0),
    "L5": ("PARTNER", 100),
    "L6": ("PARTNER", 100),
    "L7": ("PARTNER", 100),
    "L8": ("PARTNER", 100),
    "L9": ("PARTNER", 100),
    "L10": ("BUYER", 100),
    "L11": ("BUYER", 50),
}


@dataclass(frozen=True)
class Scan:
    """A partner scan: canonical type, how long before the filing, its weight and OTP proof."""

    kind: str
    ago: timedelta
    weight_g: int | None = None
    otp: bool | None = None


@dataclass(frozen=True)
class Claim:
    claim_type: str
    amount: int
    evidence: tuple[str, ...] = ()
    received_weight_g: int | None = None


@dataclass(frozen=True)
class Story:
    """One return's facts, without an order."""

    name: str
    partner: str = "swiftship"
    item_value: int = 180_000
    qc_required: bool = False
    scans: tuple[Scan, ...] = ()
    claim: Claim | None = None
    band: str | None = "LOW"  # fraud's latest band for the claim (None: never assessed)


@dataclass(frozen=True)
class Expected:
    """What the case must come to: a decision (`DECIDE`, or `PROPOSE` above the approval cap),
    a rejection, a review, a wait for evidence or facts, or no case at all (`NONE`)."""

    step: str
    rule: str | None = None
    reason: str | None = None
    liable: str | None = None
    payout: int = 0
    partner_debit: int = 0
    buyer_receivable: int = 0
    marketplace_cost: int = 0
    outcome: str | None = None


def _first(story: Story, kind: str) -> Scan | None:
    """The earliest scan of a kind by the partner's own time (the largest `ago`)."""
    found = [s for s in story.scans if s.kind == kind]
    return max(found, key=lambda s: s.ago) if found else None


def _latest_qc(story: Story) -> Scan | None:
    found = [s for s in story.scans if s.kind in ("QC_PASSED", "QC_FAILED")]
    return min(found, key=lambda s: (s.ago, s.kind)) if found else None


def _weights(story: Story) -> tuple[int | None, int | None]:
    pickup = _first(story, "PICKED_UP")
    qc = _latest_qc(story)
    pickup_g = pickup.weight_g if pickup and pickup.weight_g is not None else None
    if pickup_g is None and qc is not None:
        pickup_g = qc.weight_g
    delivered = _first(story, "DELIVERED_TO_SELLER")
    delivered_g = delivered.weight_g if delivered else None
    if delivered_g is None and story.claim is not None:
        delivered_g = story.claim.received_weight_g
    return pickup_g, delivered_g


def weight_drop(story: Story, *, partner_only: bool = False) -> bool:
    """sop-v1: delivery weight below pickup − max(50 g, 10 % of pickup)."""
    pickup_g, delivered_g = _weights(story)
    if partner_only:
        d = _first(story, "DELIVERED_TO_SELLER")
        delivered_g = d.weight_g if d else None
    if pickup_g is None or delivered_g is None:
        return False
    return delivered_g * 100 < pickup_g * 100 - max(50 * 100, pickup_g * 10)


def _qc_failed_then_picked_up(story: Story) -> bool:
    qc = _latest_qc(story)
    return (
        qc is not None
        and qc.kind == "QC_FAILED"
        and any(s.kind == "PICKED_UP" and s.ago <= qc.ago for s in story.scans)
    )


def _declared(story: Story) -> set[str]:
    return {s.kind for s in story.scans} & {"LOST", "DAMAGED_IN_TRANSIT"}


def proactive_rule(story: Story) -> str | None:
    """P1–P3 in the SOP's order, on the partner's facts alone."""
    if _declared(story):
        return "P1"
    delivered = _first(story, "DELIVERED_TO_SELLER")
    # P2 asks for evidence within the claim window: a delivery 168 h gone opens no P2 case
    # (docs/sop.md, P2); every fact of a story reaches the desk by the filing.
    in_window = delivered is not None and delivered.ago <= timedelta(hours=168)
    if in_window and weight_drop(story, partner_only=True):
        return "P2"
    if _qc_failed_then_picked_up(story):
        return "P3"
    return None


def _evidence_met(claim: Claim) -> bool:
    kinds = {k: claim.evidence.count(k) for k in set(claim.evidence)}
    if claim.claim_type == "NOT_RECEIVED":
        return True
    if claim.claim_type == "MISSING_ITEM":
        return kinds.get("UNBOXING_VIDEO", 0) >= 1 and claim.received_weight_g is not None
    return kinds.get("UNBOXING_VIDEO", 0) >= 1 or (
        kinds.get("PHOTO", 0) >= 2 and kinds.get("LABEL_PHOTO", 0) >= 1
    )


def _liability(story: Story, claim_type: str | None) -> str:
    declared = _declared(story)
    delivered = _first(story, "DELIVERED_TO_SELLER")
    pickup = _first(story, "PICKED_UP")
    qc = _latest_qc(story)
    otp = delivered is not None and any(
        s.otp is True for s in story.scans if s.kind == "DELIVERED_TO_SELLER"
    )
    nr = claim_type == "NOT_RECEIVED"
    if "LOST" in declared:
        return "L1"
    if "DAMAGED_IN_TRANSIT" in declared:
        return "L2"
    if nr and delivered is None and pickup is not None and pickup.ago >= timedelta(days=10):
        return "L3"
    if nr and delivered is not None:
        return "L4" if otp else "L5"
    if not nr and weight_drop(story):
        return "L6"
    if _qc_failed_then_picked_up(story):
        return "L7"
    if qc is not None and qc.kind == "QC_PASSED":
        if claim_type in CONTENT:
            return "L8"
        if claim_type == "DAMAGED":
            return "L9"
    if qc is None:
        if claim_type in CONTENT:
            return "L10"
        if claim_type == "DAMAGED":
            return "L11"
    return "L12"


def _decide(story: Story, claim_type: str | None, amount: int) -> Expected:
    rule = _liability(story, claim_type)
    if rule == "L12":
        return Expected("REVIEW", "L12", "NO_RULE_MATCHED")
    liable, pct = RULES[rule]
    base = min(amount, story.item_value)
    payout = base * pct // 100
    partner = min(payout, CAPS.get(story.partner, 0)) if liable == "PARTNER" else 0
    buyer = payout if liable == "BUYER" else 0
    outcome = "GRANTED" if pct == 100 else "PARTIAL" if pct else "DENIED"
    return Expected(
        "PROPOSE" if payout > APPROVAL_CAP else "DECIDE",
        rule,
        "ABOVE_APPROVAL_CAP" if payout > APPROVAL_CAP else None,
        liable,
        payout,
        partner,
        buyer,
        payout - partner - buyer,
        outcome,
    )


def _fraud_gate(story: Story) -> Expected | None:
    if story.band == "HIGH":
        return Expected("REVIEW", "E5", "FRAUD_REVIEW")
    if story.band is None:
        return Expected("WAIT", "E5b", "FRAUD_ASSESSMENT")
    return None


def expected(story: Story) -> Expected:
    """The SOP's answer for the story's facts once all of them are in."""
    claim = story.claim
    told = proactive_rule(story)
    if claim is None:
        if told is None:
            return Expected("NONE")
        if told == "P2":
            return Expected("AWAIT_EVIDENCE", "P2", "WEIGHT_DROP_CHECKLIST")
        gate = _fraud_gate(story)
        if gate is not None:
            return gate
        claim_type = (
            ("NOT_RECEIVED" if "LOST" in _declared(story) else "DAMAGED") if told == "P1" else None
        )
        return _decide(story, claim_type, story.item_value)
    if told in ("P1", "P3"):
        # The partner's own record settles it: the desk decides as it does without a filing
        # (fraud gate, then liability), whether the claim or the record came first.
        return _fraud_gate(story) or _decide(story, claim.claim_type, claim.amount)
    delivered = _first(story, "DELIVERED_TO_SELLER")
    pickup = _first(story, "PICKED_UP")
    item = claim.claim_type in ITEM
    if item and delivered is None:
        return Expected("WAIT", "E1", "PENDING_FACTS")
    nr = claim.claim_type == "NOT_RECEIVED"
    if pickup is None and (item or (nr and delivered is None)):
        # docs/sop.md, E1 (scans in flight): the pickup a later rule reads is waited for a
        # minute before the rules run without it.
        return Expected("WAIT", "E1", "PENDING_SCANS")
    if item and delivered is not None and delivered.ago > timedelta(hours=168):
        return Expected("REJECT", "E3", "CLAIM_WINDOW_EXPIRED")
    if nr and delivered is None and pickup is not None and pickup.ago < timedelta(days=10):
        return Expected("REJECT", "E3b", "PREMATURE_CLAIM")
    if nr and pickup is not None and pickup.ago > timedelta(days=45):
        return Expected("REJECT", "E3c", "CLAIM_WINDOW_EXPIRED")
    if not _evidence_met(claim):
        return Expected("AWAIT_EVIDENCE", "E4", "EVIDENCE_MISSING")
    return _fraud_gate(story) or _decide(story, claim.claim_type, claim.amount)


# ---------------------------------------------------------------------------------------------
# The rule space, as stories
# ---------------------------------------------------------------------------------------------

H = timedelta(hours=1)
D = timedelta(days=1)
VIDEO = ("UNBOXING_VIDEO",)
PHOTOS = ("PHOTO", "PHOTO", "LABEL_PHOTO")
TOO_FEW = ("PHOTO", "LABEL_PHOTO")


def _scans(
    *,
    qc: str | None,
    qc_at: str,
    pickup_ago: timedelta | None,
    pickup_g: int,
    delivered_ago: timedelta | None,
    delivered_g: int,
    otp: bool,
    declared: str | None,
) -> tuple[Scan, ...]:
    out: list[Scan] = []
    if pickup_ago is not None:
        if qc is not None:
            # QC at the door before the pickup, or a hub's re-inspection after it.
            qc_ago = pickup_ago + H if qc_at == "before" else pickup_ago - 2 * H
            out.append(Scan(f"QC_{qc}", qc_ago, pickup_g))
        out.append(Scan("PICKED_UP", pickup_ago, pickup_g))
    if delivered_ago is not None:
        out.append(Scan("DELIVERED_TO_SELLER", delivered_ago, delivered_g, otp))
    if declared is not None:
        base = pickup_ago if pickup_ago is not None else 3 * D
        out.append(Scan(declared, base - 6 * H))
    return tuple(out)


def rule_space(partners: tuple[str, ...] = ("swiftship",)) -> Iterator[Story]:
    """Every combination of the facts the SOP's rules read (for `partners`: a partner changes
    only its cap, which `amounts_space` crosses for each): QC (none,
    passed, failed before or after the pickup), the pickup's age, the delivery (none, in or out
    of the claim window, OTP or not, lighter or not), a declaration, each claim type with each
    evidence set, amounts around the partner caps and the approval cap, and no claim at all."""
    claims: list[Claim | None] = [None]
    for claim_type in (*ITEM, "NOT_RECEIVED"):
        for evidence in (VIDEO, PHOTOS, TOO_FEW, ()):
            if claim_type == "NOT_RECEIVED" and evidence not in ((), VIDEO):
                continue
            weights: tuple[int | None, ...] = (
                (None, 700) if claim_type == "MISSING_ITEM" else (None,)
            )
            for received in weights:
                claims.append(Claim(claim_type, 150_000, evidence, received))
    for partner, qc, qc_at, pickup_ago, delivered, otp, drop, declared, claim in itertools.product(
        partners,
        (None, "PASSED", "FAILED"),
        ("before", "after"),
        (None, 4 * D, 12 * D, 50 * D),
        (None, 1 * D, 8 * D),
        (False, True),
        (False, True),
        (None, "LOST", "DAMAGED_IN_TRANSIT"),
        claims,
    ):
        if qc is None and qc_at == "after":
            continue
        if delivered is None and (otp or drop):
            continue
        if pickup_ago is None and qc is not None:
            continue
        if pickup_ago is not None and delivered is not None and delivered >= pickup_ago:
            delivered = pickup_ago - 6 * H
        scans = _scans(
            qc=qc,
            qc_at=qc_at,
            pickup_ago=pickup_ago,
            pickup_g=1200,
            delivered_ago=delivered,
            delivered_g=700 if drop else 1150,
            otp=otp,
            declared=declared,
        )
        yield Story(
            name=f"{partner}/qc={qc}:{qc_at}/pickup={pickup_ago}/delivered={delivered}"
            f"/otp={otp}/drop={drop}/declared={declared}/claim={claim}",
            partner=partner,
            item_value=180_000,
            qc_required=qc is not None,
            scans=scans,
            claim=claim,
        )


def amounts_space() -> Iterator[Story]:
    """Amounts at the boundaries: under and over each partner's cap, at and over the approval
    cap, odd paise halved, claims above the item's value."""
    delivered = Scan("DELIVERED_TO_SELLER", 1 * D, 1150, False)
    pickup = Scan("PICKED_UP", 2 * D, 1200)
    for partner, (item_value, amount), qc in itertools.product(
        CAPS,
        (
            (180_001, 180_001),
            (300_000, 400_000),
            (900_000, 900_000),
            (2_000_000, 1_500_000),
            (2_500_000, 2_500_000),
            (3_000_000, 2_500_001),
            (5_000_001, 6_000_000),
        ),
        ("PASSED", None),
    ):
        scans = (pickup, delivered) + ((Scan("QC_PASSED", 2 * D + H, 1200),) if qc else ())
        yield Story(
            name=f"{partner}/amount={amount}/item={item_value}/qc={qc}",
            partner=partner,
            item_value=item_value,
            qc_required=qc is not None,
            scans=scans,
            claim=Claim("DAMAGED", amount, VIDEO),
        )


def bands_space() -> Iterator[Story]:
    """The fraud gate on a decidable claim and on each proactive case."""
    base = Story(
        "band",
        scans=(Scan("PICKED_UP", 2 * D, 1200), Scan("DELIVERED_TO_SELLER", 1 * D, 1150)),
        claim=Claim("DAMAGED", 150_000, VIDEO),
    )
    lost = Story("band/P1", scans=(Scan("PICKED_UP", 2 * D, 1200), Scan("LOST", 1 * D)))
    for story, band in itertools.product((base, lost), ("LOW", "MEDIUM", "HIGH", None)):
        yield replace(story, name=f"{story.name}/band={band}", band=band)
