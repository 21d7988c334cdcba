"""Inbound email (raw MIME from the operator's mail gateway), triage, and the desk's view of a
case's conversation with its seller (out and in, with delivery state)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import Response

from services.notifications.models import InboundEmail
from services.notifications.replies import repository, service
from services.notifications.replies.parsing import UnreadableEmail, looks_like_email
from services.notifications.replies.schemas import (
    ConversationEntry,
    ConversationOut,
    InboundOut,
    ReadOut,
    UnreadCase,
)
from shared import paging
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.idempotency import Change
from shared.openapi import problem_response_doc
from shared.paging import Cursor, Limit, PageOf, link_next
from shared.problems import Problem
from shared.service_route import ServiceRoute

router = APIRouter(route_class=ServiceRoute, tags=["replies"])
DESK = (Role.OPS_AGENT, Role.OPS_MANAGER)
CaseId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:\-]+$", max_length=64)]
MIME_TYPES = ("message/rfc822", "application/octet-stream")


def _out(row: InboundEmail) -> InboundOut:
    return InboundOut(
        reply_id=row.reply_id,
        kind=row.kind,
        status=row.status,
        token=row.token,
        case_id=row.case_id,
        candidate_case_id=row.candidate_case_id,
        confidence=row.confidence,
        match_reasons=row.match_reasons,
        subject=row.subject,
        text=row.body,
        attachments=row.attachments,
        received_at=row.received_at,
        read_at=row.read_at,
    )


@router.post(
    "/v1/inbound/email",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=InboundOut,
    responses={
        413: problem_response_doc("Message over the body limit"),
        415: problem_response_doc("Not sent as message/rfc822 or application/octet-stream"),
        422: problem_response_doc("An empty message, or not an email (no From or To)"),
    },
    # The body is the message itself, not JSON. Declared as octet-stream, which every client
    # and schema checker can send; `message/rfc822` is accepted alike.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"},
                    "example": (
                        "From: Asha Traders <asha@example.com>\r\n"
                        "To: reply+CASE-7F3A.k3j9x2m4q8w1c5v7@replies.disputedesk.dev\r\n"
                        "Subject: Re: Your claim CASE-7F3A\r\n"
                        "Message-ID: <a1b2c3@example.com>\r\n\r\n"
                        "The parcel weighed 900 g when it reached us; photos attached.\r\n"
                    ),
                }
            },
        }
    },
    summary="Hand over one received email as raw MIME (the operator's mail gateway)",
    description="Body: the message exactly as received (`Content-Type: message/rfc822`). A "
    "reply whose address carries a valid signed token goes on its case; any other reply waits "
    "in triage; auto-replies and delivery reports change nothing (a report of our own mail "
    "marks the address as failing). The same Message-ID twice is recorded once.",
)
async def inbound_email(
    request: Request, session: DbSession, principal: Principal = require(Role.ADMIN)
) -> InboundOut:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in MIME_TYPES:
        raise Problem(415, "Unsupported media type", "Send the raw message as message/rfc822.")
    raw = await request.body()
    if not raw.strip():
        raise Problem(
            422,
            "Unprocessable content",
            "The message is empty.",
            errors=[{"field": "body", "message": "empty"}],
        )
    try:
        mail = looks_like_email(raw)
    except UnreadableEmail as unreadable:
        raise Problem(
            422,
            "Unprocessable content",
            f"The message cannot be read: {unreadable}.",
            errors=[{"field": "body", "message": "not a readable email"}],
        ) from unreadable
    if not mail:
        raise Problem(
            422,
            "Unprocessable content",
            "The body is not an email: it has no From or To header.",
            errors=[{"field": "body", "message": "no From or To header"}],
        )
    runtime = request.app.state.runtime
    row = await service.receive(
        session, raw=raw, now=runtime.clock.now(), settings=runtime.settings
    )
    return _out(row)


class TriagePage(PageOf):
    """A page of replies waiting in triage, newest first (docs/api.md, "Paging")."""

    items: list[InboundOut]


class UnreadPage(PageOf):
    """A page of cases with unread seller replies (docs/api.md, "Paging")."""

    items: list[UnreadCase]


@router.get(
    "/v1/inbound/triage",
    response_model=TriagePage,
    summary="Replies no signed token tied to a case, newest first, with the best guess",
)
async def triage(
    request: Request,
    response: Response,
    session: DbSession,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    principal: Principal = require(*DESK),
) -> TriagePage:
    rows = await repository.triage(
        session,
        limit=limit,
        after=paging.decode_cursor(cursor, (datetime, UUID)) if cursor is not None else None,
    )
    replies, next_cursor = paging.page(rows, limit, lambda r: (r.received_at, r.reply_id))
    link_next(request, response, next_cursor)
    return TriagePage(items=[_out(r) for r in replies], next=next_cursor)


@router.get(
    "/v1/conversations/unread",
    response_model=UnreadPage,
    summary="Cases whose seller replied and nobody has read it yet, by latest reply, oldest first",
)
async def unread(
    request: Request,
    response: Response,
    session: DbSession,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    principal: Principal = require(*DESK),
) -> UnreadPage:
    rows = await repository.unread_by_case(
        session,
        limit=limit,
        after=paging.decode_cursor(cursor, (datetime, str)) if cursor is not None else None,
    )
    cases, next_cursor = paging.page(rows, limit, lambda r: (r[2], r[0]))
    link_next(request, response, next_cursor)
    return UnreadPage(
        items=[UnreadCase(case_id=c, unread_replies=n, latest_reply_at=at) for c, n, at in cases],
        next=next_cursor,
    )


@router.get(
    "/v1/cases/{case_id}/conversation",
    response_model=ConversationOut,
    summary="Every email to and from the case's seller, oldest first, with delivery state",
)
async def conversation(
    case_id: CaseId, session: DbSession, principal: Principal = require(*DESK)
) -> ConversationOut:
    out = [
        ConversationEntry(
            direction="out",
            # A scheduled message (the evidence reminder) sits at its planned time.
            at=m.sent_at or max(m.created_at, m.next_attempt_at),
            template=m.template,
            subject=m.subject,
            text=m.body_text,
            delivery=m.status,
            message_id=m.message_id,
            case_version=m.case_version,
        )
        for m in await repository.messages_of_case(session, case_id)
    ]
    replies = await repository.of_case(session, case_id)
    inbound = [
        ConversationEntry(
            direction="in",
            at=r.received_at,
            subject=r.subject,
            text=r.body,
            reply_id=r.reply_id,
            attachments=r.attachments,
            read=r.read_at is not None,
        )
        for r in replies
    ]
    if not out and not inbound:
        raise Problem(404, "Not found", f"No conversation for case {case_id}.")
    return ConversationOut(
        case_id=case_id,
        unread_replies=sum(1 for r in replies if r.read_at is None),
        entries=sorted(out + inbound, key=lambda e: e.at),
    )


@router.post(
    "/v1/cases/{case_id}/conversation/read",
    response_model=ReadOut,
    summary="Mark the seller's replies on this case as read by the caller",
)
async def mark_read(
    case_id: CaseId,
    change: Change,
    principal: Principal = require(*DESK),
) -> ReadOut | Response:
    async def run() -> ReadOut:
        if not await repository.has_conversation(change.session, case_id):
            # As the conversation's page answers: nothing to mark is not "0 marked".
            raise Problem(404, "Not found", f"No conversation for case {case_id}.")
        count = await service.mark_read(
            change.session,
            case_id=case_id,
            by=principal.client_id,
            now=change.now(),
        )
        return ReadOut(case_id=case_id, marked_read=count)

    return await change.once(run)


@router.get(
    "/v1/inbound/attachments/{attachment_id}",
    summary="An attachment a seller's reply brought as evidence",
    response_class=Response,
)
async def attachment(
    attachment_id: UUID, session: DbSession, principal: Principal = require(*DESK)
) -> Response:
    stored = await repository.attachment(session, attachment_id)
    if stored is None:
        raise Problem(404, "Not found", f"No attachment {attachment_id}.")
    return Response(
        content=stored.content,
        media_type=stored.content_type,
        headers={"X-Content-Type-Options": "nosniff", "Content-Disposition": "attachment"},
    )
