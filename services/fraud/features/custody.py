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
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
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
