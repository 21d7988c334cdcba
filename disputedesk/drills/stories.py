"""The drill's returns as complete stories: what the marketplace feeds, what the return's own
partner scans (with weights, QC and times laid onto the past), what its own seller claims with
which evidence, and what the desk and the seller do after the decision.

Each story follows one scenario, and each scenario names the SOP rule it must end on, so the
drill reaches decisions, payouts, partner debits, proposals above the approval cap and appeals,
and can tell a case that ended elsewhere. Pure: bodies and times only, no I/O.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.events import LiableParty

PARTNER = "swiftship"  # the drill signs swiftship webhooks; every return is assigned to it
HUB = "BLR-HSR-01"
PICKUP_AGENT = "AG-7781"


class Scenario(StrEnum):
    PARTNER_DAMAGE = "PARTNER_DAMAGE"  # QC passed at pickup, arrives damaged: L9, partner pays
    EVIDENCE_LATER = "EVIDENCE_LATER"  # as above, filed bare; photos follow the request (E4, L9)
    WRONG_ITEM = "WRONG_ITEM"  # QC passed, another item came back: L8
    NO_QC_DAMAGE = "NO_QC_DAMAGE"  # no QC: L11, half from the buyer; appealed and overturned
    ABOVE_CAP = "ABOVE_CAP"  # a laptop: L9 above the approval cap, a manager approves
    LOST = "LOST"  # the partner declares it lost: P1 opens the case, L1 debits the partner
    NOT_RECEIVED = "NOT_RECEIVED"  # stuck in transit for two weeks: L3
    LATE_CLAIM = "LATE_CLAIM"  # filed nine days after delivery: E3 rejects; appeal dismissed
    NO_DISPUTE = "NO_DISPUTE"  # delivered, nobody complains


# One deck of twenty stories, dealt in this order: any twenty consecutive stories cover every
# scenario, so even the short drill reaches each path the checks count (none can come out zero
# by chance).
DECK: tuple[Scenario, ...] = (
    Scenario.PARTNER_DAMAGE,
    Scenario.ABOVE_CAP,
    Scenario.LOST,
    Scenario.NO_QC_DAMAGE,
    Scenario.LATE_CLAIM,
    Scenario.NO_DISPUTE,
    Scenario.EVIDENCE_LATER,
    Scenario.NOT_RECEIVED,
    Scenario.PARTNER_DAMAGE,
    Scenario.WRONG_ITEM,
    Scenario.NO_DISPUTE,
    Scenario.ABOVE_CAP,
    Scenario.NO_QC_DAMAGE,
    Scenario.LOST,
    Scenario.PARTNER_DAMAGE,
    Scenario.NO_DISPUTE,
    Scenario.LATE_CLAIM,
    Scenario.EVIDENCE_LATER,
    Scenario.PARTNER_DAMAGE,
    Scenario.NO_DISPUTE,
)


@dataclass(frozen=True, slots=True)
class Item:
    category: str
    value: int  # paise
    weight_g: int


PHONE = Item("electronics", 249_900, 452)
# ₹34,999: above the ₹25,000 approval cap, and above swiftship's ₹10,000 liability cap.
LAPTOP = Item("computers", 3_499_900, 2_140)


@dataclass(frozen=True, slots=True)
class Intent:
    """What SOP v1 must decide for the story's claim."""

    rule_id: str
    liable_party: LiableParty | None = None
    payout_pct: int = 0

    @property
    def rejected(self) -> bool:
        return self.rule_id.startswith("E")


@dataclass(frozen=True, slots=True)
class AppealPlan:
    """The seller appeals the decision; a manager (not the original decider) overturns it to
    `liable_party`/`payout_pct` or lets it stand."""

    reason: str
    overturn: bool
    decision_reason: str
    liable_party: LiableParty | None = None
    payout_pct: int | None = None


@dataclass(frozen=True, slots=True)
class Scan:
    status: str  # swiftship's own event name
    at: datetime
    weight_kg: float | None
    otp_verified: bool | None = None


