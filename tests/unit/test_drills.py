"""Pure parts of the fault drill: the client's retry rules, the ledger, verdicts, ports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx

from disputedesk.drills.checks import Verdict, _set_verdict, count_verdict
from disputedesk.drills.observe import mail_message_ids
from disputedesk.drills.runner import (
    DRILL_STACK_DEFAULTS,
    drill_stack_environ,
    ephemeral_port_range,
    ports_at_risk,
)
from disputedesk.drills.traffic import (
    AcceptedLedger,
    Credentials,
    Delivery,
    DrillClient,
    RequestKind,
)

CREDENTIALS = Credentials(
    marketplace_key="mk", agent_key="ak", swiftship_secret="whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="
)


def _client(
    handler: Callable[[httpx.Request], httpx.Response],
) -> tuple[DrillClient, AcceptedLedger]:
    ledger = AcceptedLedger()
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://intake")
    return DrillClient(http, credentials=CREDENTIALS, ledger=ledger, give_up_after_s=30), ledger


async def test_a_webhook_cut_off_by_a_fault_is_resent_with_the_same_id_and_body() -> None:
    seen: list[httpx.Request] = []

    def intake(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            raise httpx.ConnectError("refused", request=request)
        if len(seen) == 2:
            raise httpx.ReadError("reset", request=request)
        if len(seen) == 3:
            return httpx.Response(503)
        return httpx.Response(202, json={"accepted": 1})

    client, ledger = _client(intake)
    delivery = ledger.add(
        Delivery(RequestKind.WEBHOOK, "msg_1", "R-1", "/v1/webhooks/swiftship", b'{"a":1}')
    )
    assert await client.send(delivery)
    assert {r.headers["webhook-id"] for r in seen} == {"msg_1"}
    assert {r.content for r in seen} == {b'{"a":1}'}
    assert all(r.headers["webhook-signature"].startswith("v1,") for r in seen)
    # Refused connections never reached intake; the cut-off and the 503 may have.
    assert (delivery.sends, delivery.accepted, delivery.unanswered) == (4, 1, 2)
    assert ledger.total_retries == 3 and ledger.retries["connection refused"] == 1


async def test_an_escalation_in_flight_is_retried_with_its_idempotency_key() -> None:
    statuses = iter([409, 201])
    keys: list[str] = []

    def intake(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["idempotency-key"])
        return httpx.Response(next(statuses), json={"escalation_id": "ESC-1"})

    client, ledger = _client(intake)
    delivery = ledger.add(
        Delivery(RequestKind.ESCALATION, "key-1", "R-1", "/v1/escalations", b"{}")
    )
    assert await client.send(delivery)
    assert keys == ["key-1", "key-1"]
    assert delivery.answers == [{"escalation_id": "ESC-1"}]
    assert ledger.retries["HTTP 409"] == 1


async def test_a_request_intake_refuses_for_good_is_not_retried_and_is_reported() -> None:
    calls = 0

    def intake(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(422, json={"title": "Validation failed"})

    client, ledger = _client(intake)
    delivery = ledger.add(Delivery(RequestKind.RETURN, "R-1", "R-1", "/v1/returns", b"{}"))
    assert not await client.send(delivery)
    assert calls == 1
    assert ledger.problems() == [
        f"return R-1: HTTP 422: {json.dumps({'title': 'Validation failed'}, separators=(',', ':'))}"
    ]
    assert ledger.summary()["requests"]["return"]["accepted_distinct"] == 0


def test_verdicts_name_what_went_wrong() -> None:
    assert count_verdict(3, 3) is Verdict.OK
    assert count_verdict(3, 2) is Verdict.LOST
    assert count_verdict(3, 4) is Verdict.DUPLICATED
    assert _set_verdict({"a", "b"}, {"a", "b"}, found_count=2) == (Verdict.OK, "")
    verdict, detail = _set_verdict({"a", "b"}, {"a"}, found_count=1)
    assert verdict is Verdict.LOST and "missing 1: b" in detail
    verdict, detail = _set_verdict({"a"}, {"a"}, found_count=2)
    assert verdict is Verdict.DUPLICATED and "1 duplicate rows" in detail
    assert Verdict.NOT_BUILT.fails is False and Verdict.LOST.fails is True


def test_stack_ports_inside_the_ephemeral_range_are_flagged(tmp_path: Path) -> None:
    range_file = tmp_path / "ip_local_port_range"
    range_file.write_text("32768\t60999\n")
    ephemeral = ephemeral_port_range(range_file)
    assert ephemeral is not None and 32768 in ephemeral and 60999 in ephemeral
    assert ports_at_risk({"kafka": 35092, "pg": 27432}, ephemeral) == ["kafka=35092"]
    assert ports_at_risk({"kafka": 35092}, None) == []
    assert ephemeral_port_range(tmp_path / "missing") is None


def test_mail_is_counted_by_message_id(tmp_path: Path) -> None:
    for name, message_id in [("1", "<a@d>"), ("2", "<a@d>"), ("3", "<b@d>"), ("4", "<other@d>")]:
        (tmp_path / f"{name}.eml").write_bytes(
            f"Message-ID: {message_id}\r\nSubject: x\r\n\r\nbody\r\n".encode()
        )
    found = mail_message_ids(tmp_path, ["<a@d>", "<b@d>", "<c@d>"])
    assert found == {"<a@d>": 2, "<b@d>": 1}


def test_the_drill_runs_on_its_own_stack_and_never_on_external_endpoints() -> None:
    environ = drill_stack_environ(
        {
            "DISPUTEDESK_PG_PORT": "27999",
            "KAFKA_BOOTSTRAP_SERVERS": "kafka.prod:9092",
            "INTAKE_DATABASE_URL": "postgresql+asyncpg://prod/intake",
            "HOME": "/root",
        }
    )
    assert environ == {**DRILL_STACK_DEFAULTS, "DISPUTEDESK_PG_PORT": "27999"}
    assert environ["DISPUTEDESK_STATE_DIR"].endswith("/.state/drills")


def test_services_get_free_ports_below_the_ephemeral_range() -> None:
    from disputedesk.drills.fleet import drill_service_specs

    specs = drill_service_specs({"INTAKE_PORT": "27001"}, ephemeral=range(32768, 61000))
    ports = {spec.name: spec.port for spec in specs}
    assert ports["intake"] == 27001
    assert len(set(ports.values())) == 4
    assert all(1024 <= port < 32768 for port in ports.values())
