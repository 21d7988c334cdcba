"""The reconciliation of a drill: what the drill got a 2xx for, against what each service
recorded. Each check is one function registered with `@check`; a check for a table another
part of the system has not built yet reports `n/a` until the table exists.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from disputedesk.drills.observe import ServiceDatabases, mail_message_ids
from disputedesk.drills.traffic import AcceptedLedger, RequestKind

MESSAGE_ID_DOMAIN = "disputedesk.dev"  # as services/notifications/channels/smtp.py writes it


class Verdict(enum.StrEnum):
    OK = "ok"
    LOST = "LOST"
    DUPLICATED = "DUPLICATED"
    MISMATCH = "MISMATCH"
    NOT_BUILT = "n/a"

    @property
    def fails(self) -> bool:
        return self in (Verdict.LOST, Verdict.DUPLICATED, Verdict.MISMATCH)


@dataclass
class CheckResult:
    name: str
    expected: int | None
    found: int | None
    verdict: Verdict
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["verdict"] = self.verdict.value
        return out


@dataclass
class DrillEvidence:
    """Everything the checks compare, gathered once after the pipeline drained."""

    ledger: AcceptedLedger
    dbs: ServiceDatabases
    run_prefix: str  # every return id of the run starts with it
    topic_ce_ids: Counter[str]  # ce_id -> messages on intake.returns.v1 for the run's returns
    mail_dir: Path
    facts: dict[str, Any] = field(default_factory=dict)  # shared between checks

    @property
    def like(self) -> str:
        return f"{self.run_prefix}%"


Check = Callable[[DrillEvidence], Awaitable[CheckResult]]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    """Register a check; they run in registration order (later ones may use earlier facts)."""
    CHECKS.append(fn)
    return fn


def count_verdict(expected: int, found: int) -> Verdict:
    if found < expected:
        return Verdict.LOST
    if found > expected:
        return Verdict.DUPLICATED
    return Verdict.OK


def _sample(items: set[Any], limit: int = 3) -> str:
    return ", ".join(sorted(str(i) for i in items)[:limit]) + (" …" if len(items) > limit else "")


def _set_verdict(expected: set[Any], found: set[Any], *, found_count: int) -> tuple[Verdict, str]:
    missing, extra = expected - found, found - expected
    notes = []
    if missing:
        notes.append(f"missing {len(missing)}: {_sample(missing)}")
    if extra:
        notes.append(f"unexpected {len(extra)}: {_sample(extra)}")
    if found_count > len(found):
        notes.append(f"{found_count - len(found)} duplicate rows")
    if missing:
        return Verdict.LOST, "; ".join(notes)
    if extra or found_count > len(found):
        return Verdict.DUPLICATED, "; ".join(notes)
    return Verdict.OK, ""


# ---------------------------------------------------------------------------------------------
# intake
# ---------------------------------------------------------------------------------------------


@check
async def returns_recorded_once(ev: DrillEvidence) -> CheckResult:
    expected = {d.key for d in ev.ledger.accepted(RequestKind.RETURN)}
    rows = await ev.dbs.rows(
        "intake", "SELECT return_id FROM returns WHERE return_id LIKE :p", p=ev.like
    )
    found = {r[0] for r in rows}
    verdict, detail = _set_verdict(expected, found, found_count=len(rows))
    return CheckResult(
        "intake: one return per accepted feed request", len(expected), len(rows), verdict, detail
    )


@check
async def webhooks_archived(ev: DrillEvidence) -> CheckResult:
    """Every 2xx is an archived request. A request cut off after its commit is archived too but
    never answered, so a webhook-id may have up to `unanswered` rows more than 2xx answers."""
    deliveries = ev.ledger.accepted(RequestKind.WEBHOOK)
    rows = await ev.dbs.rows(
        "intake",
        "SELECT headers->>'webhook-id', verdict FROM raw_requests "
        "WHERE partner_id = 'swiftship' AND headers->>'webhook-id' = ANY(:ids)",
        ids=[d.key for d in deliveries],
    )
    per_id = Counter(r[0] for r in rows)
    first_accepts = Counter(r[0] for r in rows if r[1] == "accepted")
    ev.facts["raw_first_accepts"] = first_accepts
    lost = {d.key for d in deliveries if per_id[d.key] < d.accepted}
    extra = {d.key for d in deliveries if per_id[d.key] > d.accepted + d.unanswered}
    expected = sum(d.accepted for d in deliveries)
    if lost:
        return CheckResult(
            "intake: every accepted webhook request archived",
            expected,
            len(rows),
            Verdict.LOST,
            f"fewer archive rows than 2xx for {_sample(lost)}",
        )
    if extra:
        return CheckResult(
            "intake: every accepted webhook request archived",
            expected,
            len(rows),
            Verdict.DUPLICATED,
            f"more archive rows than sends for {_sample(extra)}",
        )
    slack = len(rows) - expected
    detail = f"+{slack} archived but cut off before the 2xx" if slack else ""
    return CheckResult(
        "intake: every accepted webhook request archived", expected, len(rows), Verdict.OK, detail
    )


@check
async def one_canonical_event_per_partner_event(ev: DrillEvidence) -> CheckResult:
    expected = {d.key for d in ev.ledger.accepted(RequestKind.WEBHOOK)}
    rows = await ev.dbs.rows(
        "intake",
        "SELECT partner_event_id FROM shipment_events "
        "WHERE partner_id = 'swiftship' AND return_id LIKE :p",
        p=ev.like,
    )
    found = {r[0] for r in rows}
    verdict, detail = _set_verdict(expected, found, found_count=len(rows))
    first_accepts: Counter[str] = ev.facts.get("raw_first_accepts", Counter())
    twice = {key for key, n in first_accepts.items() if n > 1}
    if verdict is Verdict.OK and twice:
        verdict, detail = Verdict.DUPLICATED, f"archived as 'accepted' twice: {_sample(twice)}"
    return CheckResult(
        "intake: one canonical event per partner event", len(expected), len(rows), verdict, detail
    )


@check
async def one_escalation_per_idempotency_key(ev: DrillEvidence) -> CheckResult:
    deliveries = ev.ledger.accepted(RequestKind.ESCALATION)
    rows = await ev.dbs.rows(
        "intake", "SELECT escalation_id FROM escalations WHERE return_id LIKE :p", p=ev.like
    )
    found = {r[0] for r in rows}
    answered: set[Any] = set()
    inconsistent = set()
    for delivery in deliveries:
        ids = {a.get("escalation_id") for a in delivery.answers if isinstance(a, dict)}
        answered |= ids
        if len(ids) != 1:
            inconsistent.add(delivery.key)
    verdict, detail = _set_verdict(answered, found, found_count=len(rows))
    if inconsistent and verdict is Verdict.OK:
        verdict = Verdict.DUPLICATED
        detail = f"one key answered with different escalations: {_sample(inconsistent)}"
    return CheckResult(
        "intake: one escalation per Idempotency-Key", len(deliveries), len(rows), verdict, detail
    )


@check
async def intake_events_published(ev: DrillEvidence) -> CheckResult:
    """Each intake fact has one outbox row, and that ce_id reached the topic (repeats of the
    same ce_id are at-least-once delivery and allowed; consumers deduplicate them)."""
    ledger = ev.ledger
    expected = sum(len(ledger.accepted(kind)) for kind in RequestKind)
    rows = await ev.dbs.rows("intake", "SELECT ce_id FROM outbox WHERE key LIKE :p", p=ev.like)
    outbox_ids = {str(r[0]) for r in rows}
    ev.facts["intake_ce_ids"] = outbox_ids
    on_topic = set(ev.topic_ce_ids)
    total = sum(ev.topic_ce_ids.values())
    notes = [f"{total} messages on intake.returns.v1 ({total - len(on_topic)} repeats)"]
    if len(outbox_ids) != expected:
        verdict = count_verdict(expected, len(outbox_ids))
        notes.insert(0, f"{len(outbox_ids)} outbox rows for {expected} accepted requests")
    else:
        verdict, detail = _set_verdict(outbox_ids, on_topic, found_count=len(on_topic))
        if detail:
            notes.insert(0, detail)
    return CheckResult(
        "intake → topic: every event published (distinct ce_id)",
        expected,
        len(on_topic),
        verdict,
        "; ".join(notes),
    )


# ---------------------------------------------------------------------------------------------
# fraud, reconciliation, notifications
# ---------------------------------------------------------------------------------------------


@check
async def one_assessment_per_intake_event(ev: DrillEvidence) -> CheckResult:
    expected: set[str] = ev.facts.get("intake_ce_ids", set())
    # Each event's assessment at arrival; later revisions (an alert re-assessing the entity's
    # recent events) are further rows of the same event by design, not duplicates.
    rows = await ev.dbs.rows(
        "fraud",
        "SELECT subject_event_id FROM assessments WHERE return_id LIKE :p AND revision = 0",
        p=ev.like,
    )
    found = {str(r[0]) for r in rows}
    verdict, detail = _set_verdict(expected, found, found_count=len(rows))
    return CheckResult(
        "fraud: one assessment per intake event", len(expected), len(rows), verdict, detail
    )


@check
async def nothing_dead_lettered(ev: DrillEvidence) -> CheckResult:
    """A good event sent to a DLQ is an effect lost; the drill's events are all good."""
    ids = [UUID(i) for i in ev.facts.get("intake_ce_ids", set())]
    found = 0
    where = []
    for service in ("fraud", "reconciliation", "notifications"):
        n = int(
            await ev.dbs.scalar(
                service,
                "SELECT count(*) FROM inbox WHERE outcome = 'dead_lettered'"
                + (" AND ce_id = ANY(:ids)" if service == "fraud" else ""),
                **({"ids": ids} if service == "fraud" else {}),
            )
            or 0
        )
        if n:
            where.append(f"{service}: {n}")
        found += n
    return CheckResult(
        "consumers: no event dead-lettered",
        0,
        found,
        Verdict.OK if found == 0 else Verdict.LOST,
        ", ".join(where),
    )


