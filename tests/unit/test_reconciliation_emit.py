"""`emit` on a consumer batch's hot path: each case event is serialised once, and the timeline
keeps the same document the outbox publishes (less the sealed address)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.cases.timeline import SYSTEM, emit
from services.reconciliation.cases.transitions import Move
from services.reconciliation.facts.batch import BatchView
from services.reconciliation.models import Case
from shared.events import CaseOpened
from shared.unit_of_work import unit_of

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def _case() -> Case:
    return Case(
        case_id="CASE-EMIT-1",
        return_id="RET-EMIT-1",
        seller_id="S-EMIT",
        claim_type="DAMAGED",
        claimed_amount=1000,
        origin="SELLER",
        state="OPEN",
        version=0,
        seller_contact="sc1.test-key.c2VhbGVk",  # sealed form; reconciliation never opens it
        opened_at=NOW,
        updated_at=NOW,
        sla_used_s=0,
    )


def test_a_batch_serialises_each_case_event_once(monkeypatch: pytest.MonkeyPatch) -> None:
    dumps: list[dict[str, Any]] = []
    original = CaseOpened.model_dump

    def counted(self: CaseOpened, **kwargs: Any) -> dict[str, Any]:
        dumps.append(kwargs)
        return original(self, **kwargs)

    monkeypatch.setattr(CaseOpened, "model_dump", counted)
    session = AsyncSession()  # never touches a database: the batch's view buffers every row
    view = BatchView(return_ids={"RET-EMIT-1"})
    unit_of(session).put(view)

    case = _case()
    emit(
        session,
        case,
        CaseOpened,
        move=Move.OPEN,
        actor=SYSTEM,
        reason="Seller filed a claim.",
        now=NOW,
        expected_decision_by=NOW,
    )

    assert len(dumps) == 1
    published = view.outbox[0]["payload"]
    assert published["seller_contact"] == case.seller_contact
    kept = view.timeline[0]["data"]["event"]
    assert "seller_contact" not in kept
    assert kept == {k: v for k, v in published.items() if k != "seller_contact"}
