"""The policy's terms as a seller reads them, end to end through the real topics and the SMTP
sink: a window's span and end in English and Hindi from the same policy value, to the minute,
whatever the policy version says (SOP v1's windows are whole days; a revision's may not be)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.message import Message
from functools import partial
from typing import Any

from sqlalchemy import text

from services.notifications.catalogue import samples
from services.notifications.messages.rendering import india_time
from services.notifications.messages.wording_hi import time_hi
from services.reconciliation.policy.explain import explain
from services.reconciliation.policy.facts import Facts
from services.reconciliation.policy.rules import evaluate_claim
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.events import CaseOrigin, CaseState, ClaimTerms, ClaimType, FraudBand, Outcome
from tests.conftest import Harness
from tests.integration.test_seller_directory import _about, _address, _profile, _put_seller
from tests.support.db import scalar
from tests.support.factories import uid
from tests.support.mail import messages_mentioning, text_part
from tests.support.notifications import envelope, publish
from tests.support.waiting import eventually

# A revision whose claim window is not whole days: 36 hours from delivery.
WINDOW_H = 36
POLICY = SOP_V1.model_copy(
    update={
        "version": "sop-v1-36h",
        "windows": SOP_V1.windows.model_copy(update={"claim_window_h": WINDOW_H}),
    }
)


async def _only_mail(harness: Harness, rid: str) -> Message:
    [mail] = await eventually(
        lambda: asyncio.to_thread(_about, harness, rid, ""),
        until=lambda found: len(found) >= 1,
        timeout=60,
        what=f"the email about {rid}",
    )
    return mail


async def test_a_late_claim_under_a_window_of_hours_ends_at_the_same_minute_in_both_languages(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """E3 under a 36-hour window: the English paragraph said "more than 1 days" (hours floored
    to days) and the Hindi computed the window's end from those whole days, 12 hours before the
    end the English gave. Both now read the policy's hours: the span said as it is, the end the
    same minute."""
    delivered = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=2)
    filed = delivered + timedelta(hours=WINDOW_H, minutes=40)
    facts = Facts(
        return_known=True,
        seller_id="S-T",
        buyer_id="B-T",
        partner_id="swiftship",
        category="electronics",
        item_value=90_000,
        qc_required=False,
        claim_type=ClaimType.DAMAGED,
        claimed_amount=90_000,
        filed_at=filed,
        evidence_counts={"UNBOXING_VIDEO": 1},
        pickup_at=delivered - timedelta(days=1),
        pickup_weight_g=1200,
        delivered_at=delivered,
        delivered_weight_g=1200,
        fraud_band=FraudBand.LOW,
    )
    window_end = delivered + timedelta(hours=WINDOW_H)
    for language in ("en", "hi"):
        seller, to, rid = uid("S-TERMS"), _address(), uid("RET-TERMS")
        await _put_seller(
            harness, pipeline["notifications"], seller, _profile(to, language=language)
        )
        verdict = evaluate_claim(facts, POLICY)
        assert verdict.rule_id == "E3", verdict
        decision = samples.decision_record(
            filed,
            policy_version=POLICY.version,
            rule_id="E3",
            outcome=Outcome.DENIED,
            liable_party=None,
            payout_pct=0,
            payout=0,
            partner_debit=0,
            marketplace_cost=0,
            reason_code="CLAIM_WINDOW_EXPIRED",
            facts={
                "claim_type": "DAMAGED",
                "delivered_at": delivered.isoformat(),
                "filed_at": filed.isoformat(),
            },
            explanation=explain(verdict, facts, POLICY, return_id=rid),
        )
        event = samples.case_rejected(
            uid("CASE-TERMS"),
            filed,
            return_id=rid,
            seller_id=seller,
            seller_email=to,
            previous_state=CaseState.OPEN,
        ).model_copy(update={"decision": decision, "reply_by": None})
        await publish(harness.env["KAFKA_BOOTSTRAP_SERVERS"], envelope(event))
        body = " ".join(text_part(await _only_mail(harness, rid)).split())
        if language == "en":
            assert f"more than {WINDOW_H} hours after the parcel was delivered" in body, body
            assert f"the time to claim ended at {india_time(window_end)}" in body, body
        else:
            assert f"डिलीवरी के {WINDOW_H} घंटे से ज़्यादा बाद" in body, body
            assert f"दावे का समय {time_hi(window_end)} को ख़त्म हो गया था" in body, body
            assert time_hi(delivered + timedelta(days=WINDOW_H // 24)) not in body, body


async def test_the_facts_wait_and_the_p2_window_are_the_policys_in_both_languages(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """E1's wait ("has not reached us within 48 hours") and P2's window ("open for 7 days from
    its delivery") were written into the wording: a case under a policy of 36 hours was told
    48 hours and 7 days. Reconciliation now states both on the event (`facts_wait_h`,
    `claim_window_h`, from the case's policy) and the emails say those, in English and Hindi."""
    at = datetime.now(UTC).replace(microsecond=0)
    for language in ("en", "hi"):
        seller, to = uid("S-TERMS"), _address()
        await _put_seller(
            harness, pipeline["notifications"], seller, _profile(to, language=language)
        )
        review = samples.case_under_review(
            uid("CASE-E1T"),
            at,
            return_id=uid("RET-E1T"),
            seller_id=seller,
            seller_email=to,
        ).model_copy(
            update={
                "previous_state": CaseState.OPEN,
                "reason_code": "MISSING_FACTS",
                "facts_missing": ["DELIVERY_SCAN"],
                "facts_wait_h": 36,
            }
        )
        request = samples.evidence_requested(
            uid("CASE-P2T"),
            at,
            return_id=uid("RET-P2T"),
            seller_id=seller,
            seller_email=None,
            origin=CaseOrigin.PROACTIVE,
            claim_type=ClaimType.MISSING_ITEM,
            claimed_amount=None,
        ).model_copy(update={"reply_by": at + timedelta(hours=20), "claim_window_h": 36})
        await publish(harness.env["KAFKA_BOOTSTRAP_SERVERS"], envelope(review), envelope(request))
        reviewed = " ".join(text_part(await _only_mail(harness, review.return_id)).split())
        asked = " ".join(text_part(await _only_mail(harness, request.return_id)).split())
        if language == "en":
            assert "has not reached us within 36 hours" in reviewed, reviewed
            assert "open for 36 hours from its delivery to you" in asked, asked
        else:
            assert "36 घंटे में हम तक नहीं" in reviewed, reviewed
            assert "डिलीवरी के 36 घंटे तक" in asked, asked
        for body in (reviewed, asked):
            assert "48 hours" not in body and "48 घंटे" not in body, body
            assert "7 days" not in body and "7 दिन" not in body, body


async def _lessons(notifications: Any, seller: str) -> Any:
    return await scalar(
        notifications,
        "SELECT count(*) FROM digest_items i JOIN digests d USING (digest_id) "
        "WHERE d.seller_id = :s",
        s=seller,
    )


def _digests(harness: Harness, first: str, second: str) -> list[Message]:
    """The emails naming both cases: the digest (each decision email names its own)."""
    return [m for m in messages_mentioning(harness.mail_dir, first) if second in text_part(m)]


async def test_the_digests_lessons_state_the_windows_of_the_policy_that_closed_the_claims(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """The daily digest teaches from each avoidable closure (E4, E3/E3c, E3b). Its tips said
    "72 hours", "7 days", "45 days" and "10 days" whatever policy closed the claim. The closing
    event now carries the policy's windows (`CaseRejected.claim_terms`) and each lesson states
    those, in English and Hindi."""
    at = datetime.now(UTC).replace(microsecond=0)
    terms = ClaimTerms(
        claim_window_h=WINDOW_H,
        not_received_earliest_days=12,
        not_received_latest_days=30,
        evidence_reply_h=20,
        # The closed claim was a missing-item claim: a video and the weight, no photos.
        evidence_checklist=list(SOP_V1.evidence[ClaimType.MISSING_ITEM].checklist),
    )
    notifications = pipeline["notifications"]
    for language in ("en", "hi"):
        seller, to = uid("S-LESSON"), _address()
        await _put_seller(harness, notifications, seller, _profile(to, language=language))
        events = []
        for rule, code in (
            ("E4", "EVIDENCE_NOT_PROVIDED"),
            ("E3", "CLAIM_WINDOW_EXPIRED"),
            ("E3b", "PREMATURE_CLAIM"),
        ):
            event = samples.case_rejected(
                uid("CASE-LESSON"),
                at,
                return_id=uid("RET-LESSON"),
                seller_id=seller,
                seller_email=to,
                previous_state=CaseState.OPEN,
            )
            decision = event.decision
            assert decision is not None
            events.append(
                event.model_copy(
                    update={
                        "decision": decision.model_copy(
                            update={"rule_id": rule, "reason_code": code}
                        ),
                        "claim_terms": terms,
                    }
                )
            )
        await publish(harness.env["KAFKA_BOOTSTRAP_SERVERS"], *(envelope(e) for e in events))
        await eventually(
            partial(_lessons, notifications, seller),
            until=lambda n: n == 3,
            what="three lessons gathered for the digest",
        )
        # The digest's hour, now.
        async with notifications.runtime.sessionmaker() as session, session.begin():
            await session.execute(
                text("UPDATE digests SET flush_at = now() WHERE seller_id = :s"), {"s": seller}
            )
        [digest] = await eventually(
            partial(asyncio.to_thread, _digests, harness, events[0].case_id, events[1].case_id),
            until=lambda found: len(found) >= 1,
            timeout=90,
            what="the digest",
        )
        assert digest["To"] == to
        body = " ".join(text_part(digest).split())
        if language == "en":
            for said in (
                "you have 20 hours to send it",
                "within 36 hours of delivery (or within 30 days of pickup",
                "up to 12 days after pickup",
                "the weight of the parcel as you received it, in grams",
            ):
                assert said in body, body
            unsaid = ("72 hours", "7 days", "45 days", "10 days", "photos")
        else:
            for said in ("20 घंटे होते हैं", "डिलीवरी के 36 घंटे के भीतर", "पिकअप के 30 दिन", "12 दिन तक"):
                assert said in body, body
            assert "पार्सल मिलने के समय उसका वज़न" in body, body
            unsaid = ("72 घंटे", "7 दिन", "45 दिन", "10 दिन", "फ़ोटो")
        for number in unsaid:
            assert number not in body, body
