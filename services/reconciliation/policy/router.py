"""Policy versions: the SOP definitions decisions were taken under."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.reconciliation.policy import repository
from shared.auth import Principal, Role, require
from shared.db import DbSession
from shared.problems import Problem

router = APIRouter(prefix="/v1/policies", tags=["policy"])
READERS = (Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE)


@router.get("", summary="Every policy version")
async def list_policies(
    session: DbSession, principal: Principal = require(*READERS)
) -> list[dict[str, Any]]:
    return [
        {
            "version": p.version,
            "status": p.status,
            "adopted_at": p.adopted_at.isoformat() if p.adopted_at else None,
        }
        for p in await repository.all_versions(session)
    ]


@router.get("/{version}", summary="One policy version with its full definition")
async def get_policy(
    version: str, session: DbSession, principal: Principal = require(*READERS)
) -> dict[str, Any]:
    policy = await repository.get(session, version)
    if policy is None:
        raise Problem(404, "Not found", f"No policy version {version}.")
    return {
        "version": policy.version,
        "status": policy.status,
        "adopted_at": policy.adopted_at.isoformat() if policy.adopted_at else None,
        "definition": policy.definition,
    }
