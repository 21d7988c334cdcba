"""Property-based runs over each service's OpenAPI document, with auth: no 5xx, and every answer
as documented (status, content type, body schema, headers).

Each service under test is a second instance on its own scratch database, so whatever the
generated requests create (partners, policies, watchlist entries, suppressions) is the only data
they can reach, and nothing touches the shared test data. Its Kafka address points nowhere: the
outbox relay and consumers never start, so nothing generated reaches a topic and no consumer
group of the running pipeline is joined. Requests carry one key holding every role (the keyring
supports several roles per key), bound to one seller, so each operation is reached past its
role check.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.auth import Role, hash_key, new_key
from shared.migrations import upgrade
from tests.conftest import Harness

# Per operation, for valid and for invalid requests each; then stateful scenarios (sequences
# that feed one answer's ids into the next request, along links inferred from the schema).
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "15"))
# Invalid requests cost far more to generate (Schemathesis mutates the schema for each).
NEGATIVE_EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMA_FUZZ_NEGATIVE_EXAMPLES", "8"))
SCENARIOS = int(os.environ.get("SCHEMA_FUZZ_SCENARIOS", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Nothing listens on port 1: the producer keeps retrying in the background, harmlessly.
NO_KAFKA = "127.0.0.1:1"
SETTINGS = {
    "intake": ("services.intake.settings", "IntakeSettings", {}),
    "fraud": ("services.fraud.settings", "FraudSettings", {}),
    "reconciliation": ("services.reconciliation.settings", "ReconciliationSettings", {}),
    "notifications": (
        "services.notifications.settings",
        "NotificationsSettings",
        {"consumer_enabled": False},
    ),
}
MIN_OPERATIONS = {"intake": 15, "fraud": 8, "reconciliation": 18, "notifications": 8}


@pytest.fixture(scope="module")
def every_role_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    key = new_key()
    ring = tmp_path_factory.mktemp("schema-keyring") / "keyring.json"
    entry = {
        "key_hash": hash_key(key),
        "client_id": "schema-fuzz",
        "roles": [str(r) for r in Role],
        "seller_id": "S-FUZZ-1",
    }
    ring.write_text(json.dumps({"keys": [entry]}))
    return key, ring


def _scratch_app(harness: Harness, service: str, keyring: Path) -> Any:
    stack: Any = harness.stack
    database = f"test_{service}_schema"
    stack.postgres.drop_database(database)
    stack.postgres.create_database(database)
    url = stack.postgres.database_url(database)
    upgrade(service, url)
    if service == "intake":
        from services.intake.partners.seeding import seed_dev_partners

        asyncio.run(seed_dev_partners(url, harness.secrets))
    module, name, extra = SETTINGS[service]
    settings_cls = getattr(import_module(module), name)
    service_settings = settings_cls(
        database_url=url,
        kafka_bootstrap_servers=NO_KAFKA,
        keyring_file=keyring,
        outbox_poll_interval_s=3600.0,
        # The subject here is input, not rate; the limits have their own tests.
        rate_limit_enabled=False,
        **extra,
    )
    return import_module(f"services.{service}.app").create_app(service_settings)


@pytest.fixture
def fuzz_app(
    harness: Harness, every_role_key: tuple[str, Path], request: pytest.FixtureRequest
) -> Iterator[Any]:
    app = _scratch_app(harness, request.param, every_role_key[1])
    yield app
    asgi.shutdown_lifespans()


@pytest.mark.parametrize(
    "fuzz_app", ["intake", "fraud", "reconciliation", "notifications"], indirect=True
)
def test_no_operation_answers_5xx_or_off_schema(
    fuzz_app: Any, every_role_key: tuple[str, Path], request: pytest.FixtureRequest
) -> None:
    service = request.node.callspec.params["fuzz_app"]
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    headers = {"Authorization": f"Bearer {every_role_key[0]}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        if operation.path == "/readyz":
            continue  # 503 by design here: this instance is kept away from Kafka (see above)
        for mode, examples in (
            (GenerationMode.POSITIVE, EXAMPLES_PER_OPERATION),
            (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES_PER_OPERATION),
        ):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                run()
            except Unsatisfiable:
                pass  # nothing to make invalid: the operation takes no parameters and no body
            except Exception as exc:  # collect every failure, then report them together
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert operations >= MIN_OPERATIONS[service]
    assert not failures, "\n\n".join(failures)

    # Stateful: what one call creates (a watchlist entry, a policy draft, a suppression, an
    # escalation) is read, changed and deleted by the next. Only data this test made exists in
    # its scratch database, so the scenarios can reach nothing else.
    base = schema.exclude(path="/readyz").as_state_machine()

    class Scenarios(base):  # type: ignore[valid-type, misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: Any, *args: Any, **kw: Any) -> None:
            case.validate_response(response, checks=CHECKS, headers=headers)

    Scenarios.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
