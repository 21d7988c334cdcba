"""One return's story told through the public APIs, as the SOP tests tell it: the marketplace
feeds the return, the partner scans it in its own webhook format, the seller's claim is filed,
and the test reads the case from reconciliation and the seller's emails from the SMTP sink.

    s = Scenario(harness, pipeline).return_(item_value=180_000)
    s.picked_up(ago=timedelta(days=2), weight_g=1200).delivered(ago=timedelta(days=1))
    s.escalate(claim_type="DAMAGED", claimed_amount=150_000)
    case = await s.case(until=lambda c: c["state"] == "CLOSED")
    [decided] = await s.seller_mails("approved in full")

The steps only record what happens; reading (`case`, `seller_mails`, `run`) sends what is
recorded first, in order. A partner that sends batches (rapidroute) or cumulative snapshots
(desipost) reports the scans recorded one after another in one request, as it would."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any, Self

from tests.support.db import rows
from tests.support.factories import (
    desipost_snapshot,
    escalation_body,
    rapidroute_batch,
    rapidroute_event,
    return_body,
    swiftship_event,
    uid,
)
from tests.support.mail import html_part, messages_mentioning, text_part
from tests.support.signing import desipost_headers, rapidroute_headers, swiftship_headers
from tests.support.waiting import eventually

AGENT = "DISPUTEDESK_KEY_OPS_AGENT"
MARKETPLACE = "DISPUTEDESK_KEY_MARKETPLACE"

# The scan steps by partner: swiftship's event names, desipost's statuses, rapidroute's codes.
PARTNER_CODES: dict[str, dict[str, str]] = {
    "swiftship": {
        "qc_passed": "return.qc_passed",
        "qc_failed": "return.qc_failed",
        "picked_up": "return.picked_up",
        "delivered": "return.delivered",
        "in_transit": "return.in_transit",
        "damaged": "return.damaged",
        "lost": "return.lost",
    },
    "desipost": {"qc_passed": "QC PASSED", "picked_up": "PICKED UP", "delivered": "DELIVERED"},
    "rapidroute": {"qc_passed": "RQP", "picked_up": "RPU", "delivered": "RDL"},
}
IST = timedelta(hours=5, minutes=30)


def seller_address() -> str:
    """An address of the test's own, so the sink's messages to it are this test's alone."""
    return f"{uid('seller').lower()}@example.com"


def new_seller() -> str:
    """A seller of the test's own, filed for by the desk agent: the development portal seller
    has filed claims all through the suite, and its claim rate alone would send these cases
    to fraud review instead of the SOP outcome under test."""
    return uid("S-SOP")


def seller_profile(email: str, **over: Any) -> dict[str, Any]:
    """A seller directory entry (`PUT /v1/sellers/{id}`) answering at `email`."""
    body: dict[str, Any] = {
        "emails": [email],
        "display_name": "Asha Electronics",
        "language": "en",
        "phone": "+919876543210",
        "preferences": {"education_digest": True},
    }
    body.update(over)
    return body


