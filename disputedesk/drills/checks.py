"""The reconciliation of a drill: what the drill got a 2xx for, against what each service
recorded. Each check is one function registered with `@check`.

Every check must have something to count: a check whose expected count is zero proved nothing
(the traffic never reached what it verifies), and fails as NOT EXERCISED.
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
from disputedesk.drills.stories import Scenario
from disputedesk.drills.traffic import INTAKE_KINDS, AcceptedLedger, RequestKind

MESSAGE_ID_DOMAIN = "disputedesk.dev"  # as services/notifications/channels/smtp.py writes it


class Verdict(enum.StrEnum):
    OK = "ok"
    LOST = "LOST"
    DUPLICATED = "DUPLICATED"
    MISMATCH = "MISMATCH"
    NOT_EXERCISED = "NOT EXERCISED"
    NOT_BUILT = "n/a"

    @property
    def fails(self) -> bool:
        return self in (
            Verdict.LOST,
            Verdict.DUPLICATED,
            Verdict.MISMATCH,
            Verdict.NOT_EXERCISED,
        )


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
    """Every 2xx is an archived request, and a request is archived once: a partner's redelivery
    of the same request (its `webhook-id` and body), a client's retry or a replay after a
    crash finds the first copy and adds no row (`docs/input-validation.md`). A request cut off
    after its commit is archived too, though never answered."""
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
    name = "intake: every accepted webhook request archived once"
    lost = {d.key for d in deliveries if per_id[d.key] == 0}
    if lost:
        return CheckResult(
            name, len(deliveries), len(rows), Verdict.LOST, f"not archived: {_sample(lost)}"
        )
    twice = {key for key, n in per_id.items() if n > 1}
    if twice:
        return CheckResult(
            name,
            len(deliveries),
            len(rows),
            Verdict.DUPLICATED,
            f"archived more than once: {_sample(twice)}",
        )
    sends = sum(d.accepted for d in deliveries)
    detail = f"{sends} 2xx answers" if sends != len(deliveries) else ""
    return CheckResult(name, len(deliveries), len(rows), Verdict.OK, detail)


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
    expected = sum(len(ledger.accepted(kind)) for kind in INTAKE_KINDS)
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
    """Fraud scores every intake event and every decision the case engine publishes."""
    decisions = await ev.dbs.rows(
        "reconciliation",
        "SELECT ce_id FROM outbox WHERE (ce_type LIKE '%case_decided%' "
        "OR ce_type LIKE '%case_rejected%') AND key LIKE :p",
        p=ev.like,
    )
    decided = {str(r[0]) for r in decisions}
    expected: set[str] = ev.facts.get("intake_ce_ids", set()) | decided
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
        "fraud: one assessment per intake event and decision",
        len(expected),
        len(rows),
        verdict,
        "; ".join(filter(None, [detail, f"{len(decided)} of them decisions"])),
    )


@check
async def every_event_handled_none_dead_lettered(ev: DrillEvidence) -> CheckResult:
    """Each intake event of the run handled once by fraud, and no consumer sent anything to a
    DLQ (a good event dead-lettered is an effect lost; the drill's events are all good)."""
    name = "consumers: every event handled, none dead-lettered"
    ids = [UUID(i) for i in ev.facts.get("intake_ce_ids", set())]
    handled = int(
        await ev.dbs.scalar(
            "fraud",
            "SELECT count(*) FROM inbox WHERE outcome = 'handled' AND ce_id = ANY(:ids)",
            ids=ids,
        )
        or 0
    )
    where = []
    dead = 0
    for service in ("fraud", "reconciliation", "notifications"):
        n = int(
            await ev.dbs.scalar(
                service, "SELECT count(*) FROM inbox WHERE outcome = 'dead_lettered'"
            )
            or 0
        )
        if n:
            where.append(f"{service}: {n} dead-lettered")
        dead += n
    verdict = count_verdict(len(ids), handled)
    if dead:
        verdict = Verdict.LOST
    return CheckResult(name, len(ids), handled, verdict, ", ".join(where))


@check
async def one_case_per_disputed_return(ev: DrillEvidence) -> CheckResult:
    """A case for every return its seller disputed, and for every parcel its partner declared
    lost (the desk opens that one itself, P1)."""
    disputed = {d.return_id for d in ev.ledger.accepted(RequestKind.ESCALATION)}
    scanned = Counter(d.return_id for d in ev.ledger.accepted(RequestKind.WEBHOOK))
    lost = {
        rid
        for rid, script in ev.ledger.scripts.items()
        if script.scenario is Scenario.LOST and scanned[rid] == len(script.scans)
    }
    expected = disputed | lost
    rows = await ev.dbs.rows(
        "reconciliation",
        "SELECT case_id, return_id FROM cases WHERE return_id LIKE :p",
        p=ev.like,
    )
    ev.facts["case_ids"] = {r[0] for r in rows}
    ev.facts["case_returns"] = {r[0]: r[1] for r in rows}
    verdict, detail = _set_verdict(expected, {r[1] for r in rows}, found_count=len(rows))
    detail = "; ".join(
        filter(None, [f"{len(disputed)} disputed, {len(lost)} declared lost", detail])
    )
    return CheckResult(
        "reconciliation: one case per disputed or lost return",
        len(expected),
        len(rows),
        verdict,
        detail,
    )


@check
async def case_timelines(ev: DrillEvidence) -> CheckResult:
    """Reads every transition of the run's cases once (later checks use them): each case
    opened exactly once, at version 1, and its versions follow one another without a gap."""
    case_ids = list(ev.facts.get("case_ids", set()))
    rows = await ev.dbs.rows(
        "reconciliation",
        "SELECT case_id, case_version, kind, actor, data FROM case_timeline "
        "WHERE case_id = ANY(:ids) AND data -> 'event' IS NOT NULL ORDER BY id",
        ids=case_ids,
    )
    timeline = [TimelineRow(r[0], r[1], r[2], r[3], (r[4] or {}).get("event") or {}) for r in rows]
    ev.facts["timeline"] = timeline
    opened = Counter(t.case_id for t in timeline if t.kind == "CaseOpened")
    versions: dict[str, list[int]] = {}
    for t in timeline:
        versions.setdefault(t.case_id, []).append(t.case_version)
    gaps = {c for c, v in versions.items() if sorted(v) != list(range(1, len(v) + 1))}
    verdict, detail = _set_verdict(set(case_ids), set(opened), found_count=sum(opened.values()))
    if verdict is Verdict.OK and gaps:
        verdict, detail = Verdict.MISMATCH, f"versions out of sequence: {_sample(gaps)}"
    return CheckResult(
        "reconciliation: each case opened once, versions in sequence",
        len(case_ids),
        sum(opened.values()),
        verdict,
        detail or f"{len(timeline)} transitions",
    )


@check
async def one_message_per_case_template_version(ev: DrillEvidence) -> CheckResult:
    """Every case transition that owes the seller an email has exactly one message, sent; every
    proposal above the cap one alert per manager address."""
    timeline: list[TimelineRow] = ev.facts.get("timeline", [])
    with_email = {
        r[0]
        for r in await ev.dbs.rows(
            "reconciliation",
            "SELECT case_id FROM cases WHERE return_id LIKE :p AND seller_contact IS NOT NULL",
            p=ev.like,
        )
    }
    expected = expected_messages(timeline, with_email)
    # Held messages are owed to sellers nobody can write to yet (no reply address, not in the
    # seller directory: docs/seller-directory.md); they are not emails until an address comes.
    rows = await ev.dbs.rows(
        "notifications",
        "SELECT message_id, case_id, template, case_version, status, recipient_hash "
        "FROM messages WHERE return_id LIKE :p AND status <> 'held' "
        # An evidence reminder falls due a day before reply-by, days after a drill ends, and is
        # cancelled when the case moves on: its exactly-once is tested on its own
        # (tests/integration/test_seller_conversation.py), not counted here.
        "AND template <> 'evidence_reminder'",
        p=ev.like,
    )
    found = {f"{r[1]}:{r[2]}:{r[3]}" for r in rows}
    per_recipient = Counter((f"{r[1]}:{r[2]}:{r[3]}", r[5]) for r in rows)
    repeats = sum(n - 1 for n in per_recipient.values())
    ev.facts["messages"] = {str(r[0]): r[4] for r in rows}
    ev.facts["message_keys"] = {str(r[0]): f"{r[1]}:{r[2]}:{r[3]}" for r in rows}
    ev.facts["expected_messages"] = expected
    verdict, detail = _set_verdict(expected, found, found_count=len(found) + repeats)
    unsent = Counter(r[4] for r in rows if r[4] != "sent")
    if unsent and verdict is Verdict.OK:
        verdict = Verdict.LOST
        detail = "not sent: " + ", ".join(f"{n} {status}" for status, n in unsent.items())
    by_template = Counter(key.split(":")[1] for key in found)
    summary = ", ".join(f"{n} {t}" for t, n in sorted(by_template.items()))
    return CheckResult(
        "notifications: one message per (case, template, version)",
        len(expected),
        len(found) + repeats,
        verdict,
        "; ".join(filter(None, [detail, summary])),
    )


@check
async def one_email_per_message(ev: DrillEvidence) -> CheckResult:
    """Counted by Message-ID, which is fixed per message: a crash between the SMTP hand-off and
    the commit that marks it sent re-sends the same Message-ID (SMTP is at-least-once; mail
    servers drop the repeat), which is reported but is not a second email."""
    messages: dict[str, str] = ev.facts.get("messages", {})
    wanted = {f"<{message_id}@{MESSAGE_ID_DOMAIN}>": message_id for message_id in messages}
    files = mail_message_ids(ev.mail_dir, wanted)
    ev.facts["mail_files"] = Counter({wanted[mid]: n for mid, n in files.items()})
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


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One transition of a case, with the case event it published (`event`)."""

    case_id: str
    case_version: int
    kind: str
    actor: str
    event: dict[str, Any]

    @property
    def decision(self) -> dict[str, Any]:
        return self.event.get("decision") or {}

    @property
    def decides_appeal(self) -> bool:
        return self.kind in DECISION_KINDS and self.event.get("previous_state") == "APPEALED"


_STANDS = ("rule_id", "payout", "liable_party", "partner_debit", "buyer_receivable")


def upheld_appeals(timeline: list[TimelineRow]) -> set[tuple[str, int]]:
    """(case, version) of appeal decisions that let the earlier decision stand: same rule,
    same money, so nothing new is posted."""
    previous: dict[str, dict[str, Any]] = {}
    out = set()
    for t in timeline:
        if t.kind not in DECISION_KINDS:
            continue
        before = previous.get(t.case_id)
        if t.decides_appeal and before is not None:
            if all(before.get(k) == t.decision.get(k) for k in _STANDS):
                out.add((t.case_id, t.case_version))
        previous[t.case_id] = t.decision
    return out


# The seller emails each transition calls for (notifications' contract, restated so the drill
# can tell a missing email from one that was never owed).
SELLER_TEMPLATES = {
    "CaseOpened": "acknowledgement",
    "EvidenceRequested": "evidence_request",
    "CaseEscalated": "escalation_update",
}
DECISION_TEMPLATES = ("decision", "appeal_outcome")


def _review_told(t: TimelineRow) -> bool:
    """A review the seller is told of (docs/seller-conversation.md, "timeline change"): every
    move into review, straight after opening too (whether it comes then or after a wait is the
    timing of its facts), but not a review that goes on."""
    return t.event.get("previous_state") not in (None, "UNDER_REVIEW")


def expected_messages(timeline: list[TimelineRow], with_email: set[str]) -> set[str]:
    """`case:template:version` of every message the transitions owe."""
    out = set()
    for t in timeline:
        if t.kind == "CaseEscalated" and t.event.get("escalation_reason") == "ABOVE_APPROVAL_CAP":
            out.add(f"{t.case_id}:approval_cap_alert:{t.case_version}")
        if t.case_id not in with_email:
            continue
        if t.kind in SELLER_TEMPLATES:
            out.add(f"{t.case_id}:{SELLER_TEMPLATES[t.kind]}:{t.case_version}")
        elif t.kind == "CaseAppealed":
            out.add(f"{t.case_id}:appeal_received:{t.case_version}")
        elif t.kind == "CaseSettled" and t.event.get("ledger_transaction_id"):
            # Told when money moved to the seller; a rejection is said by the decision alone.
            if int(t.decision.get("payout") or 0) > 0:
                out.add(f"{t.case_id}:settlement:{t.case_version}")
        elif t.kind == "CaseUnderReview" and _review_told(t):
            out.add(f"{t.case_id}:timeline_change:{t.case_version}")
        elif t.kind in DECISION_KINDS:
            appeal = t.event.get("previous_state") == "APPEALED"
            template = "appeal_outcome" if appeal else "decision"
            out.add(f"{t.case_id}:{template}:{t.case_version}")
    return out


@check
async def every_decision_email_sent_once(ev: DrillEvidence) -> CheckResult:
    """Every decision (appeal outcomes too) the seller is owed an email for: one message, one
    email in the sink by its Message-ID."""
    expected = {
        key
        for key in ev.facts.get("expected_messages", set())
        if key.split(":")[1] in DECISION_TEMPLATES
    }
    keys: dict[str, str] = ev.facts.get("message_keys", {})
    files: Counter[str] = ev.facts.get("mail_files", Counter())
    sent = Counter(key for message_id, key in keys.items() if files[message_id])
    found = {key for key in sent if key.split(":")[1] in DECISION_TEMPLATES}
    verdict, detail = _set_verdict(
        expected, found, found_count=sum(n for k, n in sent.items() if k in found)
    )
    return CheckResult(
        "mail sink: every decision email sent exactly once",
        len(expected),
        sum(n for k, n in sent.items() if k in found),
        verdict,
        detail,
    )


@check
async def every_case_decided_by_its_rule(ev: DrillEvidence) -> CheckResult:
    """Every case reached a decision, and the first one rests on the rule its story calls for
    (a case that waits for facts, or ends on another rule, lost part of its story)."""
    name = "reconciliation: every case decided, by the rule its story calls for"
    returns: dict[str, str] = ev.facts.get("case_returns", {})
    timeline: list[TimelineRow] = ev.facts.get("timeline", [])
    first: dict[str, str] = {}
    for t in timeline:
        if t.kind in DECISION_KINDS and t.case_id not in first:
            first[t.case_id] = str(t.decision.get("rule_id"))
    states = dict(
        (r[0], r[1])
        for r in await ev.dbs.rows(
            "reconciliation",
            "SELECT case_id, state FROM cases WHERE return_id LIKE :p",
            p=ev.like,
        )
    )
    undecided = {
        c for c in returns if c not in first or states.get(c) not in ("CLOSED", "REJECTED")
    }
    wrong = set()
    for case_id, rule in first.items():
        script = ev.ledger.scripts.get(returns.get(case_id, ""))
        if script is not None and rule != script.intent.rule_id:
            wrong.add(f"{returns[case_id]} {script.scenario.value}: {rule}")
    found = len(returns) - len(undecided) - len(wrong)
    rules = Counter(first.values())
    detail = "by rule: " + ", ".join(f"{r} {n}" for r, n in sorted(rules.items()))
    verdict = Verdict.OK
    if undecided:
        verdict = Verdict.LOST
        left = Counter(states.get(c, "?") for c in undecided)
        detail = "undecided: " + ", ".join(f"{n} {s}" for s, n in left.items()) + "; " + detail
    elif wrong:
        verdict = Verdict.MISMATCH
        detail = f"other rule than the story's: {_sample(wrong)}; " + detail
    return CheckResult(name, len(returns), found, verdict, detail)


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


async def _transactions(ev: DrillEvidence) -> list[Any]:
    if "transactions" not in ev.facts:
        ev.facts["transactions"] = await ev.dbs.rows(
            "reconciliation",
            "SELECT t.transaction_id, t.case_id, t.kind, t.reverses, sum(e.amount), "
            "coalesce(sum(e.amount) FILTER (WHERE e.amount > 0), 0), "
            "coalesce(-sum(e.amount) FILTER (WHERE e.amount < 0), 0), "
            "coalesce(-sum(e.amount) FILTER (WHERE e.account_type = 'seller_payable'), 0), "
            "coalesce(sum(e.amount) FILTER (WHERE e.account_type = 'partner_receivable'), 0) "
            "FROM ledger_transactions t JOIN ledger_entries e USING (transaction_id) "
            "WHERE t.case_id = ANY(:ids) GROUP BY 1, 2, 3, 4",
            ids=list(ev.facts.get("case_ids", set())),
        )
    return list(ev.facts["transactions"])


@check
async def ledger_balances(ev: DrillEvidence) -> CheckResult:
    """Double entry: in every transaction of the run's cases, debits equal credits."""
    name = "ledger: every transaction balances (debits = credits)"
    transactions = await _transactions(ev)
    unbalanced = {str(t[0]) for t in transactions if t[4] != 0}
    debits, credits = sum(int(t[5]) for t in transactions), sum(int(t[6]) for t in transactions)
    detail = f"{debits} paise debited, {credits} credited"
    kinds = Counter(t[2] for t in transactions)
    detail += " in " + ", ".join(f"{n} {k.lower()}s" for k, n in sorted(kinds.items()))
    verdict = Verdict.OK
    if unbalanced or debits != credits:
        verdict, detail = Verdict.MISMATCH, f"unbalanced: {_sample(unbalanced)}; {detail}"
    return CheckResult(
        name, len(transactions), len(transactions) - len(unbalanced), verdict, detail
    )


@check
async def every_payout_has_a_decision(ev: DrillEvidence) -> CheckResult:
    """Each settlement pays exactly what a decision says, each paying decision has one, each
    reversal undoes a settlement of its own case, and each case's net payout is the payout of
    the decision in force."""
    name = "ledger: every payout has a decision, every paying decision one payout"
    timeline: list[TimelineRow] = ev.facts.get("timeline", [])
    transactions = await _transactions(ev)
    settlements = {str(t[0]): t for t in transactions if t[2] == "SETTLEMENT"}
    upheld = {(case_id, version + 1) for case_id, version in upheld_appeals(timeline)}
    owed: dict[str, int] = {}  # transaction id -> payout of its decision
    unposted = set()
    for t in timeline:
        if t.kind != "CaseSettled" or (t.case_id, t.case_version) in upheld:
            continue
        payout = int(t.decision.get("payout") or 0)
        if payout <= 0:
            continue
        tx = t.event.get("ledger_transaction_id")
        if tx is None:
            unposted.add(f"{t.case_id} v{t.case_version}")
        else:
            owed[str(tx)] = payout
    verdict, detail = _set_verdict(set(owed), set(settlements), found_count=len(settlements))
    wrong = {
        tx for tx, payout in owed.items() if tx in settlements and settlements[tx][7] != payout
    }
    by_id = {str(t[0]): t for t in transactions}
    orphans = {
        str(t[0])
        for t in transactions
        if t[2] == "REVERSAL" and (str(t[3]) not in by_id or by_id[str(t[3])][1] != t[1])
    }
    net = await ev.dbs.scalar(
        "reconciliation",
        "SELECT count(*) FROM cases c LEFT JOIN (SELECT case_id, -sum(amount) AS paid "
        "FROM ledger_entries WHERE account_type = 'seller_payable' GROUP BY case_id) l "
        "ON l.case_id = c.case_id WHERE c.return_id LIKE :p AND c.state = 'CLOSED' "
        "AND coalesce(l.paid, 0) <> c.payout",
        p=ev.like,
    )
    problems = []
    if unposted:
        problems.append(f"decisions that paid nothing into the ledger: {_sample(unposted)}")
    if wrong:
        problems.append(f"settlements that differ from their decision: {_sample(wrong)}")
    if orphans:
        problems.append(f"reversals of no settlement of their case: {_sample(orphans)}")
    if net:
        problems.append(f"{net} closed cases whose net payout differs from the decision's")
    if problems and verdict is Verdict.OK:
        verdict = Verdict.LOST if unposted else Verdict.MISMATCH
    paid = sum(int(t[7]) for t in transactions)
    detail = "; ".join(filter(None, [*problems, detail, f"{paid} paise paid to sellers, net"]))
    return CheckResult(name, len(owed) + len(unposted), len(settlements), verdict, detail)


@check
async def partner_debits_match_decisions(ev: DrillEvidence) -> CheckResult:
    """The partner owes, net, what the decision in force holds it liable for."""
    name = "ledger: partner debits match the decisions"
    rows = await ev.dbs.rows(
        "reconciliation",
        "SELECT c.case_id, (c.decision->>'partner_debit')::bigint, coalesce(l.owed, 0) "
        "FROM cases c LEFT JOIN (SELECT case_id, sum(amount) AS owed FROM ledger_entries "
        "WHERE account_type = 'partner_receivable' GROUP BY case_id) l ON l.case_id = c.case_id "
        "WHERE c.return_id LIKE :p AND c.state = 'CLOSED'",
        p=ev.like,
    )
    expected = {r[0] for r in rows if (r[1] or 0) > 0}
    found = {r[0] for r in rows if r[2] > 0 and r[2] == (r[1] or 0)}
    verdict, detail = _set_verdict(expected, found, found_count=len(found))
    total = sum(int(r[2]) for r in rows)
    return CheckResult(
        name,
        len(expected),
        len(found),
        verdict,
        "; ".join(filter(None, [detail, f"{total} paise owed by partners"])),
    )


@check
async def proposals_approved_with_four_eyes(ev: DrillEvidence) -> CheckResult:
    """Every payout proposed above the approval cap approved once, by an ops manager who did
    not propose it."""
    name = "desk: every proposal above the cap approved once, four eyes"
    timeline: list[TimelineRow] = ev.facts.get("timeline", [])
    proposers: dict[str, str] = {}
    for t in timeline:
        if t.kind == "CaseEscalated" and t.event.get("escalation_reason") == "ABOVE_APPROVAL_CAP":
            proposers[t.case_id] = t.actor
    approvals = [
        t
        for t in timeline
        if t.kind == "CaseDecided" and t.event.get("previous_state") == "ESCALATED"
    ]
    approved = Counter(t.case_id for t in approvals)
    verdict, detail = _set_verdict(set(proposers), set(approved), found_count=len(approvals))
    same = {t.case_id for t in approvals if t.actor == proposers.get(t.case_id)}
    if same and verdict is Verdict.OK:
        verdict, detail = Verdict.MISMATCH, f"approved by the proposer: {_sample(same)}"
    accepted = len(ev.ledger.accepted(RequestKind.APPROVAL))
    by = Counter(f"{proposers.get(t.case_id)} → {t.actor}" for t in approvals)
    summary = ", ".join(f"{n} {pair}" for pair, n in sorted(by.items()))
    return CheckResult(
        name,
        len(proposers),
        len(approvals),
        verdict,
        "; ".join(filter(None, [detail, summary, f"{accepted} approval requests accepted"])),
    )


@check
async def appeals_reach_the_case_and_a_decision(ev: DrillEvidence) -> CheckResult:
    """Every appeal intake accepted reopened its case once and was decided once, by a manager
    other than the original decider."""
    name = "appeals: each accepted appeal reopens its case once and is decided once"
    expected = {d.return_id for d in ev.ledger.accepted(RequestKind.APPEAL)}
    returns: dict[str, str] = ev.facts.get("case_returns", {})
    timeline: list[TimelineRow] = ev.facts.get("timeline", [])
    appealed = Counter(returns[t.case_id] for t in timeline if t.kind == "CaseAppealed")
    decided = [
        t
        for t in timeline
        if t.kind in DECISION_KINDS and t.event.get("previous_state") == "APPEALED"
    ]
    verdict, detail = _set_verdict(expected, set(appealed), found_count=sum(appealed.values()))
    decided_returns = Counter(returns[t.case_id] for t in decided)
    if verdict is Verdict.OK:
        verdict, detail = _set_verdict(
            expected, set(decided_returns), found_count=sum(decided_returns.values())
        )
    deciders: dict[str, str] = {}
    self_judged = set()
    for t in timeline:
        if t.kind in DECISION_KINDS and t.event.get("previous_state") != "APPEALED":
            deciders[t.case_id] = t.actor
        elif t.kind in DECISION_KINDS and deciders.get(t.case_id) == t.actor:
            self_judged.add(t.case_id)
    if self_judged and verdict is Verdict.OK:
        verdict, detail = (
            Verdict.MISMATCH,
            f"decided by the original decider: {_sample(self_judged)}",
        )
    upheld = len(upheld_appeals(timeline))
    summary = f"{len(decided) - upheld} overturned, {upheld} upheld"
    return CheckResult(
        name,
        len(expected),
        sum(appealed.values()),
        verdict,
        "; ".join(filter(None, [detail, summary])),
    )


async def money_path_figures(ev: DrillEvidence) -> dict[str, int]:
    """The headline numbers of the run's money path, for the summary table."""
    timeline: list[TimelineRow] = ev.facts.get("timeline", [])
    transactions = await _transactions(ev) if ev.facts.get("case_ids") else []
    decisions = [t for t in timeline if t.kind in DECISION_KINDS]
    keys: dict[str, str] = ev.facts.get("message_keys", {})
    files: Counter[str] = ev.facts.get("mail_files", Counter())
    return {
        "stories": ev.ledger.stories,
        "cases": len(ev.facts.get("case_ids", set())),
        "decisions": len(decisions),
        "decided by the SOP": sum(1 for t in decisions if t.actor == "system"),
        "rejections": sum(1 for t in decisions if t.kind == "CaseRejected"),
        "paise paid to sellers": sum(int(t[7]) for t in transactions),
        "partner debits": sum(1 for t in transactions if t[2] == "SETTLEMENT" and t[8] > 0),
        "paise owed by partners": sum(int(t[8]) for t in transactions),
        "ledger transactions": len(transactions),
        "proposals above the cap": sum(
            1
            for t in timeline
            if t.kind == "CaseEscalated"
            and t.event.get("escalation_reason") == "ABOVE_APPROVAL_CAP"
        ),
        "approvals": sum(
            1
            for t in timeline
            if t.kind == "CaseDecided" and t.event.get("previous_state") == "ESCALATED"
        ),
        "appeals": sum(1 for t in timeline if t.kind == "CaseAppealed"),
        "appeal decisions": sum(1 for t in decisions if t.decides_appeal),
        "appeals upheld": len(upheld_appeals(timeline)),
        "decision emails": sum(
            1 for mid, key in keys.items() if files[mid] and key.split(":")[1] in DECISION_TEMPLATES
        ),
        "emails": sum(1 for mid in keys if files[mid]),
    }


def require_exercise(result: CheckResult) -> CheckResult:
    """A passing check with nothing to count proved nothing: NOT EXERCISED, which fails."""
    if not result.verdict.fails and not result.expected:
        result.verdict = Verdict.NOT_EXERCISED
        result.detail = "; ".join(
            filter(None, ["the drill's traffic never reached what this verifies", result.detail])
        )
    return result


async def run_checks(evidence: DrillEvidence) -> list[CheckResult]:
    results = []
    for fn in CHECKS:
        try:
            results.append(require_exercise(await fn(evidence)))
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
