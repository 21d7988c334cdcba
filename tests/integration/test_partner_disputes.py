"""The partner dispute loop on the real stack: a debit notice for every partner debit, delivered
to a local HTTP receiver that checks each partner's own signature scheme (with intake's own
verifiers), retried after a 500, parked while the endpoint is disabled; contests upheld,
reversed and partial with the ledger balanced after each; the window expiring; statements."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import text

from services.intake.partners.adapter import AuthenticationFailed, PartnerCredential
from services.intake.partners.desipost import DesipostAdapter
from services.intake.partners.rapidroute import RapidRouteAdapter
from services.intake.partners.swiftship import SwiftshipAdapter
from services.reconciliation.disputes.delivery import owe_unsent_rulings
from shared.auth import hash_key
from shared.envelope import Envelope
from shared.wakeups import NOTICES_CHANNEL
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.keys import add_key
from tests.support.reconciliation import (
    T0,
    Engine,
    appeal,
    assessed,
    engine,
    escalation,
    return_initiated,
    scan,
)
from tests.support.waiting import eventually

ADMIN = "DISPUTEDESK_KEY_ADMIN"
AGENT = "DISPUTEDESK_KEY_OPS_AGENT"
MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"
FINANCE = "DISPUTEDESK_KEY_FINANCE"
SWIFTSHIP = "DISPUTEDESK_KEY_PARTNER_SWIFTSHIP"
RAPIDROUTE = "DISPUTEDESK_KEY_PARTNER_RAPIDROUTE"

SECRETS = {
    "swiftship": "whsec_" + base64.b64encode(b"notice-test-secret-32-bytes-long").decode(),
    "rapidroute": "rr_notice_test_secret_0001",
    "desipost": "dp_notice_test_api_key_0001",
}
SCHEMES = {
    "swiftship": "standard_webhooks",
    "rapidroute": "timestamped_hmac",
    "desipost": "api_key",
}
ADAPTERS = {
    "swiftship": SwiftshipAdapter(),
    "rapidroute": RapidRouteAdapter(),
    "desipost": DesipostAdapter(),
}


@dataclass
class Receiver:
    """A partner's webhook server: records every request, answers from a script per path."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)

    def of(self, partner: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == f"/{partner}"]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    box = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            box.requests.append({"path": self.path, "headers": headers, "body": body})
            statuses = box.script.get(self.path) or []
            status = statuses.pop(0) if statuses else 200
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()


@pytest.fixture(scope="module")
async def disputes(harness: Harness, receiver: Receiver) -> AsyncIterator[Engine]:
    async with engine(
        harness, "disputes", notice_poll_interval_s=0.1, notice_backoff_base_s=600
    ) as eng:
        for partner in SECRETS:
            r = await eng.client.put(
                f"/v1/partner-endpoints/{partner}",
                json={
                    "url": f"{receiver.url}/{partner}",
                    "scheme": SCHEMES[partner],
                    "secret": SECRETS[partner],
                    "finance_contact": f"finance@{partner}.example",
                },
                headers=harness.key(ADMIN),
            )
            assert r.status_code == 200, r.text
        yield eng


async def partner_debit_case(eng: Engine, partner: str, amount: int = 100_000) -> dict[str, Any]:
    """A wrong item although the partner's QC passed at pickup: the partner is liable."""
    case, _ = await partner_debit_filing(eng, partner, amount)
    return case


async def partner_debit_filing(
    eng: Engine, partner: str, amount: int = 100_000
) -> tuple[dict[str, Any], Envelope]:
    """The settled case of `partner_debit_case` and the seller's filing (to appeal it)."""
    rid = uid(f"RET-DEBIT-{partner[:4].upper()}")
    filed = eng.envelope(escalation(rid, claim="WRONG_ITEM", amount=amount))
    pickup = T0
    await eng.send(
        filed,
        return_initiated(rid, partner=partner, item_value=amount, qc_required=True),
        scan(rid, "QC_PASSED", pickup - timedelta(minutes=10), weight=1000, partner=partner),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000, partner=partner),
        scan(rid, "PICKED_UP", pickup, weight=1000, partner=partner),
    )
    await eventually(
        lambda: eng.sql("SELECT count(*) AS n FROM shipment_events WHERE return_id = :r", r=rid),
        until=lambda rows: rows[0]["n"] == 3,
        what="scans stored",
    )
    await eng.send(assessed(filed, "LOW"))
    case = await eng.wait_case(rid, lambda c: c["state"] == "CLOSED", what=f"{rid} settled")
    assert case["decision"]["partner_debit"] == amount, case["decision"]
    return case, filed


