"""Signed partner webhooks of any shape never answer 5xx (the schema-driven run over every
service's OpenAPI document is in test_api_schemas.py).

The app under test is a second intake instance on its own scratch database (so generated
requests never touch the shared test data), with an idle outbox relay (so generated events never
reach Kafka).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.python import asgi

from services.intake.app import create_app
from services.intake.partners.seeding import seed_dev_partners
from services.intake.settings import IntakeSettings
from shared.migrations import upgrade
from tests.conftest import Harness
from tests.support.factories import FIXTURES
from tests.support.signing import desipost_headers, rapidroute_headers, swiftship_headers


@pytest.fixture(scope="module")
def fuzz_app(harness: Harness) -> Iterator[Any]:
    stack: Any = harness.stack
    stack.postgres.drop_database("test_intake_fuzz")
    stack.postgres.create_database("test_intake_fuzz")
    url = stack.postgres.database_url("test_intake_fuzz")
    upgrade("intake", url)
    asyncio.run(seed_dev_partners(url, harness.secrets))
    app = create_app(IntakeSettings(database_url=url, outbox_poll_interval_s=3600.0))
    yield app
    asgi.shutdown_lifespans()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _samples() -> dict[str, dict[str, Any]]:
    import json

    return {
        partner: json.loads((FIXTURES / "partners" / name).read_bytes())
        for partner, name in (
            ("swiftship", "swiftship-qc-passed.json"),
            ("rapidroute", "rapidroute-batch.json"),
            ("desipost", "desipost-snapshot.json"),
        )
    }


def _mutated(sample: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The partner's sample with some fields replaced by arbitrary JSON (wrong types, nulls)."""
    return st.dictionaries(st.sampled_from(sorted(sample)), JSON, max_size=3).map(
        lambda changes: {**sample, **changes}
    )


def test_signed_partner_bodies_of_any_shape_never_answer_5xx(
    harness: Harness, fuzz_app: Any
) -> None:
    import json
    import uuid

    samples = _samples()
    client = asgi.get_client(fuzz_app)

    def sign(partner: str, body: bytes) -> dict[str, str]:
        if partner == "swiftship":
            return swiftship_headers(
                harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=f"msg_{uuid.uuid4().hex}"
            )
        if partner == "rapidroute":
            return rapidroute_headers(harness.secrets["RAPIDROUTE_SECRET"], body)
        return desipost_headers(harness.secrets["DESIPOST_API_KEY"])

    @given(
        partner=st.sampled_from(sorted(samples)),
        data=st.data(),
    )
    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(partner: str, data: st.DataObject) -> None:
        body_obj = data.draw(JSON | _mutated(samples[partner]), label="body")
        body = json.dumps(body_obj).encode()
        with client:
            response = client.post(
                f"/v1/webhooks/{partner}", data=body, headers=sign(partner, body)
            )
        assert response.status_code in (202, 422), (response.status_code, response.text, body)
        assert response.headers["content-type"].startswith(
            "application/json" if response.status_code == 202 else "application/problem+json"
        )

    run()
