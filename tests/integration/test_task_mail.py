"""Cross-team task mail on the real stack: from reconciliation's HTTP API through the case
topic to the `.eml` files in the SMTP sink. A task opened for a team emails the team's
addresses (notifications settings, never the event); an escalation to management emails
management with the case report attached as an HTML page; each exactly once."""

from __future__ import annotations

import asyncio
import email
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from typing import Any

from services.notifications.settings import NotificationsSettings
from tests.conftest import Harness
from tests.integration.test_seller_directory import AGENT, _case, _feed, _in_both, _scan
from tests.support.waiting import eventually

SETTINGS = NotificationsSettings()


def _mails_to_case(harness: Harness, case_id: str, subject_part: str) -> list[EmailMessage]:
    found = []
    for path in sorted(harness.mail_dir.glob("*.eml")):
        mail = email.message_from_bytes(path.read_bytes(), policy=default)
        subject = str(mail["Subject"])
        if case_id in subject and subject_part in subject:
            assert isinstance(mail, EmailMessage)
            found.append(mail)
    return found


async def _wait_mails(
    harness: Harness, case_id: str, subject_part: str, count: int
) -> list[EmailMessage]:
    return await eventually(
        lambda: asyncio.to_thread(_mails_to_case, harness, case_id, subject_part),
        until=lambda found: len(found) >= count,
        timeout=60,
        what=f"{count} emails about {case_id} saying {subject_part!r}",
    )


async def _open_case(harness: Harness, pipeline: dict[str, Any]) -> dict[str, Any]:
    """A weight drop on delivery: the desk opens a case itself (P2)."""
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    rid = await _feed(harness, intake, "S-TASKMAIL-1", qc_required=False, item_value=90_000)
    delivered = datetime.now(UTC) - timedelta(days=1)
    await _scan(harness, intake, rid, "return.picked_up", delivered - timedelta(days=1), 1.2)
    await _scan(harness, intake, rid, "return.delivered", delivered, 0.9)
    return await _case(harness, recon, rid, lambda c: c["state"] == "AWAITING_EVIDENCE")


async def test_a_task_emails_its_team_once(harness: Harness, pipeline: dict[str, Any]) -> None:
    recon = pipeline["reconciliation"]
    case = await _open_case(harness, pipeline)
    cid = case["case_id"]
    r = await recon.client.post(
        f"/v1/cases/{cid}/tasks",
        json={
            "team": "finance",
            "ask": "Confirm the partner's debit note matches our ledger.",
            "owner": "priya",
            "blocks_settlement": True,
        },
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    task = r.json()

    [mail] = await _wait_mails(harness, cid, "Task for finance", 1)
    assert mail["To"] == SETTINGS.team_recipients["finance"][0] == "finance@disputedesk.dev"
    _in_both(
        mail,
        "debit note matches our ledger",
        task["task_id"],
        "settlement waits",
    )
    assert not list(mail.iter_attachments())
    await asyncio.sleep(2)  # whatever the dispatcher's rounds and redeliveries: once
    assert len(_mails_to_case(harness, cid, "Task for finance")) == 1


async def test_escalation_emails_management_with_the_case_report_attached(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    recon = pipeline["reconciliation"]
    case = await _open_case(harness, pipeline)
    cid = case["case_id"]
    r = await recon.client.post(
        f"/v1/cases/{cid}/escalate-to-management",
        json={"reason": "Third weight drop from this hub this week"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    task_id = r.json()["task_id"]

    mails = await _wait_mails(harness, cid, "Escalated to management", 1)
    assert sorted(str(m["To"]) for m in mails) == sorted(SETTINGS.management_recipients)
    mail = mails[0]
    _in_both(mail, "Third weight drop from this hub this week", task_id, "attached")
    [report] = list(mail.iter_attachments())
    assert report.get_content_type() == "text/html"
    assert report.get_filename() == f"case-{cid}-report.html"
    page = str(report.get_content())
    for heading in ("Facts", "Scans", "Fraud assessments", "Timeline", "Ledger", "Tasks"):
        assert f"<h2>{heading}</h2>" in page
    assert cid in page and "Third weight drop from this hub this week" in page
    # The management task itself is not mailed a second time as a plain task.
    await asyncio.sleep(2)
    assert len(_mails_to_case(harness, cid, "Escalated to management")) == len(mails)
    assert _mails_to_case(harness, cid, "Task for management") == []


async def test_an_issued_statement_is_emailed_to_the_partner_finance_contact(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    recon = pipeline["reconciliation"]
    finance = harness.key("DISPUTEDESK_KEY_FINANCE")
    this_month = datetime.now(UTC).strftime("%Y-%m")
    r = await recon.client.post(
        f"/v1/partner-statements/swiftship/{this_month}/issue", headers=finance
    )
    assert r.status_code == 409, r.text  # a month is issued once it is over
    # A kept stack may hold this month's email from an earlier run: count only new files.
    before = set(harness.mail_dir.glob("*.eml"))
    r = await recon.client.post("/v1/partner-statements/swiftship/2026-01/issue", headers=finance)
    assert r.status_code == 202, r.text
    issued = r.json()
    assert issued["partner_id"] == "swiftship" and "statement_csv" not in issued

    def statements() -> list[EmailMessage]:
        found = []
        for path in sorted(set(harness.mail_dir.glob("*.eml")) - before):
            mail = email.message_from_bytes(path.read_bytes(), policy=default)
            if "Debit statement 2026-01 for swiftship" in str(mail["Subject"]):
                assert isinstance(mail, EmailMessage)
                found.append(mail)
        return found

    [mail] = await eventually(
        lambda: asyncio.to_thread(statements), until=bool, timeout=60, what="statement email"
    )
    assert mail["To"] == SETTINGS.partner_finance_contacts["swiftship"][0]
    _in_both(mail, "Closing balance", "attached as CSV")
    [csv_part] = list(mail.iter_attachments())
    assert csv_part.get_content_type() == "text/csv"
    assert csv_part.get_filename() == "debit-statement-swiftship-2026-01.csv"
    assert str(csv_part.get_content()).startswith("partner,swiftship,month,2026-01")
    # Issued twice (a retry, a second click): the partner is emailed once.
    r = await recon.client.post("/v1/partner-statements/swiftship/2026-01/issue", headers=finance)
    assert r.status_code == 202, r.text
    await asyncio.sleep(3)
    assert len(statements()) == 1