async def notice_of(eng: Engine, case_id: str, until: Any = None) -> dict[str, Any]:
    rows = await eventually(
        lambda: eng.sql("SELECT * FROM debit_notices WHERE case_id = :c", c=case_id),
        until=lambda rows: bool(rows) and (until is None or until(rows[0])),
        what=f"notice of {case_id}",
    )
    return dict(rows[0])


async def ledger_balanced(eng: Engine) -> None:
    rows = await eng.sql(
        "SELECT transaction_id, sum(amount) AS total FROM ledger_entries GROUP BY transaction_id"
    )
    assert rows and all(r["total"] == 0 for r in rows)


async def account(eng: Engine, case_id: str, prefix: str) -> int:
    rows = await eng.sql(
        "SELECT coalesce(sum(amount), 0) AS total FROM ledger_entries WHERE case_id = :c "
        "AND account LIKE :p",
        c=case_id,
        p=prefix + "%",
    )
    return int(rows[0]["total"])


async def test_a_new_notice_wakes_the_delivery_loop(disputes: Engine) -> None:
    """The delivery loop sleeps until the next attempt or window end; a new notice is due at
    once, and the `debit_notices` table's NOTIFY tells every replica's loop."""
    wakeups = disputes.app.state.runtime.wakeups
    await asyncio.wait_for(wakeups.connected.wait(), 30)
    woken = wakeups.event(NOTICES_CHANNEL)
    case = await partner_debit_case(disputes, "swiftship")
    await notice_of(disputes, case["case_id"])
    await asyncio.wait_for(woken.wait(), 30)


async def test_notices_are_signed_per_partner_and_retried_after_a_500(
    disputes: Engine, receiver: Receiver, harness: Harness
) -> None:
    eng = disputes
    receiver.script["/rapidroute"] = [500]
    cases = {p: await partner_debit_case(eng, p) for p in SECRETS}

    for partner in ("swiftship", "desipost"):
        notice = await notice_of(
            eng, cases[partner]["case_id"], lambda n: n["delivery"] == "DELIVERED"
        )
        assert notice["attempts"] == 1
        (request,) = [
            r
            for r in receiver.of(partner)
            if json.loads(r["body"])["case_id"] == cases[partner]["case_id"]
        ]
        credential = PartnerCredential(SECRETS[partner], hash_key(SECRETS[partner]), None)
        ADAPTERS[partner].authenticate(
            headers=request["headers"],
            body=request["body"],
            credentials=[credential],
            now=eng.clock.now(),
            tolerance_s=300,
        )
        # A wrong secret does not verify: the check above is a real one.
        with pytest.raises(AuthenticationFailed):
            ADAPTERS[partner].authenticate(
                headers=request["headers"],
                body=request["body"],
                credentials=[PartnerCredential(SECRETS["rapidroute"] + "x", hash_key("x"), None)],
                now=eng.clock.now(),
                tolerance_s=300,
            )
        body = json.loads(request["body"])
        assert body["amount"] == 100_000 and body["rule"]["rule_id"] == notice["rule_id"]
        assert {s["type"] for s in body["facts"]["scans"]} >= {"PICKED_UP", "QC_PASSED"}
        assert body["facts"]["qc_result"] == "PASSED"
        assert all(len(e["sha256"]) == 64 for e in body["facts"]["evidence"])

    # rapidroute answered 500 first: attempt recorded, retried after the backoff, then signed.
    rr_case = cases["rapidroute"]["case_id"]
    first = await notice_of(eng, rr_case, lambda n: n["attempts"] == 1)
    assert first["delivery"] == "PENDING" and first["next_attempt_at"] > eng.clock.now()
    eng.clock.advance(timedelta(seconds=601))
    delivered = await notice_of(eng, rr_case, lambda n: n["delivery"] == "DELIVERED")
    r = await eng.client.get(
        f"/v1/partner-notices/{delivered['notice_id']}", headers=harness.key(AGENT)
    )
    assert [a["status_code"] for a in r.json()["attempts_log"]] == [500, 200]
    last = [r for r in receiver.of("rapidroute") if json.loads(r["body"])["case_id"] == rr_case][-1]
    ADAPTERS["rapidroute"].authenticate(
        headers=last["headers"],
        body=last["body"],
        credentials=[PartnerCredential(SECRETS["rapidroute"], None, None)],
        now=eng.clock.now(),
        tolerance_s=300,
    )


