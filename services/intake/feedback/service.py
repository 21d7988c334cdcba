"""Record seller feedback and emit `SellerFeedbackReceived` (keyed by seller)."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.answer_address import sealed_answer_address
from services.intake.feedback.schemas import FeedbackAccepted, FeedbackIn
from services.intake.history.service import SOURCE
from services.intake.models import Outbox, SellerFeedback
from services.intake.returns import repository as returns
from shared.auth import Principal, Role
from shared.events import SellerFeedbackReceived
from shared.outbox import enqueue
from shared.pii import ContactSealer
from shared.problems import Problem


async def receive_feedback(
    session: AsyncSession,
    *,
    data: FeedbackIn,
    principal: Principal,
    now: datetime,
    sealer: ContactSealer,
) -> FeedbackAccepted:
    # The marketplace relays feedback for any seller; a portal key only for its own.
    if not principal.has(Role.MARKETPLACE) and not principal.can_act_for_seller(data.seller_id):
        raise Problem(403, "Forbidden", "This key may not send feedback for that seller.")
    # Sealed for notifications, which writes back on a low rating; intake keeps no copy.
    seller_contact = sealed_answer_address(data.seller_email, sealer)
    if data.return_id is not None:
        # Feedback is about the seller's own return: one the feed gave another seller would
        # put this rating on that seller's return. An id not known yet is taken as sent.
        owner = (await returns.owners(session, [data.return_id])).get(data.return_id)
        if owner is not None and owner.seller_id != data.seller_id:
            raise Problem(
                422,
                "Validation failed",
                "That return is not one of this seller's returns.",
                errors=[{"field": "body.return_id", "message": "not a return of this seller"}],
            )
    feedback_id = f"FB-{uuid4().hex[:16].upper()}"
    session.add(
        SellerFeedback(
            feedback_id=feedback_id,
            seller_id=data.seller_id,
            rating=data.rating,
            text=data.text,
            return_id=data.return_id,
            submitted_by=principal.client_id,
            received_at=now,
        )
    )
    event = SellerFeedbackReceived(
        feedback_id=feedback_id,
        seller_id=data.seller_id,
        rating=data.rating,
        text=data.text,
        return_id=data.return_id,
        received_at=now,
        seller_contact=seller_contact,
    )
    envelope = enqueue(session, Outbox, event, source=SOURCE, subject=data.seller_id)
    return FeedbackAccepted(
        feedback_id=feedback_id,
        seller_id=data.seller_id,
        received_at=now,
        event_id=str(envelope.id),
    )
