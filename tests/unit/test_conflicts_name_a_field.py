"""Every named refusal that answers 409 or 422 names a field (hostile8): a `field`, or the
`errors` its constructor lists. A refusal of neither left the client to guess what to change."""

from __future__ import annotations

import inspect
from importlib import import_module

import pytest

from shared.errors import DomainError

SERVICES_WITH_PROBLEM_TYPES = ["reconciliation"]
MAPPED = [
    (cls, kind)
    for service in SERVICES_WITH_PROBLEM_TYPES
    for cls, kind in import_module(f"services.{service}.problem_types").PROBLEM_TYPES.items()
    if kind.status in (409, 422)
]


@pytest.mark.parametrize("cls, kind", MAPPED, ids=[c.__name__ for c, _ in MAPPED])
def test_the_refusal_names_a_field(cls: type[DomainError], kind: object) -> None:
    assert cls.field is not None or "errors=" in inspect.getsource(cls), cls


def test_every_service_with_named_refusals_is_checked() -> None:
    from pathlib import Path

    found = sorted(p.parent.name for p in Path("services").glob("*/problem_types.py"))
    assert found == SERVICES_WITH_PROBLEM_TYPES


def _problems_without_errors(status: int) -> list[str]:
    import ast
    from pathlib import Path

    found = []
    for path in [*Path("services").rglob("*.py"), *Path("shared").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Problem"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == status
                and not any(k.arg in ("errors", None) for k in node.keywords)
            ):
                found.append(f"{path}:{node.lineno}")
    return found


@pytest.mark.parametrize("status", [409, 422])
def test_every_conflict_or_invalid_input_raised_directly_names_a_field(status: int) -> None:
    assert _problems_without_errors(status) == []