async def test_disabling_an_endpoint_parks_notices_until_enabled(
    disputes: Engine, receiver: Receiver, harness: Harness
) -> None:
    eng, admin = disputes, harness.key(ADMIN)
    r = await eng.client.post(
        "/v1/partner-endpoints/desipost/enabled", json={"enabled": False}, headers=admin
    )
    assert r.status_code == 200 and r.json()["enabled"] is False
    case = await partner_debit_case(eng, "desipost")
    parked = await notice_of(eng, case["case_id"], lambda n: n["delivery"] == "PARKED")
    assert parked["attempts"] == 0
    assert not [
        r for r in receiver.of("desipost") if json.loads(r["body"])["case_id"] == case["case_id"]
    ]
    r = await eng.client.post(
        "/v1/partner-endpoints/desipost/enabled", json={"enabled": True}, headers=admin
    )
    assert r.status_code == 200
    await notice_of(eng, case["case_id"], lambda n: n["delivery"] == "DELIVERED")


WITHDRAWN_TYPE = "partner.debit_notice_withdrawn.v1"
OVERTURN = {
    "overturn": True,
    "liable_party": "MARKETPLACE",
    "payout_pct": 100,
    "reason": "The warehouse mixed up the items",
}


async def _overturn(eng: Engine, harness: Harness, case_id: str) -> None:
    r = await eng.client.post(
        f"/v1/cases/{case_id}/appeal-decision", json=OVERTURN, headers=harness.key(MANAGER)
    )
    assert r.status_code == 200, r.text


