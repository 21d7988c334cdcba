"""The I/O half of the evidence reuse detector (`detectors.evidence_reuse`): earlier evidence
with the same or a near fingerprint, and the record of this claim's evidence."""

from __future__ import annotations

from typing import Any

from services.fraud.detectors import evidence_reuse
from services.fraud.features import repository as features
from services.fraud.models import ReturnFacts
from services.fraud.scoring.base import AssessorBase
from shared.events import EvidenceItem


class EvidenceInputs(AssessorBase):
    """Reads the evidence candidates for a claim's items and records the items."""

    async def evidence(
        self, facts: ReturnFacts, items: list[EvidenceItem], escalation_id: str | None
    ) -> None:
        if not items or not facts.seller_id:
            return
        prints = [
            evidence_reuse.EvidenceFingerprint(
                sha256=i.sha256,
                phash=int(i.perceptual_hash, 16) if i.perceptual_hash else None,
                return_id=facts.return_id,
                seller_id=facts.seller_id,
                order_id=facts.order_id,
            )
            for i in items
        ]
        rows = await features.evidence_candidates(
            self.session,
            shas=[p.sha256 for p in prints],
            phashes=[p.phash for p in prints if p.phash is not None],
        )

        def fingerprint(r: Any) -> evidence_reuse.EvidenceFingerprint:
            return evidence_reuse.EvidenceFingerprint(
                sha256=r.sha256,
                phash=features.from_signed64(r.phash) if r.phash is not None else None,
                return_id=r.return_id,
                seller_id=r.seller_id,
                order_id=r.order_id,
            )

        found = evidence_reuse.reuse_findings(
            seller_id=facts.seller_id,
            return_id=facts.return_id,
            items=prints,
            earlier=[fingerprint(r) for r in rows if r.filed_at <= self.at],
            max_distance=self.config.phash_max_distance,
        )
        # Evidence filed after this claim in event time, but assessed first (claims travel on
        # different partitions): that claim reused this one's evidence, not the reverse.
        for r in rows:
            if r.filed_at > self.at and r.escalation_id and r.return_id != facts.return_id:
                theirs = evidence_reuse.reuse_findings(
                    seller_id=r.seller_id,
                    return_id=r.return_id,
                    items=[fingerprint(r)],
                    earlier=prints,
                    max_distance=self.config.phash_max_distance,
                )
                self.late_reuses += [(r.escalation_id, f) for f in theirs]
        self.evaluated_entity("seller", facts.seller_id)
        self.evaluated[("seller", facts.seller_id)].extend(found)
        self.add(found, direct=True)
        await features.add_evidence(
            self.session,
            [
                {
                    "sha256": i.sha256,
                    "phash": features.to_signed64(p.phash) if p.phash else None,
                    **{
                        f"b{k}": ((p.phash >> (8 * k)) & 0xFF) if p.phash is not None else None
                        for k in range(8)
                    },
                    "kind": i.kind.value,
                    "seller_id": facts.seller_id,
                    "return_id": facts.return_id,
                    "order_id": facts.order_id,
                    "escalation_id": escalation_id or "",
                    "filed_at": self.at,
                }
                for i, p in zip(items, prints, strict=True)
            ],
        )
