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


# ---------------------------------------------------------------------------------------------
# The money path: what the follow-ups do, and checks that cannot pass on nothing
# ---------------------------------------------------------------------------------------------


def test_a_check_with_nothing_to_count_fails_as_not_exercised() -> None:
    from disputedesk.drills.checks import CheckResult, require_exercise

    empty = require_exercise(CheckResult("ledger balances", 0, 0, Verdict.OK, "0 paise"))
    assert empty.verdict is Verdict.NOT_EXERCISED and empty.verdict.fails
    assert "never reached" in empty.detail
    unknown = require_exercise(CheckResult("x", None, None, Verdict.OK))
    assert unknown.verdict is Verdict.NOT_EXERCISED
    counted = require_exercise(CheckResult("x", 3, 3, Verdict.OK))
    assert counted.verdict is Verdict.OK
    # A failure keeps its own verdict: it says more than "nothing counted".
    lost = require_exercise(CheckResult("x", 0, 1, Verdict.DUPLICATED))
    assert lost.verdict is Verdict.DUPLICATED


def _row(case: str, version: int, kind: str, **event: object) -> object:
    from disputedesk.drills.checks import TimelineRow

    return TimelineRow(case, version, kind, str(event.pop("actor", "system")), dict(event))


def test_the_emails_a_case_owes_follow_its_transitions() -> None:
    from disputedesk.drills.checks import expected_messages

    timeline = [
        _row("C1", 1, "CaseOpened"),
        _row("C1", 2, "EvidenceRequested"),
        _row("C1", 3, "CaseDecided", previous_state="AWAITING_EVIDENCE"),
        _row("C1", 4, "CaseSettled"),  # nothing paid: the decision said it
        _row("C1", 5, "CaseAppealed"),
        _row("C1", 6, "CaseDecided", previous_state="APPEALED"),
        _row("C1", 7, "CaseSettled", ledger_transaction_id="T1", decision={"payout": 50_000}),
        _row("C1", 8, "CaseUnderReview", previous_state="DECIDED"),
        _row("C4", 1, "CaseOpened"),
        _row("C4", 2, "CaseUnderReview", previous_state="OPEN"),  # told, straight after opening too
        _row("C2", 1, "CaseOpened"),
        _row("C2", 2, "CaseEscalated", escalation_reason="ABOVE_APPROVAL_CAP"),
        _row("C3", 1, "CaseOpened"),  # proactive: no seller address
        _row("C3", 2, "CaseEscalated", escalation_reason="ABOVE_APPROVAL_CAP"),
        _row("C3", 3, "CaseRejected", previous_state="OPEN"),
    ]
    assert expected_messages(timeline, {"C1", "C2", "C4"}) == {  # type: ignore[arg-type]
        "C1:acknowledgement:1",
        "C1:evidence_request:2",
        "C1:decision:3",
        "C1:appeal_received:5",
        "C1:appeal_outcome:6",
        "C1:settlement:7",
        "C1:timeline_change:8",
        "C4:acknowledgement:1",
        "C4:timeline_change:2",
        "C2:acknowledgement:1",
        "C2:escalation_update:2",
        "C2:approval_cap_alert:2",
        "C3:approval_cap_alert:2",  # managers are alerted whoever the seller is
    }


def test_an_appeal_that_changes_nothing_is_told_from_one_that_overturns() -> None:
    from disputedesk.drills.checks import upheld_appeals

    partial = {"rule_id": "L11", "payout": 124_950, "liable_party": "BUYER"}
    late = {"rule_id": "E3", "payout": 0, "liable_party": None}
    timeline = [
        _row("C1", 2, "CaseDecided", previous_state="OPEN", decision=partial),
        _row("C1", 5, "CaseDecided", previous_state="APPEALED", decision={**partial}),
        _row("C2", 2, "CaseRejected", previous_state="OPEN", decision=late),
        _row("C2", 4, "CaseDecided", previous_state="APPEALED", decision={**late}),
        _row("C3", 2, "CaseDecided", previous_state="OPEN", decision=partial),
        _row(
            "C3",
            5,
            "CaseDecided",
            previous_state="APPEALED",
            decision={"rule_id": "APPEAL", "payout": 249_900, "liable_party": "PARTNER"},
        ),
    ]
    assert upheld_appeals(timeline) == {("C1", 5), ("C2", 4)}  # type: ignore[arg-type]


