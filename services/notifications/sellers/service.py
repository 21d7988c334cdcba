"""The seller directory's rules: a PUT that changes something makes a new version and a history
row naming who changed which fields; a new address releases the seller's held messages.

Never commits: the request's session does (shared/db.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications import held_release as release
from services.notifications.addresses import address_hash
from services.notifications.metrics import SELLER_RELEASED
from services.notifications.models import SellerProfile, SellerProfileChange
from services.notifications.sellers import repository
from services.notifications.sellers.schemas import SellerProfileIn
from shared.unit_of_work import unit_of

log = logging.getLogger(__name__)
FIELDS = ("emails", "display_name", "language", "phone", "preferences")
# Preferences that switch off mail the desk does not owe the seller (schemas.py).
EDUCATION = "education_digest"
OUTREACH = "feedback_outreach"
CALL_SUMMARIES = "call_summaries"


@dataclass(frozen=True, slots=True)
class Saved:
    profile: SellerProfile
    created: bool
    changed: bool
    released: int


def _values(data: SellerProfileIn) -> dict[str, Any]:
    values = data.model_dump(mode="json")
    # Addresses compare case-insensitively; keep one of each, first one first.
    emails: list[str] = []
    for address in values["emails"]:
        if address.lower() not in {e.lower() for e in emails}:
            emails.append(address)
    values["emails"] = emails
    return values


def snapshot(profile: SellerProfile) -> dict[str, Any]:
    return {name: getattr(profile, name) for name in FIELDS}


async def save(
    session: AsyncSession,
    *,
    seller_id: str,
    data: SellerProfileIn,
    actor: str,
    now: datetime,
    hash_key: str,
) -> Saved:
    values = _values(data)
    await repository.lock_seller(session, seller_id, exclusive=True)
    profile = await repository.get(session, seller_id, lock=True)
    created = profile is None
    if profile is None:
        profile = SellerProfile(seller_id=seller_id, version=0, failing_emails=[], **values)
        changed_fields = [name for name in FIELDS if values[name] not in (None, [], {})]
        repository.add(session, profile)
    else:
        changed_fields = [name for name in FIELDS if getattr(profile, name) != values[name]]
        if not changed_fields:
            # The same profile again: no new version, nothing in the history.
            return Saved(profile, created=False, changed=False, released=0)
        for name in FIELDS:
            setattr(profile, name, values[name])
        # An address the marketplace dropped is no longer failing; one it kept still is.
        profile.failing_emails = [e for e in profile.failing_emails or [] if e in profile.emails]
    # A profile this transaction read earlier is no longer what the directory says.
    _directory(session).profiles.pop(seller_id, None)
    profile.version += 1
    profile.updated_by = actor
    profile.updated_at = now
    await session.flush()
    repository.add(
        session,
        SellerProfileChange(
            seller_id=seller_id,
            version=profile.version,
            changed_by=actor,
            changed_at=now,
            changed_fields=changed_fields,
            snapshot=snapshot(profile),
        ),
    )
    primary = profile.emails[0]
    held = await repository.held_messages(session, seller_id)
    # Each is checked again against the case as the seller's held messages tell it and the
    # clock: written days ago, it must say what is still true when it goes out.
    verdicts = release.plan(
        [
            release.Held(
                message_id=m.message_id,
                case_id=m.case_id,
                case_version=m.case_version,
                template=m.template,
                created_at=m.created_at,
                next_attempt_at=m.next_attempt_at,
                true_until=m.true_until,
                late=m.late,
            )
            for m in held
        ],
        now=now,
    )
    await repository.release(
        session,
        verdicts=verdicts,
        recipient=primary,
        recipient_hash=address_hash(primary, hash_key),
        late={m.message_id: m.late for m in held if m.late is not None},
    )
    released = sum(v.action in ("send", "send_late") for v in verdicts)
    withdrawn = len(verdicts) - released
    if withdrawn:
        log.info(
            "held seller messages not sent on release: superseded or past their deadline",
            extra={"seller_id": seller_id, "withdrawn": withdrawn},
        )
    if released:
        SELLER_RELEASED.inc(released)
        log.info(
            "held seller messages released by a directory update",
            extra={"seller_id": seller_id, "released": released},
        )
    return Saved(profile, created=created, changed=True, released=released)


@dataclass(slots=True)
class _Directory:
    """The profiles a transaction has read (None: no profile), and the sellers whose shared
    lock it holds. One consumer batch reads each seller once (`prefetch`), however many of its
    events are about the seller."""

    profiles: dict[str, repository.Contactable | None] = field(default_factory=dict)
    locked: set[str] = field(default_factory=set)


def _directory(session: AsyncSession) -> _Directory:
    return unit_of(session).get(_Directory)


async def prefetch(
    session: AsyncSession, *, seller_ids: Iterable[str], addresses_for: Iterable[str]
) -> None:
    """Read a batch's sellers' profiles in one statement; the sellers in `addresses_for`
    (whose events name no address of their own) are locked first, in one statement, as
    `primary_address` would lock each."""
    directory = _directory(session)
    to_lock = sorted(set(addresses_for) - directory.locked)
    await repository.lock_sellers(session, to_lock)
    directory.locked.update(to_lock)
    # Read after locking: what a directory update committed before the lock was granted shows.
    wanted = sorted((set(seller_ids) | set(to_lock)) - (directory.profiles.keys() - set(to_lock)))
    found = await repository.contactable(session, wanted)
    for seller_id in wanted:
        directory.profiles[seller_id] = found.get(seller_id)


async def _profile(
    session: AsyncSession, seller_id: str, *, locked: bool = False
) -> repository.Contactable | None:
    directory = _directory(session)
    if locked and seller_id not in directory.locked:
        await prefetch(session, seller_ids=(), addresses_for=(seller_id,))
    elif seller_id not in directory.profiles:
        await prefetch(session, seller_ids=(seller_id,), addresses_for=())
    return directory.profiles[seller_id]


async def primary_address(session: AsyncSession, seller_id: str) -> str | None:
    """Where the desk writes to this seller when a case names no reply address of its own.
    Read under the seller's shared lock (repository.lock_seller), as a None here holds
    the message until a directory update releases it."""
    profile = await _profile(session, seller_id, locked=True)
    if profile is None or not profile.emails:
        return None
    # A delivery report marked some addresses as failing: the first one still taking mail.
    working = [e for e in profile.emails if e not in profile.failing_emails]
    return (working or profile.emails)[0]


async def wants(session: AsyncSession, seller_id: str, preference: str) -> bool:
    """Whether the seller wants this optional mail: yes unless its profile says no."""
    profile = await _profile(session, seller_id)
    if profile is None:
        return True
    return bool(profile.preferences.get(preference, True))


async def asked_for(session: AsyncSession, seller_id: str, preference: str) -> bool:
    """Whether the seller asked for this extra: no unless its profile says yes."""
    profile = await _profile(session, seller_id)
    return profile is not None and bool(profile.preferences.get(preference, False))


async def language(session: AsyncSession, seller_id: str) -> str:
    """The language the seller reads (the directory's), English when unknown."""
    profile = await _profile(session, seller_id)
    return profile.language if profile is not None else "en"