async def test_an_overturn_stops_the_notice_and_tells_the_partner_it_is_withdrawn(
    disputes: Engine, receiver: Receiver, harness: Harness
) -> None:
    """The seller's appeal overturns a decision that debited the partner. The partner is sent a
    withdrawal, signed as its notices are and under a message id of its own, whether its notice
    had reached it (swiftship), was still waiting for a retry (rapidroute: never sent after the
    overturn, however long the clock runs) or had become final (desipost: window over before the
    appeal was decided). Before, the waiting notice was still delivered and no one was told."""
    eng = disputes
    receiver.script["/rapidroute"] = [500]
    final_case, final_filing = await partner_debit_filing(eng, "desipost")
    await notice_of(eng, final_case["case_id"], lambda n: n["delivery"] == "DELIVERED")
    # The appeal filed on the window's last day, decided after the notice became final.
    eng.clock.advance(timedelta(days=6, hours=23))
    await eng.send(appeal(final_filing.payload, eng.clock.now()))
    await eng.wait_case(final_filing.payload.return_id, lambda c: c["state"] == "APPEALED")
    eng.clock.advance(timedelta(hours=2))
    await notice_of(eng, final_case["case_id"], lambda n: n["dispute"] == "FINAL")
    eng.clock.advance(timedelta(minutes=5))  # the overturn comes later than the notice's end
    delivered_case, delivered_filing = await partner_debit_filing(eng, "swiftship")
    waiting_case, waiting_filing = await partner_debit_filing(eng, "rapidroute")
    await notice_of(eng, delivered_case["case_id"], lambda n: n["delivery"] == "DELIVERED")
    waiting = await notice_of(eng, waiting_case["case_id"], lambda n: n["attempts"] == 1)
    assert waiting["delivery"] == "PENDING", waiting  # the 500; next try after the backoff
    for filing in (delivered_filing, waiting_filing):
        await eng.send(appeal(filing.payload, eng.clock.now()))
        await eng.wait_case(filing.payload.return_id, lambda c: c["state"] == "APPEALED")
    for case in (final_case, delivered_case, waiting_case):
        await _overturn(eng, harness, case["case_id"])
    told = {
        partner: await notice_of(
            eng,
            case["case_id"],
            lambda n: n["dispute"] == "WITHDRAWN" and n["delivery"] == "DELIVERED",
        )
        for partner, case in (
            ("desipost", final_case),
            ("swiftship", delivered_case),
            ("rapidroute", waiting_case),
        )
    }
    # Long past the waiting notice's backoff: it is not sent after its withdrawal.
    eng.clock.advance(timedelta(seconds=601))
    await asyncio.sleep(1.0)
    for partner, notice in told.items():
        sent = [
            r
            for r in receiver.of(partner)
            if json.loads(r["body"])["notice_id"] == str(notice["notice_id"])
        ]
        kinds = [json.loads(r["body"])["type"] for r in sent]
        # The notice once (rapidroute's answered 500), then its withdrawal once.
        assert kinds == ["partner.debit_notice.v1", WITHDRAWN_TYPE], (partner, kinds)
        withdrawal = json.loads(sent[-1]["body"])
        assert withdrawal["amount"] == 100_000 and withdrawal["case_id"] == notice["case_id"]
        ADAPTERS[partner].authenticate(
            headers=sent[-1]["headers"],
            body=sent[-1]["body"],
            credentials=[PartnerCredential(SECRETS[partner], hash_key(SECRETS[partner]), None)],
            now=eng.clock.now(),
            tolerance_s=900,
        )
        if partner == "swiftship":
            assert sent[0]["headers"]["webhook-id"] != sent[-1]["headers"]["webhook-id"]
    r = await eng.client.get(
        f"/v1/partner/notices/{told['rapidroute']['notice_id']}", headers=harness.key(RAPIDROUTE)
    )
    assert r.status_code == 200 and r.json()["dispute"] == "WITHDRAWN", r.text
    # The notice that had become final keeps when it did; the withdrawal has its own time,
    # the one the partner was sent (the withdrawal wrote over `final_at` before).
    final = told["desipost"]
    [withdrawal] = [
        body
        for body in (json.loads(r["body"]) for r in receiver.of("desipost"))
        if body["type"] == WITHDRAWN_TYPE and body["notice_id"] == str(final["notice_id"])
    ]
    withdrawn_at = datetime.fromisoformat(withdrawal["withdrawn_at"])
    assert final["final_at"] < withdrawn_at, (final, withdrawal)
    assert final["withdrawn_at"] == withdrawn_at, final


