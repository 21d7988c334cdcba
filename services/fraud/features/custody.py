"""Which hubs held a parcel, and at which of them its incident happened, as far as its scans
can tell (pilferage's counts).

Partners name different places: swiftship and rapidroute one hub a journey, desipost a pickup
area and then an origin and a destination hub, weighing the parcel only at pickup and delivery.
Counting an incident for every hub named blames an honest hub on a pilferer's route for the
pilferer's incidents and dilutes the pilferer's own. So an incident is the hub's where it
happened as far as the scans tell:

- a weight drop happened after the last scan that weighed the parcel intact and by the first
  that weighed it short: the hubs that scanned it in between (a hub's own intact weighing clears
  it until it scans the parcel again);
- a loss or transit damage happened where it was declared (the hub of the `LOST` or
  `DAMAGED_IN_TRANSIT` scan; the last hub named before it when that scan names none).

Where the scans leave more than one hub (desipost's two hubs between pickup and delivery), the
incident is shared between them by lot: one of them carries it, each with an equal chance,
drawn from the return's id so that a replay, or the same scans in another order, counts it the
same way. Counts stay whole parcels, so each hub's record stays a count of its own incidents
whose expectation is its share. A place seen only up to the pickup (desipost's pickup area)
held no part of the journey its weights speak for and handles nothing.

The lot is only where the counts are kept by the parcel. A drop the scans leave to two hubs, the
one that sent the parcel and the one that received it, is also counted on that pair's edge with
the parcels that passed it, and when the hubs are scored it is shared by the pair's evidence
(`pair_shares`): each of the two is read on its other edges in the same role, the receiver on
the parcels its other senders sent it, the sender on those it sent its other receivers. A hub
that pilfers what it receives loses parcels from many senders, so its other edges say so; a
sender whose drops are high only towards that one receiver is ordinary everywhere else, and
the drop goes to the receiver.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

PICKUP = "pickup"
SCAN = "scan"
END = "end"
# What the end of a journey was: a delivery weighed short, a declared loss or transit damage.
WEIGHT_DROP = "weight_drop"
DECLARED = "declared"


def weight_drop(pickup_g: int | None, delivered_g: int | None) -> bool | None:
    """SOP: delivered below pickup − max(50 g, 10 % of pickup); None if a weight is unknown."""
    if pickup_g is None or delivered_g is None:
        return None
    return delivered_g < pickup_g - max(50, pickup_g // 10)


@dataclass(frozen=True, slots=True)
class Seen:
    """One scan as custody reads it."""

    at: datetime
    hub: str | None
    weight_g: int | None
    kind: str  # PICKUP, SCAN or END

    def stored(self) -> list[Any]:
        return [self.at.isoformat(), self.hub, self.weight_g, self.kind]

    @classmethod
    def of(cls, row: Sequence[Any]) -> Seen:
        return cls(datetime.fromisoformat(row[0]), row[1], row[2], row[3])


@dataclass(frozen=True, slots=True)
class Custody:
    """The hubs that handled the parcel, and the one its incident (if any) is counted for."""

    handled: tuple[str, ...]
    incident_hub: str | None
    # The hubs the scans could not tell apart (the lot was drawn among them).
    candidates: tuple[str, ...] = ()


def _unique(hubs: Sequence[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(h for h in hubs if h))


def by_lot(return_id: str, candidates: Sequence[str]) -> str:
    """One of `candidates`, each with an equal chance, the same for the same return."""
    return candidates[zlib.crc32(return_id.encode()) % len(candidates)]


def custody(
    return_id: str,
    scans: Sequence[Seen],
    *,
    pickup_weight_g: int | None,
    incident: str | None,
) -> Custody:
    """`scans` are the journey's (any order, later ones ignored) up to and including its end;
    `incident`: `WEIGHT_DROP`, `DECLARED` or None."""
    ordered = sorted(scans, key=lambda s: (s.at, s.kind != PICKUP, s.hub or ""))
    ends = [s for s in ordered if s.kind == END]
    if not ends:
        return Custody(_unique([s.hub for s in ordered]), None)
    end = ends[0]
    seen = [s for s in ordered if s.at <= end.at]
    pickups = [s for s in seen if s.kind == PICKUP]
    after_pickup = [s for s in seen if pickups and s.at > pickups[-1].at and s.hub]
    handled = _unique([s.hub for s in after_pickup] or [s.hub for s in seen])
    if not handled or incident is None:
        return Custody(handled, None)
    if incident == WEIGHT_DROP:
        weighed = [s for s in seen if s.weight_g is not None]
        short = next(
            (s for s in weighed if s.kind != PICKUP and weight_drop(pickup_weight_g, s.weight_g)),
            end,
        )
        intact = [
            s for s in weighed if s.at < short.at and not weight_drop(pickup_weight_g, s.weight_g)
        ]
        since = intact[-1].at if intact else None
        window = [s for s in seen if (since is None or s.at > since) and s.at <= short.at]
        candidates = tuple(h for h in _unique([s.hub for s in window]) if h in handled)
        if not candidates:
            candidates = (short.hub,) if short.hub in handled else handled[-1:]
    elif end.hub:
        candidates = (end.hub,)
    else:
        named = [s.hub for s in seen if s.hub and s.hub in handled]
        candidates = (named[-1],) if named else handled[-1:]
    return Custody(handled, by_lot(return_id, candidates), candidates)


# The parts of a journey a hub may share a drop in (`features.service.pilferage_counts`): a drop
# the scans cannot place is between two hubs, so never on a journey's only hub.
SHARED_PARTS = ("last", "earlier")
# The edge a parcel passed from one hub to the next (`edge_id`), and its counts: the parcels
# that passed it, the drops the scans left to its two hubs, and of those the drops where its
# sender and its receiver held the journey's last part (the others' is `earlier`).
EDGE = "hub_edge"
EDGE_HANDLED = "edge_handled"
EDGE_DROPS = "edge_drops"
EDGE_SENDER_LAST = "edge_drops_sender_last"
EDGE_RECEIVER_LAST = "edge_drops_receiver_last"
EDGE_METRICS = (EDGE_HANDLED, EDGE_DROPS, EDGE_SENDER_LAST, EDGE_RECEIVER_LAST)
# Pseudo-drops at the network's edge rate that a hub's other edges are read with (`pair_shares`):
# a hub with few parcels on its other edges is read near the network's rate, so its drops stay
# near the lot's even chance until its other edges say otherwise.
PAIR_PRIOR_DROPS = 10.0
# Rounds of the fixed point (`pair_shares`): it settles within a few.
PAIR_ROUNDS = 8


def shared_metrics(part: str) -> tuple[str, str]:
    """The counters of the drops a hub shared with one other hub in `part`: drops it was one of
    the two hubs of (`shared_*`), and the drops the lot gave it (`lot_*`, already in its
    `incidents`)."""
    return f"shared_{part}", f"lot_{part}"


def edge_id(sender: str, receiver: str) -> str:
    return f"{sender}>{receiver}"


def edge_hubs(entity_id: str) -> tuple[str, str]:
    sender, _, receiver = entity_id.partition(">")
    return sender, receiver


def pair_shares(edges: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, float]]:
    """Per hub and part, the share of the drops it shared there that is its own, by the pair
    evidence of each drop's edge (`edges`: each edge's window counts, `EDGE_METRICS`).

    A drop on the edge sender -> receiver is the receiver's with the chance rho_r / (rho_r +
    rho_s), the sender's with the rest. rho_r is the receiver's drop rate on the parcels its
    other senders sent it, rho_s the sender's on the parcels it sent its other receivers, each
    over the network's rate on the edges touching neither hub, with `PAIR_PRIOR_DROPS` at the
    network's rate: (drops + prior) / (parcels x rate + prior). The edge's own parcels are left
    out of both, so the drops the two share do not speak for either. A hub's drops on its other
    edges are its shares of them (twice, so that an even share reads as the drops counted): an
    honest sender to a pilfering receiver is not read high on its other edges for the drops its
    receiver took, and those shares depend on the others, so the rule is a fixed point from the
    lot's even chance, `PAIR_ROUNDS` rounds. A hub with no other partner in the role is read at
    the network's rate; two such hubs share by the lot's even chance. The two shares of a drop
    add up to one, so the network's drops stay as counted.

    A hub's share in a part is what its edges give it there over its drops there (the sender's
    and the receiver's part of each edge's drops: `EDGE_SENDER_LAST`, `EDGE_RECEIVER_LAST`)."""
    rows: dict[str, tuple[str, str, float, float]] = {}
    for eid, row in edges.items():
        sender, receiver = edge_hubs(eid)
        rows[eid] = (
            sender,
            receiver,
            float(max(row.get(EDGE_DROPS, 0), 0)),
            float(max(row.get(EDGE_HANDLED, 0), 0)),
        )
    # Each hub's edges in a role, counted: the drops and parcels touching it (for the rate of
    # the edges touching neither hub of a pair) and the parcels of each role.
    touch_d: dict[str, float] = {}
    touch_n: dict[str, float] = {}
    recv_n: dict[str, float] = {}
    send_n: dict[str, float] = {}
    total_d = total_n = 0.0
    for sender, receiver, d, n in rows.values():
        for hub in (sender, receiver):
            touch_d[hub] = touch_d.get(hub, 0.0) + d
            touch_n[hub] = touch_n.get(hub, 0.0) + n
        recv_n[receiver] = recv_n.get(receiver, 0.0) + n
        send_n[sender] = send_n.get(sender, 0.0) + n
        total_d += d
        total_n += n
    rate: dict[str, float] = {}
    for eid, (sender, receiver, d, n) in rows.items():
        if d <= 0:
            continue
        back = rows.get(edge_id(receiver, sender))
        back_d, back_n = (back[2], back[3]) if back else (0.0, 0.0)
        rest_d = total_d - touch_d[sender] - touch_d[receiver] + d + back_d
        rest_n = total_n - touch_n[sender] - touch_n[receiver] + n + back_n
        rate[eid] = rest_d / rest_n if rest_d > 0 and rest_n > 0 else total_d / max(total_n, 1.0)
    to_receiver = dict.fromkeys(rate, 0.5)
    for _ in range(PAIR_ROUNDS):
        # Each hub's drops in a role as its shares of them, twice (an even share reads as counted).
        recv_d: dict[str, float] = {}
        send_d: dict[str, float] = {}
        for eid, share in to_receiver.items():
            sender, receiver, d, _ = rows[eid]
            recv_d[receiver] = recv_d.get(receiver, 0.0) + 2.0 * share * d
            send_d[sender] = send_d.get(sender, 0.0) + 2.0 * (1.0 - share) * d
        moved: dict[str, float] = {}
        for eid, share in to_receiver.items():
            sender, receiver, d, n = rows[eid]
            rho_r = _rho(recv_d[receiver] - 2.0 * share * d, recv_n[receiver] - n, rate[eid])
            rho_s = _rho(send_d[sender] - 2.0 * (1.0 - share) * d, send_n[sender] - n, rate[eid])
            moved[eid] = rho_r / (rho_r + rho_s)
        to_receiver = moved
    gained: dict[str, dict[str, list[float]]] = {}

    def give(hub: str, part: str, share: float, drops: float) -> None:
        cell = gained.setdefault(hub, {}).setdefault(part, [0.0, 0.0])
        cell[0] += share * drops
        cell[1] += drops

    for eid, share in to_receiver.items():
        sender, receiver, d, _ = rows[eid]
        row = edges[eid]
        receiver_last = min(float(max(row.get(EDGE_RECEIVER_LAST, 0), 0)), d)
        sender_last = min(float(max(row.get(EDGE_SENDER_LAST, 0), 0)), d)
        give(receiver, "last", share, receiver_last)
        give(receiver, "earlier", share, d - receiver_last)
        give(sender, "last", 1.0 - share, sender_last)
        give(sender, "earlier", 1.0 - share, d - sender_last)
    return {
        hub: {part: g / k for part, (g, k) in parts.items() if k > 0}
        for hub, parts in gained.items()
    }


def _rho(drops: float, parcels: float, rate: float) -> float:
    """A hub's drop rate on its other edges in a role over the network's, with the prior."""
    return (max(drops, 0.0) + PAIR_PRIOR_DROPS) / (max(parcels, 0.0) * rate + PAIR_PRIOR_DROPS)


def drops_by_pairs(row: Mapping[str, int], shares: Mapping[str, float]) -> float:
    """How many incidents a hub's counts (`row`, a window's or a day's) gain once its shared
    drops go by its pair evidence (`pair_shares`) instead of by lot: its share of the drops it was
    among, less those the lot gave it."""
    gained = 0.0
    for part, share in shares.items():
        shared_m, lot_m = shared_metrics(part)
        gained += share * row.get(shared_m, 0) - row.get(lot_m, 0)
    return gained


def by_pairs(row: Mapping[str, int], shares: Mapping[str, float]) -> dict[str, int]:
    """A hub's window counts (`row`) with its shared drops by the pairs' evidence: `incidents`
    and each part's `incidents_*`, rounded to whole incidents (never below none)."""
    out = dict(row)
    total = 0.0
    for part, share in shares.items():
        shared_m, lot_m = shared_metrics(part)
        gain = share * row.get(shared_m, 0) - row.get(lot_m, 0)
        total += gain
        out[f"incidents_{part}"] = max(round(row.get(f"incidents_{part}", 0) + gain), 0)
    out["incidents"] = max(round(row.get("incidents", 0) + total), 0)
    return out


def days_by_pairs(
    days: Mapping[date, Mapping[str, int]], shares: Mapping[str, float]
) -> dict[date, dict[str, int]]:
    """A hub's day counts with its shared drops by its pair evidence (`pair_shares`): each day's
    `incidents` moved by what the days up to it gain, rounded as a running total, so that whole
    incidents stay whole and the days add up to the window's gain however it falls on them."""
    out: dict[date, dict[str, int]] = {}
    gained = 0.0
    moved = 0
    for day in sorted(days):
        row = dict(days[day])
        gained += drops_by_pairs(row, shares)
        step = round(gained) - moved
        moved += step
        row["incidents"] = max(row.get("incidents", 0) + step, 0)
        out[day] = row
    return out
