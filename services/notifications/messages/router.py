"""Messages by seller or case with their delivery attempts, and resend (ops roles)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from services.notifications.addresses import mask
from services.notifications.delivery.repository import suppressed_hashes
from services.notifications.messages import repository, service
from services.notifications.messages.schemas import (
    AttemptOut,
    MessageDetailOut,
    MessageListOut,
    MessageOut,
)
from services.notifications.models import DeliveryAttempt, Message
from shared import paging
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.idempotency import Change
from shared.paging import Cursor, Limit, link_next
from shared.problems import TYPE_BASE, Problem
from shared.service_route import ServiceRoute

router = APIRouter(route_class=ServiceRoute, tags=["messages"])
OPS = (Role.OPS_AGENT, Role.OPS_MANAGER)
IdPattern = r"^[A-Za-z0-9._:\-]+$"


def _out(message: Message, attempts: list[DeliveryAttempt], *, detail: bool = False) -> Any:
    values: dict[str, Any] = {
        "message_id": message.message_id,
        "template": message.template,
        "audience": message.audience,
        "case_id": message.case_id,
        "case_version": message.case_version,
        "return_id": message.return_id,
        "seller_id": message.seller_id,
        "recipient": mask(message.recipient),
        "subject": message.subject,
        "status": message.status,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at,
        "last_error": message.last_error,
        "resend_of": message.resend_of,
        "created_at": message.created_at,
        "sent_at": message.sent_at,
        "delivery_attempts": [
            AttemptOut(
                attempt=a.attempt,
                outcome=a.outcome,
                code=a.code,
                error=a.error,
                attempted_at=a.attempted_at,
                next_attempt_at=a.next_attempt_at,
            )
            for a in attempts
        ],
    }
    if detail:
        return MessageDetailOut(**values, body_text=message.body_text, body_html=message.body_html)
    return MessageOut(**values)


@router.get(
    "/v1/messages",
    response_model=MessageListOut,
    summary="Messages to a seller or about a case, newest first, with their attempts",
)
async def list_messages(
    request: Request,
    response: Response,
    session: DbSession,
    seller_id: Annotated[str | None, Query(max_length=64, pattern=IdPattern)] = None,
    case_id: Annotated[str | None, Query(max_length=64, pattern=IdPattern)] = None,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    principal: Principal = require(*OPS),
) -> MessageListOut:
    if seller_id is None and case_id is None:
        # The one refusal title and type of every invalid request (shared/problems.py).
        raise Problem(
            422,
            "Validation failed",
            "Invalid field(s): query.seller_id, query.case_id (filter by one of them).",
            type_=f"{TYPE_BASE}validation-failed",
            errors=[
                {"field": "query.seller_id", "message": "give seller_id or case_id"},
                {"field": "query.case_id", "message": "give seller_id or case_id"},
            ],
        )
    rows = await repository.search(
        session,
        seller_id=seller_id,
        case_id=case_id,
        limit=limit + 1,
        after=paging.decode_cursor(cursor, (datetime, UUID)) if cursor is not None else None,
    )
    messages, next_cursor = paging.page(rows, limit, lambda m: (m.created_at, m.message_id))
    attempts = await repository.attempts_of(session, [m.message_id for m in messages])
    link_next(request, response, next_cursor)
    return MessageListOut(
        items=[_out(m, attempts[m.message_id]) for m in messages], next=next_cursor
    )


@router.get(
    "/v1/messages/{message_id}",
    response_model=MessageDetailOut,
    summary="One message with its content and attempts",
)
async def get_message(
    message_id: UUID, session: DbSession, principal: Principal = require(*OPS)
) -> MessageDetailOut:
    message = await repository.get(session, message_id)
    if message is None:
        raise Problem(404, "Not found", f"No message {message_id}.")
    attempts = await repository.attempts_of(session, [message_id])
    return _out(message, attempts[message_id], detail=True)  # type: ignore[no-any-return]


@router.post(
    "/v1/messages/{message_id}/resend",
    response_model=MessageOut,
    status_code=status.HTTP_201_CREATED,
    summary="Send a message again as a new message linked to the original",
)
async def resend_message(
    message_id: UUID,
    change: Change,
    principal: Principal = require(*OPS),
) -> MessageOut | Response:
    async def run() -> MessageOut:
        original = await repository.get(change.session, message_id)
        if original is None:
            raise Problem(404, "Not found", f"No message {message_id}.")
        if await suppressed_hashes(change.session, {original.recipient_hash}):
            raise Problem(
                409,
                "Conflict",
                "The recipient is on the suppression list; remove the address from it first.",
                errors=[{"field": "path.message_id", "message": "its recipient is suppressed"}],
            )
        now = change.now()
        message = await service.resend(change.session, original=original, now=now)
        attempts = await repository.attempts_of(change.session, [message.message_id])
        return _out(message, attempts[message.message_id])  # type: ignore[no-any-return]

    return await change.once(run, status_code=status.HTTP_201_CREATED)
