"""The four apps' route tables, for tests that check every route (roles, idempotency).

Building an app needs the at-rest keys (intake refuses to start without them), and these tables
are read at collection time, before the session's harness has set any environment: the apps
are built under throwaway development keys, which they only hold, never use.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import import_module
from unittest import mock

from fastapi import FastAPI

from disputedesk.credentials import development_at_rest_keys

SERVICES = ("intake", "fraud", "reconciliation", "notifications")


@cache
def service_apps() -> dict[str, FastAPI]:
    keys = {k: v for k, v in development_at_rest_keys().items() if not os.environ.get(k)}
    with mock.patch.dict(os.environ, keys):
        return {name: import_module(f"services.{name}.app").create_app() for name in SERVICES}
