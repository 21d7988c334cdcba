"""Each partner's webhook is read with the JSON types its documented format has
(docs/partners.md): its published sample parses, and the same sample with one value sent as
another JSON type (`"380"` for integer grams, `"true"` for a flag, a number for a string) is
refused naming that field, never guessed at."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from services.intake.partners.adapter import PayloadInvalid
from services.intake.partners.desipost import DesipostAdapter
from services.intake.partners.rapidroute import RapidRouteAdapter
from services.intake.partners.swiftship import SwiftshipAdapter
from tests.support.factories import FIXTURES

SAMPLES = {
    "swiftship": (SwiftshipAdapter(), "swiftship-qc-passed.json"),
    "rapidroute": (RapidRouteAdapter(), "rapidroute-batch.json"),
    "desipost": (DesipostAdapter(), "desipost-snapshot.json"),
}

# (partner, path in the sample, a value of another JSON type, the field named)
LAX = [
    ("swiftship", ("weight_kg",), "0.452", "body.weight_kg"),
    ("swiftship", ("otp_verified",), "false", "body.otp_verified"),
    ("swiftship", ("otp_verified",), 0, "body.otp_verified"),
    ("swiftship", ("at",), 1795690000, "body.at"),
    ("swiftship", ("hub",), 12, "body.hub"),
    ("rapidroute", ("events", 0, "ts"), "1795690000000", "body.events.0.ts"),
    ("rapidroute", ("events", 0, "ts"), 1795690000000.0, "body.events.0.ts"),
    ("rapidroute", ("events", 0, "weight_g"), "380", "body.events.0.weight_g"),
    ("rapidroute", ("events", 0, "weight_g"), 380.0, "body.events.0.weight_g"),
    ("rapidroute", ("events", 0, "pod", "verified"), "true", "body.events.0.pod.verified"),
    ("rapidroute", ("events", 0, "pod", "verified"), 1, "body.events.0.pod.verified"),
    ("rapidroute", ("events", 0, "id"), 88120, "body.events.0.id"),
    ("desipost", ("is_return",), "true", "body.is_return"),
    ("desipost", ("weight",), 450, "body.weight"),
    ("desipost", ("awb",), 77001234, "body.awb"),
]


HEADERS = {"webhook-id": "msg_json_types_1"}  # swiftship's event id travels in a header


def _sample(partner: str) -> Any:
    return json.loads((FIXTURES / "partners" / SAMPLES[partner][1]).read_bytes())


@pytest.mark.parametrize("partner", sorted(SAMPLES))
def test_the_documented_sample_is_read(partner: str) -> None:
    adapter = SAMPLES[partner][0]
    assert adapter.parse(headers=HEADERS, body=json.dumps(_sample(partner)).encode())


@pytest.mark.parametrize(("partner", "path", "value", "field"), LAX, ids=[str(x[:3]) for x in LAX])
def test_a_value_of_another_json_type_is_refused_naming_it(
    partner: str, path: tuple[Any, ...], value: Any, field: str
) -> None:
    body = copy.deepcopy(_sample(partner))
    node = body
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    with pytest.raises(PayloadInvalid) as caught:
        SAMPLES[partner][0].parse(headers=HEADERS, body=json.dumps(body).encode())
    assert field in [e["field"] for e in caught.value.errors], caught.value.errors
