"""Accept the marketplace feed: `ReturnInitiated` once per return, `RefundIssued` once per refund.

The feed may resend; the id of the return or refund is the redelivery guard. A resend must say
what the first said: the same id with other values is refused (409 naming the fields), never
answered as a duplicate while its values are dropped. A new return binds whatever was held for
it (escalations, partner scans), in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from asyncpg import Connection
from fastapi.encoders import jsonable_encoder
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.history import service as history
from services.intake.holds import service as holds
from services.intake.partners.directory import PartnerDirectory
from services.intake.returns import repository
from services.intake.returns.schemas import RefundAccepted, RefundIn, ReturnAccepted, ReturnIn
from shared.db import json_text
from shared.events import EventPayload, RefundIssued, ReturnInitiated
from shared.idempotency import KeyedRequest
from shared.outbox import note_enqueued
from shared.problems import Problem


def _refuse_changed_resend(what: str, stored: dict[str, Any], resent: EventPayload) -> None:
    """A resend under a recorded id must carry the recorded values: answering it as a duplicate
    would drop whatever it changed (a return's seller, partner or AWB decides who may claim on
    it and who may scan it). Instants compare as instants, whatever offset they are written in."""
    try:
        recorded = type(resent).model_validate(stored)
    except ValidationError:  # recorded under an older contract: nothing to compare it with
        return
    changed = [
        name
        for name in type(resent).model_fields
        if name != "type" and getattr(recorded, name) != getattr(resent, name)
    ]
    if changed:
        raise Problem(
            409,
            "Conflict",
            f"This {what} is already recorded with other values for "
            f"{', '.join(changed)}; a recorded {what} does not change.",
            errors=[
                {"field": f"body.{name}", "message": f"differs from the recorded {what}"}
                for name in changed
            ],
        )


async def refuse_misspelt_partner(
    directory: PartnerDirectory, connection: Connection, data: ReturnIn
) -> None:
    """A partner named in other letter case than the registry's (`SwiftShip`) is refused naming
    the field: recorded as sent, it was a partner nobody registered, whose scans never reach
    the return and whose liability falls under the unknown partner's cap. A partner the
    registry does not hold in any spelling is still taken (the SOP caps it as unknown)."""
    registered = await directory.spelled_otherwise(
        data.partner_id, lambda: repository.partner_ids(connection)
    )
    if registered is not None:
        raise Problem(
            422,
            "Validation failed",
            f"The partner is registered as {registered!r}; send its id as registered.",
            errors=[
                {
                    "field": "body.partner_id",
                    "message": f"names the registered partner {registered!r} in other letter case",
                }
            ],
        )


async def accept_return(session: AsyncSession, *, data: ReturnIn, now: datetime) -> ReturnAccepted:
    event = ReturnInitiated(**data.model_dump())
    owner = repository.Owner(data.seller_id, data.partner_id, data.awb)
    # Taken before the insert: an escalation or scan deciding to be held for this return either
    # commits first (and is bound below) or waits and then sees the return.
    await repository.lock_return_id(session, data.return_id)
    # The event's outbox row and history line as `history.record` writes them, stored with the
    # return in one statement.
    stored = await repository.store_new_return(
        session,
        owner=owner,
        return_id=data.return_id,
        recorded=history.recorded_columns(
            event, occurred_at=data.initiated_at, recorded_at=now, ce_id=uuid4()
        ),
    )
    if stored.ce_id is None:
        existing = await repository.get_return(session, data.return_id)
        if existing is not None:
            _refuse_changed_resend("return", existing.payload, event)
        return ReturnAccepted(
            return_id=data.return_id,
            event_id=str(existing.ce_id if existing else ""),
            duplicate=True,
        )
    note_enqueued(session)
    await holds.bind_return(
        session, return_id=data.return_id, owner=owner, now=now, anything_held=stored.anything_held
    )
    return ReturnAccepted(return_id=data.return_id, event_id=str(stored.ce_id), duplicate=False)


async def accept_new_return(
    connection: Connection,
    *,
    data: ReturnIn,
    now: datetime,
    keyed: KeyedRequest | None = None,
    answer_status: int = 202,
) -> ReturnAccepted | None:
    """The common feed entry, a new return nothing waits for, as one autocommitted call on
    asyncpg's `connection` (`repository.store_new_return_alone`): what `accept_return` writes
    for it, and with `keyed` what the key's claim and completion write (the answer stored with
    `answer_status`), without a transaction of the request's. None when it wrote nothing (the
    return is known, something is held for it, or the key was used before): then
    `accept_return` decides, in the transaction, after the key's claim."""
    event = ReturnInitiated(**data.model_dump())
    ce_id = uuid4()
    accepted = ReturnAccepted(return_id=data.return_id, event_id=str(ce_id), duplicate=False)
    stored = await repository.store_new_return_alone(
        connection,
        owner=repository.Owner(data.seller_id, data.partner_id, data.awb),
        return_id=data.return_id,
        recorded=history.recorded_columns(
            event, occurred_at=data.initiated_at, recorded_at=now, ce_id=ce_id
        ),
        keyed=keyed,
        answer=None if keyed is None else json_text(jsonable_encoder(accepted)),
        answer_status=answer_status,
    )
    return accepted if stored else None


async def accept_refund(session: AsyncSession, *, data: RefundIn, now: datetime) -> RefundAccepted:
    event = RefundIssued(**data.model_dump())
    # Stored with its event's outbox row and history line in one statement, as a return is.
    stored = await repository.store_new_refund(
        session,
        refund_id=data.refund_id,
        return_id=data.return_id,
        recorded=history.recorded_columns(
            event, occurred_at=data.issued_at, recorded_at=now, ce_id=uuid4()
        ),
    )
    if stored is None:
        existing = await repository.get_refund(session, data.refund_id)
        if existing is not None:
            _refuse_changed_resend("refund", existing.payload, event)
        return RefundAccepted(
            refund_id=data.refund_id,
            return_id=existing.return_id if existing else data.return_id,
            event_id=str(existing.ce_id if existing else ""),
            duplicate=True,
        )
    note_enqueued(session)
    return RefundAccepted(
        refund_id=data.refund_id, return_id=data.return_id, event_id=str(stored), duplicate=False
    )