async def test_contests_upheld_reversed_partial_window_and_statement(
    disputes: Engine, harness: Harness
) -> None:
    eng = disputes
    swift, rapid = harness.key(SWIFTSHIP), harness.key(RAPIDROUTE)
    manager, agent = harness.key(MANAGER), harness.key(AGENT)
    cases = [await partner_debit_case(eng, "swiftship", amount=100_000) for _ in range(4)]
    notices = [
        await notice_of(eng, c["case_id"], lambda n: n["delivery"] == "DELIVERED") for c in cases
    ]
    ids = [str(n["notice_id"]) for n in notices]
    contest = {
        "reason": "Our hub weighed and photographed the item at pickup",
        "evidence": [{"uri": "https://swiftship.example/p/1", "sha256": "ab" * 32}],
    }

    # A partner sees and contests only its own notices.
    r = await eng.client.get("/v1/partner/notices", headers=swift)
    assert set(ids) <= {n["notice_id"] for n in r.json()["items"]}
    assert all(n["partner_id"] == "swiftship" for n in r.json()["items"])
    r = await eng.client.get(f"/v1/partner/notices/{ids[0]}", headers=rapid)
    assert r.status_code == 404
    r = await eng.client.post(f"/v1/partner/notices/{ids[0]}/contest", json=contest, headers=rapid)
    assert r.status_code == 404
    r = await eng.client.get("/v1/partner/notices", headers=agent)
    assert r.status_code == 403

    for notice_id in ids[:3]:
        r = await eng.client.post(
            f"/v1/partner/notices/{notice_id}/contest", json=contest, headers=swift
        )
        assert r.status_code == 201, r.text
    r = await eng.client.post(f"/v1/partner/notices/{ids[0]}/contest", json=contest, headers=swift)
    assert r.status_code == 409
    # Each contest opened a review task for logistics partner ops on its case.
    r = await eng.client.get(f"/v1/cases/{cases[0]['case_id']}/tasks", headers=agent)
    (review,) = [t for t in r.json()["items"] if t["team"] == "logistics_partner_ops"]
    assert review["status"] == "OPEN" and ids[0] in review["ask"]

    seller_before = [await account(eng, c["case_id"], "seller_payable") for c in cases]
    ruling = {"outcome": "UPHELD", "reason": "The scans show the QC passed"}
    r = await eng.client.post(f"/v1/partner-notices/{ids[0]}/ruling", json=ruling, headers=agent)
    assert r.status_code == 403
    r = await eng.client.post(f"/v1/partner-notices/{ids[0]}/ruling", json=ruling, headers=manager)
    assert r.status_code == 200 and r.json()["reversal_id"] is None
    assert await account(eng, cases[0]["case_id"], "partner_receivable") == 100_000
    r = await eng.client.get(f"/v1/cases/{cases[0]['case_id']}/tasks", headers=agent)
    assert [t["status"] for t in r.json()["items"] if t["team"] == "logistics_partner_ops"] == [
        "DONE"
    ]
    await ledger_balanced(eng)

    ruling = {"outcome": "REVERSED", "reason": "Their pickup photo shows the right item"}
    r = await eng.client.post(f"/v1/partner-notices/{ids[1]}/ruling", json=ruling, headers=manager)
    assert r.status_code == 200 and r.json()["reversed_amount"] == 100_000
    assert await account(eng, cases[1]["case_id"], "partner_receivable") == 0
    assert await account(eng, cases[1]["case_id"], "marketplace_cost") == 100_000
    await ledger_balanced(eng)

    ruling = {"outcome": "PARTIAL", "reversed_amount": 150_000, "reason": "Shared"}
    r = await eng.client.post(f"/v1/partner-notices/{ids[2]}/ruling", json=ruling, headers=manager)
    assert r.status_code == 422
    ruling["reversed_amount"] = 40_000
    r = await eng.client.post(f"/v1/partner-notices/{ids[2]}/ruling", json=ruling, headers=manager)
    assert r.status_code == 200, r.text
    assert await account(eng, cases[2]["case_id"], "partner_receivable") == 60_000
    assert await account(eng, cases[2]["case_id"], "marketplace_cost") == 40_000
    await ledger_balanced(eng)
    # The seller's payout never changes.
    assert [await account(eng, c["case_id"], "seller_payable") for c in cases] == seller_before

    # The fourth is not contested: final once its window (7 days from delivery) has passed.
    eng.clock.advance(timedelta(days=7, minutes=1))
    final = await notice_of(eng, cases[3]["case_id"], lambda n: n["dispute"] == "FINAL")
    assert final["final_at"] is not None
    r = await eng.client.post(f"/v1/partner/notices/{ids[3]}/contest", json=contest, headers=swift)
    assert r.status_code == 409

    # The month's statement, through the partner's own key, in all three formats.
    month = notices[0]["created_at"].strftime("%Y-%m")
    r = await eng.client.get(f"/v1/partner/statements/{month}", headers=swift)
    assert r.status_code == 200, r.text
    statement = r.json()
    assert statement["partner_id"] == "swiftship"
    assert statement["closing_balance"] == (
        statement["opening_balance"] + statement["debits"] - statement["reversals"]
    )
    assert statement["reversals"] >= 140_000 and statement["contests"]["filed"] >= 3
    mine = {line["case_id"] for line in statement["lines"]}
    assert {c["case_id"] for c in cases} <= mine
    r = await eng.client.get(
        f"/v1/partner/statements/{month}", params={"format": "csv"}, headers=swift
    )
    assert r.status_code == 200 and "closing balance" in r.text
    r = await eng.client.get(
        f"/v1/partner/statements/{month}", params={"format": "xlsx"}, headers=swift
    )
    assert r.status_code == 200
    assert "xl/worksheets/sheet1.xml" in zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    # Nothing the partner reads names an id of our ledger or the person who ruled: a reversal
    # id on the contest and the transaction ids (and descriptions naming others) on the
    # statement's lines were shown before.
    said = [statement, r.content.decode("latin-1")]
    book = zipfile.ZipFile(io.BytesIO(r.content))
    said += [book.read(name).decode() for name in book.namelist() if name.endswith(".xml")]
    r = await eng.client.get(
        f"/v1/partner/statements/{month}", params={"format": "csv"}, headers=swift
    )
    said.append(r.text)
    r = await eng.client.get("/v1/partner/notices", headers=swift)
    said.append(r.json())
    for notice_id in ids:
        r = await eng.client.get(f"/v1/partner/notices/{notice_id}", headers=swift)
        assert r.status_code == 200, r.text
        said.append(r.json())
        contest_seen = r.json()["contest"]
        if contest_seen is not None:
            assert not {"reversal_id", "decided_by"} & set(contest_seen), contest_seen
    ledger_ids = {
        str(row["transaction_id"])
        for row in await eng.sql("SELECT transaction_id FROM ledger_transactions")
    }
    text = json.dumps(said)
    assert not {i for i in ledger_ids if i in text}, "a ledger id reached the partner"
    manager_id = (
        await eng.sql("SELECT decided_by FROM notice_contests WHERE decided_by IS NOT NULL LIMIT 1")
    )[0]["decided_by"]
    assert manager_id not in text
    r = await eng.client.get(f"/v1/partner/statements/{month}", headers=rapid)
    assert r.json()["partner_id"] == "rapidroute"
    assert not {line["case_id"] for line in r.json()["lines"]} & mine

    # The desk's views of a partner name one it knows; an id that names no partner is 404 on
    # each, not a statement of zeros (and nothing is issued for it).
    finance = harness.key(FINANCE)
    r = await eng.client.get(f"/v1/partner-statements/swiftship/{month}", headers=finance)
    assert r.status_code == 200 and mine <= {line["case_id"] for line in r.json()["lines"]}
    nobody = uid("nobody").lower()
    period = {"period_start": "2026-01-01T00:00:00Z", "period_end": "2026-02-01T00:00:00Z"}
    for method, path, params in (
        ("GET", f"/v1/partner-statements/{nobody}/{month}", {}),
        ("POST", f"/v1/partner-statements/{nobody}/2026-01/issue", {}),
        ("GET", f"/v1/ledger/partners/{nobody}/statement", period),
    ):
        r = await eng.client.request(method, path, params=params, headers=finance)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["detail"] == f"No partner {nobody}.", r.text
    r = await eng.client.get(
        "/v1/ledger/partners/swiftship/statement", params=period, headers=finance
    )
    assert r.status_code == 200, r.text
    # A partner the desk issued a key to is known before any case names it: zeros, not 404.
    keyed = uid("keyed").lower()
    add_key(harness.env, f"partner:{keyed}", ["partner"], partner_id=keyed)
    r = await eng.client.get(f"/v1/partner-statements/{keyed}/{month}", headers=finance)
    assert r.status_code == 200 and r.json()["lines"] == [], r.text