@check
async def one_case_per_disputed_return(ev: DrillEvidence) -> CheckResult:
    expected = {d.return_id for d in ev.ledger.accepted(RequestKind.ESCALATION)}
    rows = await ev.dbs.rows(
        "reconciliation",
        "SELECT case_id, return_id FROM cases WHERE return_id LIKE :p",
        p=ev.like,
    )
    ev.facts["case_ids"] = {r[0] for r in rows}
    verdict, detail = _set_verdict(expected, {r[1] for r in rows}, found_count=len(rows))
    return CheckResult(
        "reconciliation: one case per disputed return", len(expected), len(rows), verdict, detail
    )


@check
async def one_message_per_case_template_version(ev: DrillEvidence) -> CheckResult:
    """Every drill case opens at version 1 with a seller address: one acknowledgement each."""
    case_ids: set[str] = ev.facts.get("case_ids", set())
    expected = {f"{case_id}:acknowledgement:1" for case_id in case_ids}
    rows = await ev.dbs.rows(
        "notifications",
        "SELECT message_id, case_id, template, case_version, status FROM messages "
        "WHERE return_id LIKE :p",
        p=ev.like,
    )
    found = {f"{r[1]}:{r[2]}:{r[3]}" for r in rows}
    ev.facts["messages"] = {str(r[0]): r[4] for r in rows}
    verdict, detail = _set_verdict(expected, found, found_count=len(rows))
    unsent = Counter(r[4] for r in rows if r[4] != "sent")
    if unsent and verdict is Verdict.OK:
        verdict = Verdict.LOST
        detail = "not sent: " + ", ".join(f"{n} {status}" for status, n in unsent.items())
    return CheckResult(
        "notifications: one message per (case, template, version)",
        len(expected),
        len(rows),
        verdict,
        detail,
    )