async def put_seller(
    harness: Any, notifications: Any, seller_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    r = await notifications.client.put(
        f"/v1/sellers/{seller_id}", json=body, headers=harness.key(MARKETPLACE)
    )
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


async def case_of(harness: Any, recon: Any, rid: str, until: Any) -> dict[str, Any]:
    """The return's case as the desk reads it (`GET /v1/cases/{id}`), once `until` holds."""

    async def probe() -> dict[str, Any] | None:
        r = await recon.client.get(
            "/v1/cases", params={"return_id": rid}, headers=harness.key(AGENT)
        )
        items = r.json()["items"]
        if not items:
            return None
        r = await recon.client.get(f"/v1/cases/{items[0]['case_id']}", headers=harness.key(AGENT))
        return dict(r.json())

    found = await eventually(
        probe, until=lambda c: c is not None and until(c), timeout=60, what=f"case of {rid}"
    )
    assert found is not None
    return found


async def seller_messages(notifications: Any, rid: str) -> list[tuple[str, str]]:
    """The seller's messages about the return as notifications holds them, (template, text) in
    the order the case caused them; a cancelled or superseded message was never the seller's."""
    found = await rows(
        notifications,
        "SELECT template, body_text FROM messages WHERE return_id = :r AND audience = 'seller' "
        "AND status NOT IN ('cancelled', 'superseded') ORDER BY case_version, created_at, template",
        r=rid,
    )
    return [(str(row.template), str(row.body_text)) for row in found]


def mails_saying(harness: Any, rid: str, subject_part: str) -> list[Message]:
    """Emails about a return whose subject says `subject_part` (a raw search could miss a
    folded or encoded subject line)."""
    return [
        m for m in messages_mentioning(harness.mail_dir, rid) if subject_part in str(m["Subject"])
    ]


async def mails_about(
    harness: Any, rid: str, subject_part: str, count: int = 1, timeout: float = 60
) -> list[Message]:
    """At least `count` emails about the return saying `subject_part`, once they are in the sink."""
    return await eventually(
        lambda: asyncio.to_thread(mails_saying, harness, rid, subject_part),
        until=lambda found: len(found) >= count,
        timeout=timeout,
        what=f"{count} emails about {rid} saying {subject_part!r}",
    )


def in_both(mail: Message, *needles: str) -> None:
    """Each needle is said in the email's text part and in its HTML part."""
    text, html = text_part(mail), html_part(mail)
    for needle in needles:
        assert needle in text, f"{needle!r} missing from the text part:\n{text}"
        assert needle in html, f"{needle!r} missing from the HTML part:\n{html}"


async def feed_return_body(harness: Any, intake: Any, body: dict[str, Any]) -> None:
    """The marketplace feed's entry for a return, as the marketplace posts it."""
    r = await intake.client.post("/v1/returns", json=body, headers=harness.key(MARKETPLACE))
    assert r.status_code == 202, r.text


async def send_swiftship_scan(
    harness: Any,
    intake: Any,
    rid: str,
    event: str,
    at: datetime,
    weight_kg: float = 1.2,
    **over: Any,
) -> None:
    """One swiftship webhook, signed as swiftship signs it (`over`: more of the event's fields)."""
    # Each return its own pickup agent and hub: these tests' losses and damages are not one
    # handler's record (fraud, sharing the session's database, alerts a shared agent or hub as
    # a pilferer once enough of them have passed its hands, and holds later tests' claims for
    # review).
    body = swiftship_event(
        rid,
        event,
        at=at.isoformat(),
        weight_kg=weight_kg,
        agent=f"AG-{rid}",
        hub=f"H-{rid}",
        **over,
    )
    r = await intake.client.post(
        "/v1/webhooks/swiftship",
        content=body,
        headers=swiftship_headers(harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=uid("msg")),
    )
    assert r.status_code == 202, r.text


@dataclass(frozen=True)
class _Scan:
    step: str
    at: datetime
    weight_g: int | None
    otp_verified: bool | None


@dataclass
class Scenario:
    """A return of the test's own and its seller (a new seller and address unless given)."""

    harness: Any
    pipeline: dict[str, Any]
    seller: str = field(default_factory=new_seller)
    to: str = field(default_factory=seller_address)
    # The moment the story's "ago" counts back from, taken once so its steps agree.
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    rid: str = ""
    awb: str = ""
    partner: str = "swiftship"
    fed: dict[str, Any] = field(default_factory=dict)
    filing: dict[str, Any] = field(default_factory=dict)
    filed: Any = None
    _steps: list[Callable[[], Awaitable[None]]] = field(default_factory=list, repr=False)
    # What desipost has reported so far: each of its snapshots repeats every earlier scan.
    _snapshot: list[_Scan] = field(default_factory=list, repr=False)

    @property
    def intake(self) -> Any:
        return self.pipeline["intake"]

    @property
    def recon(self) -> Any:
        return self.pipeline["reconciliation"]

    @property
    def escalation_id(self) -> str:
        """The id intake gave the last claim filed (after `run`, `case` or `seller_mails`)."""
        assert self.filed is not None, "no claim filed yet"
        return str(self.filed.json()["escalation_id"])

    # --- steps -------------------------------------------------------------------------------

    def in_directory(self, **profile: Any) -> Self:
        """The marketplace registers the seller in notifications' directory at `to`."""
        body = seller_profile(self.to, **profile)

        async def put() -> None:
            await put_seller(self.harness, self.pipeline["notifications"], self.seller, body)

        self._steps.append(put)
        return self

    def return_(self, rid: str | None = None, *, partner: str = "swiftship", **over: Any) -> Self:
        """The marketplace feeds the seller's return (`factories.return_body`, QC at pickup
        required unless `qc_required=False`); intake holds scans and claims of a return it has
        not been fed."""
        self.partner = partner
        self.fed = return_body(rid, **{"seller_id": self.seller, "partner_id": partner, **over})
        self.rid, self.awb = str(self.fed["return_id"]), str(self.fed["awb"])
        body = self.fed

        async def feed() -> None:
            await feed_return_body(self.harness, self.intake, body)

        self._steps.append(feed)
        return self

    def scan(
        self,
        step: str,
        *,
        ago: timedelta | None = None,
        at: datetime | None = None,
        weight_g: int | None = None,
        otp_verified: bool | None = None,
    ) -> Self:
        """The partner reports `step` (a key of PARTNER_CODES) at `at`, or `ago` before `now`;
        the weight is 1.2 kg and the OTP proof the partner's usual unless told."""
        if step not in PARTNER_CODES[self.partner]:
            raise ValueError(f"{self.partner} has no {step!r} scan in this builder")
        when = at if at is not None else self.now - (ago or timedelta(0))
        scan = _Scan(step, when, weight_g, otp_verified)
        last = self._steps[-1] if self._steps else None
        if self.partner != "swiftship" and isinstance(last, _PartnerRequest):
            last.scans.append(scan)
        else:
            self._steps.append(_PartnerRequest(self, [scan]))
        return self

    def qc_passed(self, **when: Any) -> Self:
        return self.scan("qc_passed", **when)

    def qc_failed(self, **when: Any) -> Self:
        return self.scan("qc_failed", **when)

    def picked_up(self, **when: Any) -> Self:
        return self.scan("picked_up", **when)

    def delivered(self, **when: Any) -> Self:
        return self.scan("delivered", **when)

    def in_transit(self, **when: Any) -> Self:
        return self.scan("in_transit", **when)

    def damaged(self, **when: Any) -> Self:
        return self.scan("damaged", **when)

    def lost(self, **when: Any) -> Self:
        return self.scan("lost", **when)

    def escalate(self, *, expect: int = 201, key: str = AGENT, **claim: Any) -> Self:
        """A desk agent files the seller's claim that came by email, answering at `to` (a
        damage claim with an unboxing video unless `claim` says); intake answers `expect`."""
        self.filing = escalation_body(
            self.rid,
            **{"seller_id": self.seller, "channel": "EMAIL", "seller_email": self.to, **claim},
        )
        body = self.filing

        async def file() -> None:
            r = await self.intake.client.post(
                "/v1/escalations", json=body, headers=self.harness.key(key)
            )
            assert r.status_code == expect, r.text
            self.filed = r

        self._steps.append(file)
        return self

    # --- reading -----------------------------------------------------------------------------

    async def run(self) -> Self:
        """Send every step recorded so far, in order."""
        steps, self._steps = self._steps, []
        for step in steps:
            await step()
        return self

    async def case(
        self, until: Callable[[dict[str, Any]], bool] = lambda c: c["state"] == "CLOSED"
    ) -> dict[str, Any]:
        """The return's case once `until` holds (closed, by default)."""
        await self.run()
        return await case_of(self.harness, self.recon, self.rid, until)

    async def seller_mails(
        self, subject_part: str, count: int = 1, timeout: float = 60
    ) -> list[Message]:
        """At least `count` emails about the return whose subject says `subject_part`."""
        await self.run()
        return await mails_about(self.harness, self.rid, subject_part, count, timeout)


@dataclass
class _PartnerRequest:
    """The scans a partner reports in one go: swiftship one event a request, rapidroute a
    batch of the scans recorded together, desipost a snapshot of all its scans so far."""

    scenario: Scenario
    scans: list[_Scan]

    async def __call__(self) -> None:
        s = self.scenario
        codes = PARTNER_CODES[s.partner]
        if s.partner == "swiftship":
            for scan in self.scans:
                weight_g = scan.weight_g if scan.weight_g is not None else 1200
                otp = {} if scan.otp_verified is None else {"otp_verified": scan.otp_verified}
                await send_swiftship_scan(
                    s.harness, s.intake, s.rid, codes[scan.step], scan.at, weight_g / 1000, **otp
                )
            return
        if s.partner == "rapidroute":
            raw = rapidroute_batch(
                [
                    # Its own agent and hub, as each swiftship scan has.
                    rapidroute_event(
                        s.rid,
                        codes[scan.step],
                        ts=scan.at,
                        weight_g=scan.weight_g if scan.weight_g is not None else 1200,
                        agent=f"AG-{s.rid}",
                        location={"hub": f"H-{s.rid}", "city": "New Delhi"},
                        **(
                            {}
                            if scan.otp_verified is None
                            else {"pod": {"method": "OTP", "verified": scan.otp_verified}}
                        ),
                    )
                    for scan in self.scans
                ]
            )
            headers = rapidroute_headers(s.harness.secrets["RAPIDROUTE_SECRET"], raw)
        else:
            if any(
                scan.weight_g is not None or scan.otp_verified is not None for scan in self.scans
            ):
                raise ValueError("desipost snapshots carry the factory's weights and proof")
            s._snapshot.extend(self.scans)
            raw = desipost_snapshot(
                s.rid,
                s.awb,
                # desipost writes India time, "DD-MM-YYYY HH:MM:SS".
                [
                    (
                        codes[scan.step],
                        (scan.at.astimezone(UTC) + IST).strftime("%d-%m-%Y %H:%M:%S"),
                    )
                    for scan in s._snapshot
                ],
            )
            headers = desipost_headers(s.harness.secrets["DESIPOST_API_KEY"])
        r = await s.intake.client.post(f"/v1/webhooks/{s.partner}", content=raw, headers=headers)
        assert r.status_code == 202, r.text