RULED_TYPE = "partner.debit_notice_ruled.v1"


async def test_a_ruling_is_sent_to_the_partner_signed_under_a_message_id_of_its_own(
    disputes: Engine, receiver: Receiver, harness: Harness
) -> None:
    """A partner that contests learns the ruling the way it got the notice: pushed to its
    endpoint, signed with its own scheme, under a message id other than the notice's. A notice
    still waiting for a retry when it is ruled (rapidroute, contested before it arrived) is not
    sent after the ruling: the ruling names it. Before, the partner was told nothing and had to
    poll its notices to find the outcome."""
    eng, manager = disputes, harness.key(MANAGER)
    receiver.script["/rapidroute"] = [500]
    cases = {p: await partner_debit_case(eng, p) for p in SECRETS}
    notices = {
        "swiftship": await notice_of(
            eng, cases["swiftship"]["case_id"], lambda n: n["delivery"] == "DELIVERED"
        ),
        "desipost": await notice_of(
            eng, cases["desipost"]["case_id"], lambda n: n["delivery"] == "DELIVERED"
        ),
        "rapidroute": await notice_of(
            eng, cases["rapidroute"]["case_id"], lambda n: n["attempts"] == 1
        ),
    }
    assert notices["rapidroute"]["delivery"] == "PENDING"  # the 500; next try in 600 s
    keys = {
        "swiftship": harness.key(SWIFTSHIP),
        "rapidroute": harness.key(RAPIDROUTE),
        "desipost": add_key(
            harness.env, uid("partner:desipost"), ["partner"], partner_id="desipost"
        ),
    }
    contest = {"reason": "Our hub weighed the parcel", "evidence": []}
    rulings = {
        "swiftship": {"outcome": "UPHELD", "reason": "The QC scan stands"},
        "rapidroute": {"outcome": "REVERSED", "reason": "Your pickup photo shows the item"},
        "desipost": {"outcome": "PARTIAL", "reversed_amount": 30_000, "reason": "Shared"},
    }
    # An amount beside a whole outcome is refused, naming it: REVERSED with an amount took the
    # whole debit off before, UPHELD with one dropped it.
    for outcome in ("REVERSED", "UPHELD"):
        r = await eng.client.post(
            f"/v1/partner-notices/{notices['swiftship']['notice_id']}/ruling",
            json={"outcome": outcome, "reversed_amount": 30_000, "reason": "Half of it"},
            headers=manager,
        )
        assert r.status_code == 422, (outcome, r.text)
        assert [e["field"] for e in r.json()["errors"]] == ["body.reversed_amount"], r.text
    for partner, notice in notices.items():
        r = await eng.client.post(
            f"/v1/partner/notices/{notice['notice_id']}/contest",
            json=contest,
            headers=keys[partner],
        )
        assert r.status_code == 201, r.text
        r = await eng.client.post(
            f"/v1/partner-notices/{notice['notice_id']}/ruling",
            json=rulings[partner],
            headers=manager,
        )
        assert r.status_code == 200, r.text
    eng.clock.advance(timedelta(seconds=601))  # past rapidroute's backoff
    for partner, notice in notices.items():
        ruled = await notice_of(
            eng,
            notice["case_id"],
            lambda n: n["dispute"] != "CONTESTED" and n["delivery"] == "DELIVERED",
        )
        # The ruling's delivery leaves the notice's own delivery time and window alone.
        assert ruled["delivered_at"] == notice["delivered_at"], (partner, ruled)
        assert ruled["contest_by"] == notice["contest_by"], (partner, ruled)
        sent = [
            r
            for r in receiver.of(partner)
            if json.loads(r["body"])["notice_id"] == str(notice["notice_id"])
        ]
        kinds = [json.loads(r["body"])["type"] for r in sent]
        # rapidroute's notice answered 500 once and is not sent after its ruling.
        assert kinds == ["partner.debit_notice.v1", RULED_TYPE], (partner, kinds)
        body = json.loads(sent[-1]["body"])
        reversed_amount = {"swiftship": 0, "rapidroute": 100_000, "desipost": 30_000}[partner]
        assert body["outcome"] == rulings[partner]["outcome"], body
        assert body["reversed_amount"] == reversed_amount, body
        assert body["amount_due"] == 100_000 - reversed_amount, body
        assert body["ruling"] == rulings[partner]["reason"], body
        assert body["case_id"] == notice["case_id"] and body["amount"] == 100_000, body
        assert "decided_by" not in body, body
        ADAPTERS[partner].authenticate(
            headers=sent[-1]["headers"],
            body=sent[-1]["body"],
            credentials=[PartnerCredential(SECRETS[partner], hash_key(SECRETS[partner]), None)],
            now=eng.clock.now(),
            tolerance_s=900,
        )
        if partner == "swiftship":
            assert sent[0]["headers"]["webhook-id"] != sent[-1]["headers"]["webhook-id"]
        # The partner's key reads the same ruling on the notice, without who ruled.
        r = await eng.client.get(
            f"/v1/partner/notices/{notice['notice_id']}", headers=keys[partner]
        )
        assert r.status_code == 200, r.text
        contest_seen = r.json()["contest"]
        assert contest_seen["outcome"] == body["outcome"], contest_seen
        assert "decided_by" not in contest_seen, contest_seen
    # Sent once: more rounds send nothing further.
    eng.clock.advance(timedelta(hours=2))
    await asyncio.sleep(1.0)
    for partner, notice in notices.items():
        ruled_sent = [
            r
            for r in receiver.of(partner)
            if json.loads(r["body"])["notice_id"] == str(notice["notice_id"])
            and json.loads(r["body"])["type"] == RULED_TYPE
        ]
        assert len(ruled_sent) == 1, partner

    # A notice ruled before rulings were sent: delivered, ruled, never attempted since. The
    # delivery loop's first round queues its ruling (before, it was never sent: the partner
    # had to read it on the notice); the rulings already sent are not sent again, and a second
    # check (another process starting) queues nothing.
    old = notices["swiftship"]["notice_id"]
    # Its ruling is made a second after its last attempt, as one was before rulings were sent.
    async with eng.sessionmaker() as session, session.begin():
        forgotten = (
            await session.execute(
                text(
                    "UPDATE notice_contests SET decided_at = (SELECT max(attempted_at)"
                    " FROM notice_attempts WHERE notice_id = :n) + interval '1 second'"
                    " WHERE notice_id = :n RETURNING notice_id"
                ),
                {"n": old},
            )
        ).all()
    assert len(forgotten) == 1, forgotten
    first = [
        r
        for r in receiver.of("swiftship")
        if json.loads(r["body"])["notice_id"] == str(old)
        and json.loads(r["body"])["type"] == RULED_TYPE
    ]
    assert await owe_unsent_rulings(eng.sessionmaker, now=eng.clock.now()) == 1

    def ruled_of(partner: str) -> list[dict[str, Any]]:
        return [
            r
            for r in receiver.of(partner)
            if json.loads(r["body"])["notice_id"] == str(notices[partner]["notice_id"])
            and json.loads(r["body"])["type"] == RULED_TYPE
        ]

    await eventually(
        lambda: asyncio.sleep(0, ruled_of("swiftship")),
        until=lambda sent: len(sent) == 2,
        what="the owed ruling sent",
    )
    again = ruled_of("swiftship")[-1]
    # The same ruling (its time is the one the emulation gave it), under the same message id.
    sent_again, sent_first = json.loads(again["body"]), json.loads(first[0]["body"])
    assert sent_again.pop("ruled_at") > sent_first.pop("ruled_at")
    assert sent_again == sent_first
    assert again["headers"]["webhook-id"] == first[0]["headers"]["webhook-id"]
    assert await owe_unsent_rulings(eng.sessionmaker, now=eng.clock.now()) == 0
    eng.clock.advance(timedelta(hours=2))
    await asyncio.sleep(1.0)
    assert [len(ruled_of(p)) for p in ("swiftship", "rapidroute", "desipost")] == [2, 1, 1]
