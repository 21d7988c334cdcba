"""Turn a simulated world into the requests that reach intake, in the order they are sent.

The world says what happened; the traffic plan says how it arrives: each partner's own messages
(swiftship one event per request, rapidroute batches, desipost cumulative snapshots), some
delivered twice (same message id, same bytes), some scans sent after the scan that followed them,
and sellers' feedback once their claims are settled. Drawn from its own random stream, so the
same world and options give the same plan, and a plan with no redeliveries, no reordering and
no feedback sends exactly the world's actions.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from disputedesk.simulate.generator import Action, World
from disputedesk.simulate.partners import (
    DESIPOST_STATUSES,
    RAPIDROUTE_MAX_BATCH,
    PartnerMessage,
    Scan,
    desipost_body,
    desipost_date,
    rapidroute_body,
    swiftship_body,
)

# (return id, simulated time) -> the time written into that return's requests.
TimeMap = Callable[[str, datetime], datetime]


def same_time(return_id: str, at: datetime) -> datetime:
    return at


@dataclass(frozen=True, slots=True)
class TrafficOptions:
    # Share of partner messages delivered a second time, as partners retry on a lost reply.
    redeliver_fraction: float = 0.0
    # Share of returns where one scan is sent after the scan that followed it.
    out_of_order_fraction: float = 0.0
    # Share of escalations after which the seller rates the desk.
    feedback_fraction: float = 0.0
    # rapidroute gathers the scans of this window into one batch.
    rapidroute_window: timedelta = timedelta(hours=1)
    # When set, rapidroute sends as it does in production: a batch leaves once it holds a size
    # drawn from this range (its published 50-500), or once its first scan has waited
    # `rapidroute_window`, whichever comes first. A small partner's scans then reach intake
    # hours late, some after the seller's claim on the same return.
    rapidroute_batch: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        for name in ("redeliver_fraction", "out_of_order_fraction", "feedback_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.rapidroute_batch is not None and not (
            1 <= self.rapidroute_batch[0] <= self.rapidroute_batch[1] <= RAPIDROUTE_MAX_BATCH
        ):
            raise ValueError(f"rapidroute_batch must be within 1-{RAPIDROUTE_MAX_BATCH}")


@dataclass(frozen=True, slots=True)
class Send:
    """One request: the marketplace feed, a partner webhook, an escalation or feedback."""

    at: datetime  # simulated time it leaves
    kind: str  # return | webhook | escalation | feedback
    return_ids: tuple[str, ...]
    partner_id: str = ""
    body: dict[str, Any] | None = None
    message: PartnerMessage | None = None
    redelivery: bool = False
    # The partner events in a webhook (their identity at intake), and how many of them intake
    # has not seen before this request: what it should accept as new.
    partner_events: tuple[str, ...] = ()
    new_events: int = 0


@dataclass(slots=True)
class TrafficPlan:
    sends: list[Send]
    scans: int  # distinct partner events
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def expected_duplicates(self) -> int:
        return sum(len(s.partner_events) - s.new_events for s in self.sends)


@dataclass(slots=True)
class _Scan:
    send_at: datetime
    event_key: str
    scan: Scan  # with its written (mapped) time
    partner_id: str
    partner_format: str
    index: int  # position in the return's journey


def _mapped(scan: Scan, time_map: TimeMap) -> Scan:
    return scan | {"at": time_map(scan["return_id"], scan["at"])}


def _return_body(action: Action, time_map: TimeMap) -> dict[str, Any]:
    at = datetime.fromisoformat(action.body["initiated_at"])
    return action.body | {"initiated_at": time_map(action.return_id, at).isoformat()}


def _escalation_body(action: Action, time_map: TimeMap) -> dict[str, Any]:
    evidence = [
        item
        | {
            "captured_at": time_map(
                action.return_id, datetime.fromisoformat(item["captured_at"])
            ).isoformat()
        }
        if "captured_at" in item
        else item
        for item in action.body["evidence"]
    ]
    return action.body | {"evidence": evidence}


class _Planner:
    def __init__(self, world: World, options: TrafficOptions, time_map: TimeMap, tag: str):
        self.world, self.options, self.time_map, self.tag = world, options, time_map, tag
        # Its own stream: the world's draws stay exactly as the generator made them.
        self.rng = random.Random(f"traffic:{world.seed}:{tag}")
        self.sends: list[Send] = []

    def plan(self) -> TrafficPlan:
        scans_by_return: dict[str, list[Action]] = defaultdict(list)
        escalations: list[Action] = []
        for action in self.world.actions:
            if action.kind == "return":
                self.sends.append(
                    Send(
                        action.at,
                        "return",
                        (action.return_id,),
                        body=_return_body(action, self.time_map),
                    )
                )
            elif action.kind == "escalation":
                escalations.append(action)
                self.sends.append(
                    Send(
                        action.at,
                        "escalation",
                        (action.return_id,),
                        body=_escalation_body(action, self.time_map),
                    )
                )
            else:
                scans_by_return[action.return_id].append(action)
        scans = [s for rid in scans_by_return for s in self._journey(scans_by_return[rid])]
        self._swiftship([s for s in scans if s.partner_format == "swiftship"])
        self._rapidroute([s for s in scans if s.partner_format == "rapidroute"])
        self._desipost([s for s in scans if s.partner_format == "desipost"])
        self._feedback(escalations)
        self._redeliveries()
        self.sends.sort(key=lambda s: s.at)
        sends = self._count_new_events()
        by_kind: dict[str, int] = defaultdict(int)
        for s in sends:
            by_kind[s.kind] += 1
        return TrafficPlan(sends=sends, scans=len(scans), by_kind=dict(by_kind))

    def _journey(self, actions: list[Action]) -> list[_Scan]:
        """A return's scans with the time each is sent; sometimes one goes after its successor."""
        out = []
        for i, action in enumerate(actions):
            scan = _mapped(action.body, self.time_map)
            if action.partner_format == "desipost":
                # desipost knows a scan by (awb, status, date): the same as intake's identity.
                status = DESIPOST_STATUSES[scan["type"]]
                key = f"{scan['awb']}|{status}|{desipost_date(scan['at'])}"
            else:
                key = f"{action.partner_id}:{action.return_id}:{i}"
            out.append(_Scan(action.at, key, scan, action.partner_id, action.partner_format, i))
        if len(out) >= 2 and self.rng.random() < self.options.out_of_order_fraction:
            i = self.rng.randrange(len(out) - 1)
            # Within half an hour of its successor: well before the seller could claim on it.
            out[i].send_at = out[i + 1].send_at + timedelta(minutes=self.rng.uniform(1, 30))
        return out

    def _message_id(self, prefix: str, scan: _Scan) -> str:
        return f"{prefix}_{scan.scan['return_id']}_{scan.index}"

    def _swiftship(self, scans: list[_Scan]) -> None:
        for s in scans:
            message = PartnerMessage(
                s.partner_id, "swiftship", self._message_id("msg", s), swiftship_body(s.scan)
            )
            self.sends.append(
                Send(
                    s.send_at,
                    "webhook",
                    (s.scan["return_id"],),
                    s.partner_id,
                    message=message,
                    partner_events=(s.event_key,),
                )
            )

    def _rapidroute(self, scans: list[_Scan]) -> None:
        """Scans sent within one window leave together, as one batch, at the window's last
        (or, with `rapidroute_batch`, once the batch is full or its first has waited the
        window)."""
        if self.options.rapidroute_batch is not None:
            self._rapidroute_filled(scans, self.options.rapidroute_batch)
            return
        window = self.options.rapidroute_window.total_seconds()
        buckets: dict[tuple[str, int], list[_Scan]] = defaultdict(list)
        for s in sorted(scans, key=lambda s: s.send_at):
            buckets[(s.partner_id, int(s.send_at.timestamp() // window))].append(s)
        for (partner_id, _), bucket in sorted(buckets.items(), key=lambda kv: kv[0][1]):
            for start in range(0, len(bucket), RAPIDROUTE_MAX_BATCH):
                batch = bucket[start : start + RAPIDROUTE_MAX_BATCH]
                body = rapidroute_body([(self._message_id("evt", s), s.scan) for s in batch])
                message = PartnerMessage(
                    partner_id, "rapidroute", f"batch_{self._message_id('evt', batch[0])}", body
                )
                self.sends.append(
                    Send(
                        max(s.send_at for s in batch),
                        "webhook",
                        tuple(dict.fromkeys(s.scan["return_id"] for s in batch)),
                        partner_id,
                        message=message,
                        partner_events=tuple(s.event_key for s in batch),
                    )
                )

    def _rapidroute_filled(self, scans: list[_Scan], sizes: tuple[int, int]) -> None:
        by_partner: dict[str, list[_Scan]] = defaultdict(list)
        for s in sorted(scans, key=lambda s: s.send_at):
            by_partner[s.partner_id].append(s)
        wait = self.options.rapidroute_window
        for partner_id, queue in by_partner.items():
            batch: list[_Scan] = []
            size = self.rng.randint(*sizes)
            for s in queue:
                if batch and s.send_at > batch[0].send_at + wait:
                    # The first scan waited long enough: the batch left when it had waited.
                    self._rapidroute_batch(partner_id, batch, batch[0].send_at + wait)
                    batch, size = [], self.rng.randint(*sizes)
                batch.append(s)
                if len(batch) >= size:
                    self._rapidroute_batch(partner_id, batch, s.send_at)
                    batch, size = [], self.rng.randint(*sizes)
            if batch:
                self._rapidroute_batch(partner_id, batch, batch[0].send_at + wait)

    def _rapidroute_batch(self, partner_id: str, batch: list[_Scan], at: datetime) -> None:
        body = rapidroute_body([(self._message_id("evt", s), s.scan) for s in batch])
        message = PartnerMessage(
            partner_id, "rapidroute", f"batch_{self._message_id('evt', batch[0])}", body
        )
        self.sends.append(
            Send(
                at,
                "webhook",
                tuple(dict.fromkeys(s.scan["return_id"] for s in batch)),
                partner_id,
                message=message,
                partner_events=tuple(s.event_key for s in batch),
            )
        )

    def _desipost(self, scans: list[_Scan]) -> None:
        """Each scan triggers a snapshot of the whole history up to it; a snapshot sent late
        repeats only what intake already has."""
        by_return: dict[str, list[_Scan]] = defaultdict(list)
        for s in scans:
            by_return[s.scan["return_id"]].append(s)
        for rid, history in by_return.items():
            for s in history:
                so_far = [h for h in history if h.index <= s.index]
                message = PartnerMessage(
                    s.partner_id,
                    "desipost",
                    self._message_id("snap", s),
                    desipost_body([h.scan for h in so_far]),
                )
                self.sends.append(
                    Send(
                        s.send_at,
                        "webhook",
                        (rid,),
                        s.partner_id,
                        message=message,
                        partner_events=tuple(h.event_key for h in so_far),
                    )
                )

    def _redeliveries(self) -> None:
        again = []
        for s in self.sends:
            if s.kind == "webhook" and self.rng.random() < self.options.redeliver_fraction:
                later = s.at + timedelta(minutes=self.rng.uniform(1, 60))
                again.append(
                    Send(
                        later,
                        s.kind,
                        s.return_ids,
                        s.partner_id,
                        message=s.message,
                        redelivery=True,
                        partner_events=s.partner_events,
                    )
                )
        self.sends.extend(again)

    def _feedback(self, escalations: list[Action]) -> None:
        """Sellers rate the desk after their claim is settled: well when the parcel plainly
        suffered, badly when their claim contradicts the partner's QC or had nothing behind it."""
        fraud_events = self.world.truth.fraud_events()
        for action in escalations:
            if self.rng.random() >= self.options.feedback_fraction:
                continue
            facts = action.facts
            claim = action.body["claim_type"]
            if ("escalation", action.return_id) in fraud_events or (
                facts.get("qc") and claim in ("WRONG_ITEM", "USED_ITEM")
            ):
                rating = self.rng.choice([1, 1, 2, 2, 3])
            elif facts.get("incident"):
                rating = self.rng.choice([3, 4, 5, 5, 5])
            else:
                rating = self.rng.choice([2, 3, 3, 4, 5])
            at = action.at + timedelta(days=self.rng.uniform(1, 4))
            self.sends.append(
                Send(
                    at,
                    "feedback",
                    (action.return_id,),
                    body={
                        "seller_id": action.body["seller_id"],
                        "rating": rating,
                        "text": FEEDBACK_TEXT[rating],
                        "return_id": action.return_id,
                    },
                )
            )

    def _count_new_events(self) -> list[Send]:
        seen: set[str] = set()
        out = []
        for s in self.sends:
            if s.kind == "webhook":
                new = {e for e in s.partner_events if e not in seen}
                seen |= new
                s = Send(
                    s.at,
                    s.kind,
                    s.return_ids,
                    s.partner_id,
                    s.body,
                    s.message,
                    s.redelivery,
                    s.partner_events,
                    len(new),
                )
            out.append(s)
        return out


FEEDBACK_TEXT = {
    1: "My claim was turned down although the item came back wrong. Very disappointed.",
    2: "The decision took long and I do not agree with it.",
    3: "Resolved, but the evidence checklist was confusing.",
    4: "Fair decision, thank you.",
    5: "Quick and fair. The desk kept me informed the whole way.",
}


def plan_traffic(
    world: World,
    options: TrafficOptions = TrafficOptions(),
    *,
    time_map: TimeMap = same_time,
    tag: str = "",
) -> TrafficPlan:
    return _Planner(world, options, time_map, tag).plan()