def test_a_follow_up_acts_when_the_people_around_the_case_would() -> None:
    import random
    from datetime import UTC, datetime

    from disputedesk.drills.desk import Action, next_action, request_for
    from disputedesk.drills.stories import Scenario, script_story

    def script(scenario: Scenario):  # type: ignore[no-untyped-def]
        return script_story(
            4,
            run_id="T",
            now=datetime(2026, 11, 24, tzinfo=UTC),
            sellers=("S-1", "S-2"),
            rng=random.Random(1),
            scenario=scenario,
        )

    def case(state: str, reason_code: str | None = None) -> dict[str, object]:
        return {"case_id": "C1", "state": state, "reason_code": reason_code, "version": 3}

    none: frozenset[Action] = frozenset()
    cap = script(Scenario.ABOVE_CAP)
    assert next_action(cap, None, none) is None
    assert next_action(cap, case("OPEN"), none) is None
    assert next_action(cap, case("ESCALATED", "ABOVE_APPROVAL_CAP"), none) is Action.APPROVE
    assert next_action(cap, case("ESCALATED", "SLA_BREACHED"), none) is None
    assert next_action(cap, case("CLOSED"), frozenset({Action.APPROVE})) is Action.DONE
    approve = request_for(Action.APPROVE, cap, case("ESCALATED"), "ESC-1")
    assert approve.path == "/v1/cases/C1/approve" and approve.client == "manager"

    later = script(Scenario.EVIDENCE_LATER)
    assert next_action(later, case("AWAITING_EVIDENCE"), none) is Action.ADD_EVIDENCE
    evidence = request_for(Action.ADD_EVIDENCE, later, case("AWAITING_EVIDENCE"), "ESC-1")
    assert evidence.path == "/v1/escalations/ESC-1/evidence"
    assert evidence.client == f"seller:{later.seller_id}" and evidence.body["evidence"]
    assert next_action(later, case("AWAITING_EVIDENCE"), frozenset({Action.ADD_EVIDENCE})) is None

    appealed = script(Scenario.NO_QC_DAMAGE)
    assert next_action(appealed, case("CLOSED"), none) is Action.APPEAL
    assert next_action(appealed, case("CLOSED"), frozenset({Action.APPEAL})) is None
    assert next_action(appealed, case("APPEALED"), frozenset({Action.APPEAL})) is (
        Action.DECIDE_APPEAL
    )
    decision = request_for(Action.DECIDE_APPEAL, appealed, case("APPEALED"), "ESC-1")
    # Four eyes: the second manager decides appeals, the first approves proposals.
    assert decision.client == "second_manager"
    assert decision.body == {
        "overturn": True,
        "reason": appealed.appeal.decision_reason,  # type: ignore[union-attr]
        "liable_party": "PARTNER",
        "payout_pct": 100,
    }
    done = frozenset({Action.APPEAL, Action.DECIDE_APPEAL})
    assert next_action(appealed, case("CLOSED"), done) is Action.DONE

    plain = script(Scenario.PARTNER_DAMAGE)
    assert next_action(plain, case("CLOSED"), none) is Action.DONE
    assert next_action(plain, case("UNDER_REVIEW"), none) is Action.DECIDE_REVIEW
    review = request_for(Action.DECIDE_REVIEW, plain, case("UNDER_REVIEW"), "ESC-1")
    assert review.body["rule_id"] == "L9" and review.body["payout_pct"] == 100
    assert review.client == "agent"


def test_each_request_carries_the_key_of_the_client_that_makes_it() -> None:
    credentials = Credentials(
        marketplace_key="mk",
        agent_key="ak",
        swiftship_secret="whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=",
        manager_key="m1",
        second_manager_key="m2",
        seller_keys={"S-1": "pk1"},
    )
    assert credentials.key_for("seller:S-1") == "pk1"
    assert credentials.key_for("manager") == "m1"
    assert credentials.key_for("second_manager") == "m2"
    assert credentials.key_for("agent") == "ak"