@check
async def one_email_per_message(ev: DrillEvidence) -> CheckResult:
    """Counted by Message-ID, which is fixed per message: a crash between the SMTP hand-off and
    the commit that marks it sent re-sends the same Message-ID (SMTP is at-least-once; mail
    servers drop the repeat), which is reported but is not a second email."""
    messages: dict[str, str] = ev.facts.get("messages", {})
    wanted = {f"<{message_id}@{MESSAGE_ID_DOMAIN}>": message_id for message_id in messages}
    files = mail_message_ids(ev.mail_dir, wanted)
    expected = set(wanted)
    verdict, detail = _set_verdict(expected, set(files), found_count=len(files))
    resent = sum(files.values()) - len(files)
    if resent:
        detail = "; ".join(filter(None, [detail, f"{resent} re-sent with the same Message-ID"]))
    return CheckResult(
        "mail sink: one email per message (by Message-ID)",
        len(expected),
        len(files),
        verdict,
        detail,
    )


# ---------------------------------------------------------------------------------------------
# decisions and the ledger
# ---------------------------------------------------------------------------------------------

DECISION_KINDS = ("CaseDecided", "CaseRejected")


@check
async def one_decision_per_case_version(ev: DrillEvidence) -> CheckResult:
    """A decision is a `CaseDecided`/`CaseRejected` transition: at most one per case version,
    in the timeline and among the published case events alike."""
    name = "reconciliation: one decision per case version"
    case_ids = list(ev.facts.get("case_ids", set()))
    distinct = await ev.dbs.scalar(
        "reconciliation",
        "SELECT count(*) FROM (SELECT DISTINCT case_id, case_version FROM case_timeline "
        "WHERE kind = ANY(:kinds) AND case_id = ANY(:ids)) d",
        kinds=list(DECISION_KINDS),
        ids=case_ids,
    )
    total = await ev.dbs.scalar(
        "reconciliation",
        "SELECT count(*) FROM case_timeline WHERE kind = ANY(:kinds) AND case_id = ANY(:ids)",
        kinds=list(DECISION_KINDS),
        ids=case_ids,
    )
    events = await ev.dbs.scalar(
        "reconciliation",
        "SELECT count(*) FROM outbox WHERE (ce_type LIKE '%case_decided%' "
        "OR ce_type LIKE '%case_rejected%') AND payload->>'case_id' = ANY(:ids)",
        ids=case_ids,
    )
    distinct, total, events = int(distinct or 0), int(total or 0), int(events or 0)
    verdict = count_verdict(distinct, total)
    detail = f"{events} decision events published"
    if verdict is Verdict.OK and events != total:
        verdict, detail = Verdict.MISMATCH, f"{total} decisions but {events} decision events"
    return CheckResult(name, distinct, total, verdict, detail)