@dataclass(frozen=True, slots=True)
class Spec:
    item: Item
    qc_required: bool
    pickup_days_ago: float
    end: str | None  # "delivered", "lost" or None (still in transit)
    end_days_ago: float
    claim_type: str | None
    evidence: str  # "video", "photos" or "none" at filing
    intent: Intent
    late_evidence: bool = False
    appeal: AppealPlan | None = None


_PARTNER_FULL = Intent("L9", LiableParty.PARTNER, 100)
SPECS: dict[Scenario, Spec] = {
    Scenario.PARTNER_DAMAGE: Spec(
        PHONE, True, 3, "delivered", 0.05, "DAMAGED", "video", _PARTNER_FULL
    ),
    Scenario.EVIDENCE_LATER: Spec(
        PHONE, True, 3, "delivered", 0.05, "DAMAGED", "none", _PARTNER_FULL, late_evidence=True
    ),
    Scenario.WRONG_ITEM: Spec(
        PHONE,
        True,
        3,
        "delivered",
        0.05,
        "WRONG_ITEM",
        "photos",
        Intent("L8", LiableParty.PARTNER, 100),
    ),
    Scenario.NO_QC_DAMAGE: Spec(
        PHONE,
        False,
        3,
        "delivered",
        0.05,
        "DAMAGED",
        "video",
        Intent("L11", LiableParty.BUYER, 50),
        appeal=AppealPlan(
            reason="The box was crushed at the hub; the courier's own photos show it.",
            overturn=True,
            decision_reason="The hub photos show transit damage: the partner is liable.",
            liable_party=LiableParty.PARTNER,
            payout_pct=100,
        ),
    ),
    Scenario.ABOVE_CAP: Spec(LAPTOP, True, 3, "delivered", 0.05, "DAMAGED", "video", _PARTNER_FULL),
    Scenario.LOST: Spec(
        PHONE, True, 4, "lost", 0.05, None, "none", Intent("L1", LiableParty.PARTNER, 100)
    ),
    Scenario.NOT_RECEIVED: Spec(
        PHONE, True, 15, None, 0, "NOT_RECEIVED", "none", Intent("L3", LiableParty.PARTNER, 100)
    ),
    Scenario.LATE_CLAIM: Spec(
        PHONE,
        True,
        11,
        "delivered",
        9,
        "DAMAGED",
        "video",
        Intent("E3"),
        appeal=AppealPlan(
            reason="I was travelling and could not open the parcel earlier.",
            overturn=False,
            decision_reason="The claim window is seven days after delivery; it was nine.",
        ),
    ),
    Scenario.NO_DISPUTE: Spec(PHONE, True, 3, "delivered", 0.05, None, "none", Intent("-")),
}

DESCRIPTIONS = {
    "DAMAGED": "The phone came back with a cracked screen.",
    "WRONG_ITEM": "A different, cheaper phone came back in the box.",
    "NOT_RECEIVED": "The return was picked up two weeks ago and never reached us.",
}


@dataclass(frozen=True)
class StoryScript:
    number: int
    scenario: Scenario
    return_id: str
    seller_id: str
    awb: str
    return_body: dict[str, Any]
    scans: tuple[Scan, ...]
    escalation: dict[str, Any] | None
    intent: Intent
    filed_by_agent: bool = False  # an ops agent files for the seller after a call
    late_evidence: list[dict[str, Any]] | None = None
    appeal: AppealPlan | None = None

    @property
    def opens_case(self) -> bool:
        return self.escalation is not None or self.scenario is Scenario.LOST


def _evidence(return_id: str, kind: str, n: int, at: datetime, ext: str) -> dict[str, Any]:
    digest = hashlib.sha256(f"{return_id}:{kind}:{n}".encode()).hexdigest()
    return {
        "kind": kind,
        "uri": f"https://evidence.example/drill/{return_id}/{kind.lower()}-{n}.{ext}",
        "sha256": digest,
        "captured_at": at.isoformat(),
    }


