"""Each service's migrations form one line: two branches that each add a revision on the same
parent leave two heads, and `alembic upgrade head` then refuses to run at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "fraud", "reconciliation", "notifications")


@pytest.mark.parametrize("service", SERVICES)
def test_one_head_per_service(service: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"{service} has {len(heads)} migration heads: {heads}"
