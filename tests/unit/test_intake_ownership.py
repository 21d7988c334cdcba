"""Which partner may report on a return, and the verdict a request is archived with."""

from __future__ import annotations

import pytest

from services.intake.partners.service import IngestResult, Refusal, refusal
from services.intake.returns.repository import Owner

OWNER = Owner(seller_id="S-1", partner_id="swiftship", awb="SS1")


@pytest.mark.parametrize(
    ("partner_id", "awb", "expected"),
    [
        ("swiftship", "SS1", None),
        ("desipost", "SS1", "partner_mismatch"),  # the right AWB from the wrong partner
        ("swiftship", "SS2", "awb_mismatch"),
        ("desipost", "DP9", "partner_mismatch"),  # the partner decides first
    ],
)
def test_refusal(partner_id: str, awb: str, expected: str | None) -> None:
    assert refusal(OWNER, partner_id=partner_id, awb=awb) == expected


FOREIGN = [Refusal("e1", "partner_mismatch")]


@pytest.mark.parametrize(
    ("result", "verdict"),
    [
        (IngestResult("r", 1, 0, []), "accepted"),
        (IngestResult("r", 0, 1, []), "duplicate"),
        (IngestResult("r", 0, 0, [], refused=FOREIGN), "foreign_shipment"),
        # Repeats inside the request of a foreign scan do not make it partly the partner's own.
        (IngestResult("r", 0, 1, [], refused=FOREIGN), "foreign_shipment"),
        (IngestResult("r", 1, 0, [], refused=FOREIGN), "partially_foreign"),
        (IngestResult("r", 0, 1, [], refused=FOREIGN, known=1), "partially_foreign"),
        (IngestResult("r", 0, 0, [], held=["e2"], refused=FOREIGN), "partially_foreign"),
        (IngestResult("r", 0, 0, [], held=["e2"]), "held"),
        (IngestResult("r", 1, 0, [], held=["e2"]), "partially_held"),
        (IngestResult("r", 1, 0, ["ODD"]), "partially_unmapped"),
    ],
)
def test_verdict(result: IngestResult, verdict: str) -> None:
    assert result.verdict == verdict
