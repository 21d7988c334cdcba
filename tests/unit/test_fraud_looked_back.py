"""A late scan's pilferage tests run as of its journey's end (`AssessorBase.as_of`): they may
raise an alert but never clear one, since the entity's record after that end, on which an open
alert may rest, is not in them. `clear_alerts` skips the tests `as_of` marks `looked_back`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import uuid4

from services.fraud.scoring.base import AssessorBase, ScoringConfig
from services.fraud.settings import FraudSettings
from shared.events import ReturnShipmentEvent, ShipmentEventType

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_the_tests_run_as_of_an_earlier_time_are_looked_back_and_the_others_not() -> None:
    scan = ReturnShipmentEvent(
        event_id=uuid4(),
        partner_id="swiftship",
        partner_event_id="p-1",
        return_id="R-1",
        awb="A-1",
        event_type=ShipmentEventType.PICKED_UP,
        occurred_at=NOW,
        hub_id="H-1",
        agent_id="AG-1",
        weight_g=500,
        raw_ref="raw",
    )
    a = AssessorBase(cast(Any, None), scan, ScoringConfig.from_settings(FraudSettings()))
    a.sequential[("PILFERAGE", "agent", "AG-0")] = cast(Any, object())  # run at the event's time
    end = NOW - timedelta(days=5)
    with a.as_of(end):
        assert a.at == end
        a.sequential[("PILFERAGE", "hub", "H-1")] = cast(Any, object())
        a.sequential[("PILFERAGE", "agent", "AG-1")] = cast(Any, object())
    assert a.at == NOW and a.alert_at == NOW
    assert a.looked_back == {("PILFERAGE", "hub", "H-1"), ("PILFERAGE", "agent", "AG-1")}