def _photos(return_id: str, at: datetime) -> list[dict[str, Any]]:
    return [
        _evidence(return_id, "PHOTO", 1, at, "jpg"),
        _evidence(return_id, "PHOTO", 2, at, "jpg"),
        _evidence(return_id, "LABEL_PHOTO", 1, at, "jpg"),
    ]


def script_story(
    number: int,
    *,
    run_id: str,
    now: datetime,
    sellers: tuple[str, ...],
    rng: random.Random,
    scenario: Scenario | None = None,
) -> StoryScript:
    """Story `number` of run `run_id`, laid onto wall time so that it ends at `now`."""
    scenario = scenario or DECK[(number - 1) % len(DECK)]
    spec = SPECS[scenario]
    return_id = f"DRL-{run_id}-{number:05d}"
    seller_id = sellers[number % len(sellers)]
    awb = f"SS{run_id}{number:05d}"
    item = spec.item
    # Minutes of jitter so that stories do not share timestamps, never past `now`.
    jitter = timedelta(minutes=rng.randint(0, 50))
    pickup_at = now - timedelta(days=spec.pickup_days_ago) - jitter
    kg = item.weight_g / 1000
    scans = [Scan("return.picked_up", pickup_at, kg)]
    if spec.qc_required:
        scans.append(Scan("return.qc_passed", pickup_at + timedelta(minutes=2), kg))
    scans.append(Scan("return.in_transit", pickup_at + timedelta(hours=20), kg))
    end_at = now - timedelta(days=spec.end_days_ago)
    if spec.end == "delivered":
        # A couple of grams lighter on the seller's scale: well inside the weight-drop band.
        scans.append(Scan("return.delivered", end_at, (item.weight_g - 2) / 1000, True))
    elif spec.end == "lost":
        scans.append(Scan("return.lost", end_at, None))

    return_body = {
        "return_id": return_id,
        "order_id": f"ORD-{return_id}",
        "seller_id": seller_id,
        "buyer_id": f"B-{return_id}",
        "category": item.category,
        "item_value": item.value,
        "qc_required": spec.qc_required,
        "partner_id": PARTNER,
        "awb": awb,
        "initiated_at": (pickup_at - timedelta(days=1)).isoformat(),
    }

    escalation = None
    late_evidence = None
    filed_by_agent = number % 3 == 0
    if spec.claim_type is not None:
        seen_at = end_at + timedelta(minutes=20) if spec.end == "delivered" else now
        evidence: list[dict[str, Any]] = []
        if spec.evidence == "video":
            evidence = [_evidence(return_id, "UNBOXING_VIDEO", 1, seen_at, "mp4")]
        elif spec.evidence == "photos":
            evidence = _photos(return_id, seen_at)
        if spec.late_evidence:
            late_evidence = _photos(return_id, seen_at)
        escalation = {
            "return_id": return_id,
            "seller_id": seller_id,
            "claim_type": spec.claim_type,
            "claimed_amount": item.value,
            "description": DESCRIPTIONS[spec.claim_type],
            "evidence": evidence,
            "seller_email": f"returns@{seller_id.lower()}.drill.example",
        }
        if filed_by_agent:
            escalation["channel"] = "CALL"
    return StoryScript(
        number=number,
        scenario=scenario,
        return_id=return_id,
        seller_id=seller_id,
        awb=awb,
        return_body=return_body,
        scans=tuple(scans),
        escalation=escalation,
        intent=spec.intent,
        filed_by_agent=filed_by_agent and escalation is not None,
        late_evidence=late_evidence,
        appeal=spec.appeal,
    )


def swiftship_body(script: StoryScript, scan: Scan) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": scan.status,
        "awb": script.awb,
        "return_ref": script.return_id,
        "at": scan.at.isoformat(),
        "hub": HUB,
        "agent": PICKUP_AGENT,
        "photos": [],
    }
    if scan.weight_kg is not None:
        body["weight_kg"] = scan.weight_kg
    if scan.otp_verified is not None:
        body["otp_verified"] = scan.otp_verified
    return body
