"""The counters' day is the UTC date of an event's time, whatever offset the partner stamped it
with (`features.repository.day_of`): one instant is one day for every partner, for the end of a
journey counted when its scan comes and for the same end read back from PostgreSQL (in UTC) when
a late scan recounts it, and for the window a scan's detectors read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, cast
from uuid import uuid4

from services.fraud.features.repository import day_of
from services.fraud.features.service import Increments, record_return, record_scan
from services.fraud.models import ReturnFacts
from services.fraud.scoring import pilferage as pilferage_scoring
from services.fraud.scoring.base import AssessorBase, ScoringConfig
from services.fraud.settings import FraudSettings
from shared.events import ReturnShipmentEvent, ShipmentEventType
from tests.unit.test_fraud_features import DEAR_FROM, facts, ret

IST = timezone(timedelta(hours=5, minutes=30))
# 00:40 on 2026-11-19 in India is 19:10 on 2026-11-18 in UTC: a scan after India's midnight,
# before UTC's.
AFTER_INDIAS_MIDNIGHT = datetime(2026, 11, 19, 0, 40, tzinfo=IST)
UTC_DAY = date(2026, 11, 18)


def scan(kind: ShipmentEventType, at: datetime, weight: int | None = None) -> ReturnShipmentEvent:
    return ReturnShipmentEvent(
        event_id=uuid4(),
        partner_id="swiftship",
        partner_event_id=str(uuid4()),
        return_id="R-1",
        awb="A-1",
        event_type=kind,
        occurred_at=at,
        hub_id="H-1",
        agent_id="AG-1",
        weight_g=weight,
        raw_ref="raw",
    )


def hub_days(inc: Increments, metric: str) -> dict[date, int]:
    return {d: n for (e, i, m, d), n in inc.counts.items() if (e, i, m) == ("hub", "H-1", metric)}


def test_the_counters_day_is_the_utc_date_whatever_the_offset() -> None:
    assert day_of(AFTER_INDIAS_MIDNIGHT) == UTC_DAY
    assert day_of(AFTER_INDIAS_MIDNIGHT.astimezone(UTC)) == UTC_DAY
    # A time without an offset is read as UTC.
    assert day_of(datetime(2026, 11, 18, 23, 59)) == UTC_DAY


def test_a_scan_stamped_in_india_time_counts_on_its_utc_day() -> None:
    counted = {}
    for stamp in (AFTER_INDIAS_MIDNIGHT, AFTER_INDIAS_MIDNIGHT.astimezone(UTC)):
        f, inc = facts(), Increments()
        record_return(f, ret(), inc)
        record_scan(
            f,
            scan(ShipmentEventType.PICKED_UP, stamp - timedelta(days=2), 1000),
            inc,
            dear_from=DEAR_FROM,
        )
        record_scan(f, scan(ShipmentEventType.DAMAGED_IN_TRANSIT, stamp), inc, dear_from=DEAR_FROM)
        counted[stamp.utcoffset()] = (hub_days(inc, "handled"), hub_days(inc, "incidents"))
    # The same instant, stamped +05:30 or Z, is one day of the counters.
    assert len(set(map(repr, counted.values()))) == 1
    assert counted[timedelta(0)] == ({UTC_DAY: 1}, {UTC_DAY: 1})


def test_a_late_scans_recount_lands_on_the_day_its_end_was_counted() -> None:
    # A delivery stamped in India time after India's midnight, then the journey's facts read
    # back from PostgreSQL (times in UTC), then the pickup scan arriving late with the weight
    # that shows a drop: the incident is counted on the day the delivery's parcel was.
    f, inc = facts(), Increments()
    record_return(f, ret(), inc)
    record_scan(
        f,
        scan(ShipmentEventType.DELIVERED_TO_SELLER, AFTER_INDIAS_MIDNIGHT, 600),
        inc,
        dear_from=DEAR_FROM,
    )
    assert f.terminal_at is not None
    f = replace_times_as_stored(f)
    record_scan(
        f,
        scan(ShipmentEventType.PICKED_UP, AFTER_INDIAS_MIDNIGHT - timedelta(days=2), 1000),
        inc,
        dear_from=DEAR_FROM,
    )
    assert hub_days(inc, "handled") == {UTC_DAY: 1}
    assert hub_days(inc, "incidents") == {UTC_DAY: 1}


def replace_times_as_stored(f: ReturnFacts) -> ReturnFacts:
    """The facts as PostgreSQL gives them back: `timestamptz` in UTC."""
    assert f.terminal_at is not None
    f.terminal_at = f.terminal_at.astimezone(UTC)
    return f


def test_a_scans_window_and_day_are_utc_days() -> None:
    config = ScoringConfig.from_settings(FraudSettings())
    since, until = pilferage_scoring.days_read(AFTER_INDIAS_MIDNIGHT, config)
    assert until == UTC_DAY
    assert since == UTC_DAY - (config.short_window + config.baseline)
    a = AssessorBase(
        cast(Any, None), scan(ShipmentEventType.PICKED_UP, AFTER_INDIAS_MIDNIGHT), config
    )
    assert a.day == UTC_DAY and a.window(timedelta(days=56)) == (
        UTC_DAY - timedelta(days=56),
        UTC_DAY,
    )
    with a.as_of(AFTER_INDIAS_MIDNIGHT + timedelta(days=1)):
        assert a.day == UTC_DAY + timedelta(days=1)
    assert a.day == UTC_DAY
