"""The AsyncAPI 3.0 document, generated from the event models and the topic registry: servers,
one channel per topic and per dead-letter topic, what each service sends and receives, and an
example of every message (docs/events.md).

Its snapshot is committed as `docs/asyncapi.json` (`disputedesk asyncapi --out
docs/asyncapi.json`); `breaking_changes` compares the two, and the contract tests fail on a
removed or retyped field, a newly required one, a removed event type or a changed topic.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from shared.events import TOPICS, Topic
from shared.examples import example

SERVICES = ("intake", "fraud", "reconciliation", "notifications")
# Who reads which topic, under which consumer group. The contract tests hold this to the
# services' own consumer wiring, so the document cannot drift from what runs.
SUBSCRIPTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "fraud": {"fraud": ("intake.returns.v1", "reconciliation.cases.v1")},
    "reconciliation": {
        "reconciliation": (
            "intake.returns.v1",
            "fraud.assessments.v1",
            "notifications.deliveries.v1",
        ),
        "reconciliation-alerts": ("fraud.alerts.v1",),
    },
    "notifications": {
        "notifications": (
            "reconciliation.cases.v1",
            "reconciliation.partner-statements.v1",
            "fraud.alerts.v1",
            "intake.seller-feedback.v1",
        )
    },
}
SERVERS: dict[str, Any] = {
    "local": {
        "host": "127.0.0.1:9092",
        "protocol": "kafka",
        "description": "The broker `make run` starts (KRaft, one node; `KAFKA_BOOTSTRAP_SERVERS` "
        "points the services elsewhere).",
    },
    "compose": {
        "host": "kafka:9092",
        "protocol": "kafka",
        "description": "The broker of `deploy/docker-compose.yml`, inside its network.",
    },
}

CE_HEADERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "content-type"],
    "properties": {
        "ce_id": {
            "type": "string",
            "format": "uuid",
            "description": "Assigned when the fact is recorded; consumers deduplicate on it.",
        },
        "ce_source": {"type": "string", "examples": ["disputedesk/intake"]},
        "ce_type": {"type": "string"},
        "ce_specversion": {"const": "1.0"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string"},
        "ce_traceparent": {
            "type": "string",
            "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
            "description": "CloudEvents distributed-tracing extension: the W3C trace context "
            "of the span that published the event. Optional: events without it are valid.",
            "examples": ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"],
        },
        "content-type": {"const": "application/json"},
    },
}
DLQ_HEADERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The original message's headers (CloudEvents ones included, when it had "
    "them), plus where it came from and why it was set aside.",
    "required": [
        "dlq_original_topic",
        "dlq_original_partition",
        "dlq_original_offset",
        "dlq_consumer_group",
        "dlq_service",
        "dlq_error",
        "dlq_failed_at",
    ],
    "properties": {
        **CE_HEADERS_SCHEMA["properties"],
        "dlq_original_topic": {"type": "string", "examples": ["intake.returns.v1"]},
        "dlq_original_partition": {"type": "string", "examples": ["3"]},
        "dlq_original_offset": {"type": "string", "examples": ["1841"]},
        "dlq_consumer_group": {"type": "string", "examples": ["reconciliation"]},
        "dlq_service": {"type": "string", "examples": ["reconciliation"]},
        "dlq_error": {
            "type": "string",
            "maxLength": 2000,
            "examples": ["ValidationError: 1 validation error for ReturnInitiated ..."],
        },
        "dlq_failed_at": {"type": "string", "format": "date-time"},
    },
}


def channel_id(topic: str) -> str:
    return topic.replace(".", "_").replace("-", "_")


def producer_of(topic: Topic) -> str:
    """The service whose events a topic carries: the second part of their `ce_type`."""
    [service] = {m.ce_type.split(".")[1] for m in topic.models}
    return service


def _message(model: Any, topic: Topic, schemas: dict[str, Any]) -> dict[str, Any]:
    payload = example(schemas[model.__name__], schemas)
    headers = {
        "ce_id": "3f1c2e8a-5b7d-4c1e-9a2f-6d8b0e4c7a15",
        "ce_source": f"disputedesk/{producer_of(topic)}",
        "ce_type": model.ce_type,
        "ce_specversion": "1.0",
        "ce_time": "2026-11-24T10:00:00Z",
        "ce_subject": str(payload.get(model.key_field, "RET-1001")),
        "ce_traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "content-type": "application/json",
    }
    return {
        "name": model.ce_type,
        "title": model.__name__,
        "summary": (model.__doc__ or "").strip().split("\n")[0] or model.__name__,
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
        "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
        "bindings": {"kafka": {"key": {"type": "string", "description": topic.key_description}}},
        "examples": [{"name": model.__name__, "headers": headers, "payload": payload}],
    }


def _dead_letter(topic: Topic) -> dict[str, Any]:
    return {
        "name": f"{topic.dlq}:dead-letter",
        "title": f"Dead letter of {topic.name}",
        "summary": "A message a consumer could not decode or handle, as it was received.",
        "description": "The value is the original bytes: it may not validate (that may be why "
        "it is here). docs/operations.md says how to inspect and replay it.",
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
        "payload": {"description": "The original message value, unchanged."},
        "examples": [
            {
                "name": "undecodable",
                "headers": {
                    "dlq_original_topic": topic.name,
                    "dlq_original_partition": "3",
                    "dlq_original_offset": "1841",
                    "dlq_consumer_group": "reconciliation",
                    "dlq_service": "reconciliation",
                    "dlq_error": "EnvelopeError: missing CloudEvents headers: ce_id",
                    "dlq_failed_at": "2026-11-24T10:00:05Z",
                },
                "payload": {"return_id": "RET-1001"},
            }
        ],
    }


def asyncapi_document() -> dict[str, Any]:
    models = [m for t in TOPICS.values() for m in t.models]
    _, schema = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    schemas = schema.get("$defs", {})
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    readers: dict[str, list[tuple[str, str]]] = {}
    for service, groups in SUBSCRIPTIONS.items():
        for group, topics in groups.items():
            for name in topics:
                readers.setdefault(name, []).append((service, group))
    for topic in TOPICS.values():
        cid = channel_id(topic.name)
        refs = {}
        for model in topic.models:
            messages[model.__name__] = _message(model, topic, schemas)
            refs[model.__name__] = {"$ref": f"#/components/messages/{model.__name__}"}
        channels[cid] = {
            "address": topic.name,
            "description": topic.description,
            "messages": refs,
            "servers": [{"$ref": f"#/servers/{s}"} for s in SERVERS],
        }
        dead = f"DeadLetter_{cid}"
        messages[dead] = _dead_letter(topic)
        channels[f"{cid}_dlq"] = {
            "address": topic.dlq,
            "description": f"Messages of `{topic.name}` that a consumer dead-lettered.",
            "messages": {dead: {"$ref": f"#/components/messages/{dead}"}},
            "servers": [{"$ref": f"#/servers/{s}"} for s in SERVERS],
        }
        own = [{"$ref": f"#/channels/{cid}/messages/{n}"} for n in refs]
        producer = producer_of(topic)
        operations[f"{producer}_sends_{cid}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{cid}"},
            "title": f"{producer} publishes to {topic.name}",
            "summary": "Written to the outbox with the state it describes; published after "
            "the commit, at least once.",
            "tags": [{"name": producer}],
            "messages": own,
        }
        for service, group in readers.get(topic.name, []):
            operations[f"{service}_receives_{cid}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{cid}"},
                "title": f"{service} consumes {topic.name} (group {group})",
                "summary": "Deduplicated on ce_id through the service's inbox; a type it has "
                "no handler for is acknowledged and ignored.",
                "tags": [{"name": service}],
                "bindings": {"kafka": {"groupId": {"type": "string", "enum": [group]}}},
                "messages": own,
            }
            operations[f"{service}_dead_letters_{cid}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{cid}_dlq"},
                "title": f"{service} sets aside what it cannot handle from {topic.name}",
                "tags": [{"name": service}],
                "messages": [{"$ref": f"#/channels/{cid}_dlq/messages/{dead}"}],
            }
    schemas["CloudEventHeaders"] = CE_HEADERS_SCHEMA
    schemas["DeadLetterHeaders"] = DLQ_HEADERS_SCHEMA
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "disputedesk events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 in Kafka binary mode. Every message is written to an "
            "outbox in the same transaction as the state it describes; delivery is at least "
            "once and consumers deduplicate on ce_id. Poison messages go to `<topic>.dlq`.",
            "tags": [{"name": s} for s in SERVICES],
        },
        "servers": SERVERS,
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


# --- compatibility --------------------------------------------------------------------------


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def _shape(schema: dict[str, Any], schemas: dict[str, Any], depth: int = 0) -> Any:
    """What a consumer relies on in a schema: its JSON types (and formats), field by field."""
    schema = _resolve(schema, schemas)
    if depth > 8:
        return "…"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return sorted(
                (repr(_shape(s, schemas, depth + 1)) for s in schema[key]),
            )
    if "const" in schema:
        return ("const", type(schema["const"]).__name__)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return ("object",)
    if kind == "array":
        return ("array", repr(_shape(schema.get("items", {}), schemas, depth + 1)))
    return (kind, schema.get("format"))


def _fields(
    schema: dict[str, Any], schemas: dict[str, Any], prefix: str = "", depth: int = 0
) -> dict[str, tuple[Any, bool]]:
    """Every field path of an object schema: its shape and whether it is required."""
    schema = _resolve(schema, schemas)
    out: dict[str, tuple[Any, bool]] = {}
    if depth > 6:
        return out
    required = set(schema.get("required", ()))
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        out[path] = (_shape(sub, schemas), name in required)
        target = _resolve(sub, schemas)
        options = target.get("anyOf") or target.get("oneOf") or [target]
        objects = [o for o in options if "properties" in _resolve(o, schemas)]
        if len(objects) == 1:
            out.update(_fields(objects[0], schemas, f"{path}.", depth + 1))
        items = _resolve(target.get("items", {}), schemas) if target.get("type") == "array" else {}
        if "properties" in items:
            out.update(_fields(items, schemas, f"{path}[].", depth + 1))
    return out


def _events(doc: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each event type with its topic and payload schema."""
    components = doc["components"]
    out = {}
    for channel in doc["channels"].values():
        for ref in channel["messages"].values():
            message = components["messages"][ref["$ref"].rsplit("/", 1)[-1]]
            if message["name"].endswith(":dead-letter"):
                continue
            out[message["name"]] = (channel["address"], message["payload"])
    return out


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What in `new` would break a consumer written against `old`: an event type gone or moved
    to another topic, a field removed or retyped, a field newly required. New event types,
    new optional fields and new topics are compatible."""
    problems = []
    old_events, new_events = _events(old), _events(new)
    old_schemas, new_schemas = old["components"]["schemas"], new["components"]["schemas"]
    for ce_type, (topic, payload) in sorted(old_events.items()):
        if ce_type not in new_events:
            problems.append(f"{ce_type}: event type removed")
            continue
        new_topic, new_payload = new_events[ce_type]
        if new_topic != topic:
            problems.append(f"{ce_type}: topic changed from {topic} to {new_topic}")
        before = _fields(payload, old_schemas)
        after = _fields(new_payload, new_schemas)
        for path, (shape, _) in sorted(before.items()):
            if path not in after:
                problems.append(f"{ce_type}: field {path} removed")
                continue
            if after[path][0] != shape:
                problems.append(f"{ce_type}: field {path} retyped")
        for path, (_, required) in sorted(after.items()):
            if required and not before.get(path, (None, False))[1]:
                problems.append(f"{ce_type}: field {path} is now required")
    return problems
