"""After a story's requests: follow its case to the end, as the people around a case do.

The seller adds the evidence the desk asked for and appeals a decision they dispute (through
intake, with their own portal key); an ops manager approves a payout proposed above the
approval cap, a second manager decides the appeal (four eyes: never the original decider); an
ops agent decides a case the SOP handed to a person. What to do next is a pure function of the
story and the case as the desk's queue shows it (`next_action`); `CaseFollowUp` polls and acts.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from disputedesk.drills.stories import StoryScript
from disputedesk.drills.traffic import RequestKind, TrafficGenerator
from shared.events import LiableParty

ABOVE_APPROVAL_CAP = "ABOVE_APPROVAL_CAP"
# A case that does not move is looked at less and less often, up to this: while a fault holds
# the pipeline up, a hundred follow-ups polling every second would only add to the load.
MAX_POLL_S = 5.0


class Action(StrEnum):
    ADD_EVIDENCE = "evidence added"
    DECIDE_REVIEW = "review decided"
    APPROVE = "approved"
    APPEAL = "appealed"
    DECIDE_APPEAL = "appeal decided"
    DONE = "closed"


def next_action(
    script: StoryScript, case: dict[str, Any] | None, done: frozenset[Action]
) -> Action | None:
    """What the story's people do now about its case; None means wait and look again."""
    if case is None:
        return None
    state = case["state"]
    if state == "AWAITING_EVIDENCE":
        if script.late_evidence and Action.ADD_EVIDENCE not in done:
            return Action.ADD_EVIDENCE
        return None
    if state == "UNDER_REVIEW":
        return Action.DECIDE_REVIEW if Action.DECIDE_REVIEW not in done else None
    if state == "ESCALATED":
        if case.get("reason_code") == ABOVE_APPROVAL_CAP and Action.APPROVE not in done:
            return Action.APPROVE
        return None
    if state == "APPEALED":
        return Action.DECIDE_APPEAL if Action.DECIDE_APPEAL not in done else None
    if state in ("CLOSED", "REJECTED"):
        if script.appeal is None or Action.DECIDE_APPEAL in done:
            return Action.DONE
        if Action.APPEAL not in done:
            return Action.APPEAL
        return None  # the appeal is on its way to the case
    return None  # OPEN (waiting for facts or fraud), DECIDED (settling in the same breath)


@dataclass(frozen=True, slots=True)
class DeskRequest:
    kind: RequestKind
    path: str
    body: dict[str, Any]
    client: str
    key_suffix: str


def request_for(
    action: Action, script: StoryScript, case: dict[str, Any], escalation_id: str | None
) -> DeskRequest:
    """The HTTP request that carries out `action` (everything but DONE)."""
    case_id = case["case_id"]
    seller = f"seller:{script.seller_id}"
    if action is Action.ADD_EVIDENCE:
        return DeskRequest(
            RequestKind.EVIDENCE,
            f"/v1/escalations/{escalation_id}/evidence",
            {"evidence": script.late_evidence or []},
            seller,
            "evidence",
        )
    if action is Action.APPEAL:
        assert script.appeal is not None
        return DeskRequest(
            RequestKind.APPEAL,
            f"/v1/escalations/{escalation_id}/appeal",
            {"reason": script.appeal.reason},
            seller,
            "appeal",
        )
    if action is Action.APPROVE:
        return DeskRequest(
            RequestKind.APPROVAL,
            f"/v1/cases/{case_id}/approve",
            {"reason": "Photos and the hub's scan confirm the damage; the amount is right."},
            "manager",
            "approve",
        )
    if action is Action.DECIDE_APPEAL:
        assert script.appeal is not None
        body: dict[str, Any] = {
            "overturn": script.appeal.overturn,
            "reason": script.appeal.decision_reason,
        }
        if script.appeal.overturn:
            body["liable_party"] = script.appeal.liable_party
            body["payout_pct"] = script.appeal.payout_pct
        return DeskRequest(
            RequestKind.APPEAL_DECISION,
            f"/v1/cases/{case_id}/appeal-decision",
            body,
            "second_manager",
            "appeal-decision",
        )
    if action is Action.DECIDE_REVIEW:
        intent = script.intent
        return DeskRequest(
            RequestKind.DESK_DECISION,
            f"/v1/cases/{case_id}/decision",
            {
                "liable_party": intent.liable_party or LiableParty.SELLER,
                "payout_pct": intent.payout_pct,
                "rule_id": intent.rule_id if intent.rule_id.startswith("L") else "MANUAL",
                "reason": "Reviewed the scans, QC and evidence: the SOP's rule applies.",
            },
            "agent",
            "decision",
        )
    raise ValueError(f"no request carries out {action}")


class CaseFollowUp:
    """Follows each story's case until it ends, acting when its people would."""

    def __init__(
        self, traffic: TrafficGenerator, *, poll_s: float = 1.0, give_up_after_s: float = 180.0
    ) -> None:
        self.traffic = traffic
        self.client = traffic.client
        self.ledger = traffic.ledger
        self.poll_s = poll_s
        self.give_up_after_s = give_up_after_s

    def _escalation_id(self, script: StoryScript) -> str | None:
        delivery = self.ledger.of(RequestKind.ESCALATION).get(
            f"drill-{self.traffic.run_id}-{script.number:05d}"
        )
        for answer in delivery.answers if delivery else []:
            if isinstance(answer, dict) and answer.get("escalation_id"):
                return str(answer["escalation_id"])
        return None

    async def follow(self, script: StoryScript) -> None:
        done: set[Action] = set()
        seen: tuple[str, int] | None = None
        # The clock restarts whenever the case moves: a fault slows a case, it does not end it.
        deadline = time.monotonic() + self.give_up_after_s
        case: dict[str, Any] | None = None
        wait = self.poll_s
        while True:
            case = await self.client.look(script.return_id)
            if case is not None and (case["state"], case["version"]) != seen:
                seen = (case["state"], case["version"])
                deadline = time.monotonic() + self.give_up_after_s
                wait = self.poll_s
            action = next_action(script, case, frozenset(done))
            if action is Action.DONE:
                self.ledger.desk[Action.DONE.value] += 1
                return
            if action is not None and case is not None:
                request = request_for(action, script, case, self._escalation_id(script))
                delivery = await self.traffic.send_once(
                    request.kind,
                    key=f"drill-{self.traffic.run_id}-{script.number:05d}-{request.key_suffix}",
                    return_id=script.return_id,
                    path=request.path,
                    body=request.body,
                    client=request.client,
                )
                if not delivery.accepted:
                    return  # refused or given up: the ledger reports it
                done.add(action)
                self.ledger.desk[action.value] += 1
                continue
            if time.monotonic() > deadline:
                where = f"{seen[0]} (version {seen[1]})" if seen else "no case"
                self.ledger.stuck.append(
                    f"case of {script.return_id} ({script.scenario.value}) stayed at {where} "
                    f"for {self.give_up_after_s:.0f}s"
                )
                return
            await asyncio.sleep(wait * (0.75 + random.random() / 2))
            wait = min(wait * 1.5, MAX_POLL_S)
