"""The templates API: list and preview with sample data, for ops roles only."""

from __future__ import annotations

from typing import Any

from tests.conftest import Harness


async def test_templates_list_and_preview(harness: Harness, pipeline: dict[str, Any]) -> None:
    client = pipeline["notifications"].client
    agent = harness.key("DISPUTEDESK_KEY_OPS_AGENT")
    r = await client.get("/v1/templates", headers=agent)
    assert r.status_code == 200, r.text
    names = {t["name"]: t for t in r.json()["items"]}
    assert set(names) == {
        "acknowledgement",
        "merge_acknowledgement",
        "duplicate_filing",
        "message_received",
        "appeal_late",
        "appeal_not_heard",
        "evidence_request",
        "evidence_reminder",
        "timeline_change",
        "payment_delayed",
        "decision",
        "settlement",
        "appeal_received",
        "escalation_update",
        "appeal_outcome",
        "policy_education",
        "feedback_outreach",
        "sla_breach_alert",
        "decision_overdue_alert",
        "approval_cap_alert",
        "fraud_alert",
        "task_opened",
        "management_escalation",
        "task_overdue_alert",
        "partner_statement",
    }
    assert names["fraud_alert"]["audience"] == "management"
    assert names["decision_overdue_alert"]["audience"] == "management"
    assert names["task_opened"]["audience"] == "team"
    assert names["partner_statement"]["audience"] == "partner"
    assert names["policy_education"]["essential"] is False

    r = await client.get("/v1/templates/decision/preview", headers=agent)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert "CASE-SAMPLE-1" in preview["subject"] and "₹1,23,456.00" in preview["subject"]
    assert "₹1,23,456.00" in preview["body_text"] and "₹1,23,456.00" in preview["body_html"]
    assert "appeal" in preview["body_text"].lower()

    r = await client.get("/v1/templates/feedback_outreach/preview", headers=agent)
    assert "&amp;" in r.json()["body_html"]  # the sample seller text is escaped in HTML

    r = await client.get("/v1/templates/nope/preview", headers=agent)
    # The catalogue is a fixed list (an enum in the document): another name is a bad parameter.
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["path.name"], r.text
    assert "acknowledgement" in r.json()["errors"][0]["message"], r.text
    assert (await client.get("/v1/templates")).status_code == 401
    r = await client.get("/v1/templates", headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL"))
    assert r.status_code == 403