@check
async def ledger_balances_and_matches_decisions(ev: DrillEvidence) -> CheckResult:
    """Every ledger transaction sums to zero, and each case's net seller_payable credit equals
    the payout of the decision in force."""
    name = "reconciliation: ledger balances and matches the decisions"
    unbalanced = int(
        await ev.dbs.scalar(
            "reconciliation",
            "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries "
            "GROUP BY transaction_id HAVING sum(amount) <> 0) t",
        )
        or 0
    )
    if unbalanced:
        return CheckResult(
            name, 0, unbalanced, Verdict.MISMATCH, f"{unbalanced} unbalanced transactions"
        )
    mismatched = int(
        await ev.dbs.scalar(
            "reconciliation",
            "SELECT count(*) FROM cases c LEFT JOIN (SELECT case_id, -sum(amount) AS paid "
            "FROM ledger_entries WHERE account_type = 'seller_payable' GROUP BY case_id) l "
            "ON l.case_id = c.case_id WHERE c.state = 'CLOSED' AND c.payout > 0 "
            "AND coalesce(l.paid, 0) <> c.payout",
        )
        or 0
    )
    paid = int(
        await ev.dbs.scalar(
            "reconciliation",
            "SELECT coalesce(-sum(amount), 0) FROM ledger_entries "
            "WHERE account_type = 'seller_payable'",
        )
        or 0
    )
    if mismatched:
        return CheckResult(
            name,
            0,
            mismatched,
            Verdict.MISMATCH,
            f"{mismatched} settled cases whose seller_payable postings differ from the payout",
        )
    return CheckResult(
        name, 0, 0, Verdict.OK, f"every transaction sums to zero; {paid} paise paid to sellers"
    )


async def run_checks(evidence: DrillEvidence) -> list[CheckResult]:
    results = []
    for fn in CHECKS:
        try:
            results.append(await fn(evidence))
        except Exception as error:  # noqa: BLE001 — a broken check shows as a failure, not a stop
            results.append(
                CheckResult(
                    fn.__name__,
                    None,
                    None,
                    Verdict.MISMATCH,
                    f"check failed: {type(error).__name__}: {error}",
                )
            )
    return results