def _desk_client(
    states: list[str], posts: list[httpx.Request]
) -> tuple[DrillClient, AcceptedLedger]:
    """Reconciliation's queue showing `states` one look after another (the last one stays)."""
    looks = iter(states)
    last = {"state": states[-1]}

    def reconciliation(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            last["state"] = next(looks, last["state"])
            state = last["state"]
            reason = "ABOVE_APPROVAL_CAP" if state == "ESCALATED" else None
            case = {"case_id": "C1", "state": state, "reason_code": reason, "version": 1}
            return httpx.Response(200, json={"items": [case], "next_cursor": None})
        posts.append(request)
        return httpx.Response(200, json={"case_id": "C1", "state": "CLOSED"})

    ledger = AcceptedLedger()
    credentials = Credentials(
        marketplace_key="mk",
        agent_key="ak",
        swiftship_secret=CREDENTIALS.swiftship_secret,
        manager_key="m1",
        second_manager_key="m2",
    )
    desk = httpx.AsyncClient(transport=httpx.MockTransport(reconciliation), base_url="http://r")
    intake = httpx.AsyncClient(transport=httpx.MockTransport(reconciliation), base_url="http://i")
    client = DrillClient(intake, credentials=credentials, ledger=ledger, desk=desk)
    return client, ledger


async def test_a_proposal_is_approved_once_by_a_manager_and_the_case_followed_to_its_end() -> None:
    import random
    from datetime import UTC, datetime

    from disputedesk.drills.desk import CaseFollowUp
    from disputedesk.drills.stories import Scenario, script_story
    from disputedesk.drills.traffic import TrafficGenerator, TrafficPlan

    posts: list[httpx.Request] = []
    client, ledger = _desk_client(["OPEN", "ESCALATED", "ESCALATED", "CLOSED"], posts)
    traffic = TrafficGenerator(client, plan=TrafficPlan(redelivery_share=0.0), run_id="T")
    script = script_story(
        2,
        run_id="T",
        now=datetime(2026, 11, 24, tzinfo=UTC),
        sellers=("S-1",),
        rng=random.Random(1),
        scenario=Scenario.ABOVE_CAP,
    )
    await CaseFollowUp(traffic, poll_s=0.01, give_up_after_s=5).follow(script)
    assert [p.url.path for p in posts] == ["/v1/cases/C1/approve"]
    assert posts[0].headers["authorization"] == "Bearer m1"
    assert posts[0].headers["idempotency-key"] == "drill-T-00002-approve"
    assert ledger.desk == {"approved": 1, "closed": 1}
    assert ledger.problems() == []


async def test_a_case_that_never_moves_is_reported_stuck() -> None:
    import random
    from datetime import UTC, datetime

    from disputedesk.drills.desk import CaseFollowUp
    from disputedesk.drills.stories import Scenario, script_story
    from disputedesk.drills.traffic import TrafficGenerator, TrafficPlan

    posts: list[httpx.Request] = []
    client, ledger = _desk_client(["OPEN"], posts)
    traffic = TrafficGenerator(client, plan=TrafficPlan(), run_id="T")
    script = script_story(
        1,
        run_id="T",
        now=datetime(2026, 11, 24, tzinfo=UTC),
        sellers=("S-1",),
        rng=random.Random(1),
        scenario=Scenario.PARTNER_DAMAGE,
    )
    await CaseFollowUp(traffic, poll_s=0.01, give_up_after_s=0.1).follow(script)
    assert posts == []
    assert len(ledger.problems()) == 1 and "stayed at OPEN" in ledger.problems()[0]


class _Admin:
    """Two topics' partitions: broker 1 leads partition 0 of each, broker 2 partition 1, and
    one partition is in election (leader -1)."""

    def __init__(self, **_: object) -> None:
        pass

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def describe_topics(self, topics: list[str]) -> list[dict[str, object]]:
        return [
            {
                "topic": topic,
                "partitions": [
                    {"partition": 0, "leader": 1},
                    {"partition": 1, "leader": 2},
                    {"partition": 2, "leader": -1},
                ],
            }
            for topic in topics
        ]


class _Consumer:
    """End offsets that fail twice as a busy cluster answers (stale metadata, then a timeout)
    before they come."""

    failures: list[Exception] = []

    def __init__(self, **_: object) -> None:
        pass

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def end_offsets(self, partitions: list[object]) -> dict[object, int]:
        if self.failures:
            raise self.failures.pop(0)
        assert all(tp.partition != 2 for tp in partitions)  # type: ignore[attr-defined]
        return {tp: 10 if tp.partition == 1 else 3 for tp in partitions}  # type: ignore[attr-defined]


async def test_the_busiest_leader_is_read_again_while_the_cluster_settles(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The fleet drill's first fault reads which broker leads the most messages; a partition in
    election or a metadata answer gone stale on a busy machine must not fail the drill."""
    from aiokafka.errors import KafkaTimeoutError, StaleMetadata

    from disputedesk.drills import observe

    monkeypatch.setattr(observe, "AIOKafkaAdminClient", _Admin)
    monkeypatch.setattr(observe, "AIOKafkaConsumer", _Consumer)
    _Consumer.failures = [StaleMetadata("p"), KafkaTimeoutError("offsets")]
    node, messages = await observe.busiest_leader("k:1", ["a", "b"], pause_s=0)
    assert (node, messages) == (2, 20)
    _Consumer.failures = [KafkaTimeoutError("offsets")] * 3
    try:
        await observe.busiest_leader("k:1", ["a"], attempts=3, pause_s=0)
    except KafkaTimeoutError:
        pass
    else:
        raise AssertionError("gave up silently after its attempts")
