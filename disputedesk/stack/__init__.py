"""The local development stack: Kafka, PostgreSQL and a mail sink run as plain processes
from a state folder, for `disputedesk stack up|down|status`, `disputedesk run` and the tests.

    stack = Stack.from_env()
    env = stack.up()          # idempotent; returns KAFKA_BOOTSTRAP_SERVERS, *_DATABASE_URL, ...
    stack.kafka.kill()        # fault drills
    stack.kafka.start()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from disputedesk.stack.component import (
        ComponentState,
        ComponentStatus,
        ExternalComponentError,
        StackError,
    )
    from disputedesk.stack.config import StackSettings
    from disputedesk.stack.local_stack import Stack, StackReporter
    from disputedesk.stack.mailsink import MailDirHandler

__all__ = [
    "ComponentState",
    "ComponentStatus",
    "ExternalComponentError",
    "MailDirHandler",
    "Stack",
    "StackError",
    "StackReporter",
    "StackSettings",
]

_HOMES = {
    "ComponentState": "disputedesk.stack.component",
    "ComponentStatus": "disputedesk.stack.component",
    "ExternalComponentError": "disputedesk.stack.component",
    "StackError": "disputedesk.stack.component",
    "StackSettings": "disputedesk.stack.config",
    "Stack": "disputedesk.stack.local_stack",
    "StackReporter": "disputedesk.stack.local_stack",
    "MailDirHandler": "disputedesk.stack.mailsink",
}


def __getattr__(name: str) -> Any:
    # Imported on first use, so `python -m disputedesk.stack.mailsink` does not find its own
    # module already imported by this package (runpy warns about that).
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)
