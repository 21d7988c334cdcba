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

The lot is only where the counts are kept by the parcel. When the hubs are scored, a drop the
scans left to several hubs is shared by each hub's own record (`record_shares`): a hub whose
parcels in that part of the journey come to harm more often than the network's, by what the
scans do place (declared losses and damage, drops with one hub to blame) and by its shares of
the drops they do not, takes more of its shared drops than the lot's even chance. So a hub that
pilfers the parcels it receives keeps the drops its senders drew by lot.
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
# the scans cannot place is between at least two hubs, so never on a journey's only hub.
SHARED_PARTS = ("last", "earlier")
# Pseudo-incidents at the network's rate that a hub's record is read with (`record_shares`): a
# hub whose part holds few incidents is read near the network's rate, so its drops stay near
# the lot's even chance until its own record says otherwise.
RECORD_PRIOR_INCIDENTS = 10.0
# Rounds of the fixed point (`record_shares`): it settles within a few.
RECORD_ROUNDS = 20


def shared_metrics(part: str) -> tuple[str, str, str]:
    """The counters of the drops a hub shared in `part`: drops it was among the hubs of
    (`shared_*`), the hubs they were shared among added up (`among_*`), and the drops the lot
    gave it (`lot_*`, already in its `incidents`)."""
    return f"shared_{part}", f"among_{part}", f"lot_{part}"


def record_shares(hubs: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, float]]:
    """Per hub and part, the share of each drop it shared there that is its own, read from its
    record in that part against the network's (`hubs`: each hub's window counts, the parts'
    `handled_*` and `incidents_*` and the `shared_metrics`).

    A drop shared between a hub and another is the hub's with the chance of the hub's harm rate
    in that part over the two hubs' rates: rho / (rho + m), rho the hub's rate relative to the
    network's in the part and m the number of other hubs (each read at the network's rate,
    rho 1: a hub's shared drops are spread over many partners). rho is read from what the hub's
    record holds: the incidents the scans place at it (declared losses and damage, drops with
    one hub to blame) and its shares of the drops they do not, over the incidents the network's
    rate in the part leads one to expect of its parcels, both with `RECORD_PRIOR_INCIDENTS` at
    the network's rate. Its shares depend on rho and rho on its shares: the fixed point, from
    the lot's even chance (rho 1), `RECORD_ROUNDS` rounds. An ordinary hub keeps about the
    lot's share; a hub harming its part's parcels at 3x its network's keeps about 3/4 of its
    shared drops.

    The network's rate in a part is the other hubs' incidents there as counted (the lot's draws,
    whose expectation is the even share) over their parcels: a pilferer is not read against a
    rate it lifts itself. A part no other hub holds incidents in leaves the lot's even chance."""
    totals = {
        part: (
            sum(max(row.get(f"incidents_{part}", 0), 0) for row in hubs.values()),
            sum(max(row.get(f"handled_{part}", 0), 0) for row in hubs.values()),
        )
        for part in SHARED_PARTS
    }
    out: dict[str, dict[str, float]] = {}
    for hub, row in hubs.items():
        shares: dict[str, float] = {}
        for part in SHARED_PARTS:
            shared_m, among_m, lot_m = shared_metrics(part)
            shared = row.get(shared_m, 0)
            own_k = max(row.get(f"incidents_{part}", 0), 0)
            own_n = max(row.get(f"handled_{part}", 0), 0)
            k_net, n_net = totals[part][0] - own_k, totals[part][1] - own_n
            if shared <= 0 or k_net <= 0 or n_net <= 0:
                continue
            others = max(row.get(among_m, 0) / shared - 1.0, 1.0)
            placed = max(own_k - row.get(lot_m, 0), 0)
            expected = own_n * k_net / n_net
            rho = 1.0
            for _ in range(RECORD_ROUNDS):
                share = rho / (rho + others)
                rho = (placed + share * shared + RECORD_PRIOR_INCIDENTS) / (
                    expected + RECORD_PRIOR_INCIDENTS
                )
            shares[part] = rho / (rho + others)
        if shares:
            out[hub] = shares
    return out


def drops_by_record(row: Mapping[str, int], shares: Mapping[str, float]) -> float:
    """How many incidents a hub's counts (`row`, a window's or a day's) gain once its shared
    drops go by its record (`record_shares`) instead of by lot: its share of the drops it was
    among, less those the lot gave it."""
    gained = 0.0
    for part, share in shares.items():
        shared_m, _, lot_m = shared_metrics(part)
        gained += share * row.get(shared_m, 0) - row.get(lot_m, 0)
    return gained


def by_record(row: Mapping[str, int], shares: Mapping[str, float]) -> dict[str, int]:
    """A hub's window counts (`row`) with its shared drops by its record: `incidents` and each
    part's `incidents_*`, rounded to whole incidents (never below none)."""
    out = dict(row)
    total = 0.0
    for part, share in shares.items():
        shared_m, _, lot_m = shared_metrics(part)
        gain = share * row.get(shared_m, 0) - row.get(lot_m, 0)
        total += gain
        out[f"incidents_{part}"] = max(round(row.get(f"incidents_{part}", 0) + gain), 0)
    out["incidents"] = max(round(row.get("incidents", 0) + total), 0)
    return out


def days_by_record(
    days: Mapping[date, Mapping[str, int]], shares: Mapping[str, float]
) -> dict[date, dict[str, int]]:
    """A hub's day counts with its shared drops by its record (`record_shares`): each day's
    `incidents` moved by what the days up to it gain, rounded as a running total, so that whole
    incidents stay whole and the days add up to the window's gain however it falls on them."""
    out: dict[date, dict[str, int]] = {}
    gained = 0.0
    moved = 0
    for day in sorted(days):
        row = dict(days[day])
        gained += drops_by_record(row, shares)
        step = round(gained) - moved
        moved += step
        row["incidents"] = max(row.get("incidents", 0) + step, 0)
        out[day] = row
    return out
