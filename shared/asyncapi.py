"""The AsyncAPI 3.0 document, generated from the event models and the topic registry."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from shared.events import TOPICS

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
        "content-type": {"const": "application/json"},
    },
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
    for topic in TOPICS.values():
        channel_id = topic.name.replace(".", "_").replace("-", "_")
        refs = {}
        for model in topic.models:
            messages[model.__name__] = {
                "name": model.ce_type,
                "title": model.__name__,
                "summary": (model.__doc__ or "").strip().split("\n")[0] or model.__name__,
                "contentType": "application/json",
                "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
                "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
                "bindings": {
                    "kafka": {"key": {"type": "string", "description": topic.key_description}}
                },
            }
            refs[model.__name__] = {"$ref": f"#/components/messages/{model.__name__}"}
        channels[channel_id] = {
            "address": topic.name,
            "description": topic.description,
            "messages": refs,
        }
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{n}"} for n in refs],
        }
    schemas["CloudEventHeaders"] = CE_HEADERS_SCHEMA
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "disputedesk events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 in Kafka binary mode. Every message is written to an "
            "outbox in the same transaction as the state it describes; delivery is at least "
            "once and consumers deduplicate on ce_id. Poison messages go to `<topic>.dlq`.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
