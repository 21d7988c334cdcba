"""A key's optional `team` in the keyring (shared/auth.py): the key works that team's tasks and
reads; any other change answers 403; a team the product does not know ends the key."""

from __future__ import annotations

import pytest

from services.reconciliation.tasks.teams import Team
from shared.auth import TEAMS, Keyring, hash_key, refuse_outside_team
from shared.problems import Problem


def _ring(**entry: object) -> Keyring:
    base = {"key_hash": hash_key("k"), "client_id": "warehouse.anil", "roles": ["ops_agent"]}
    return Keyring.from_entries([{**base, **entry}])


def test_the_keyring_knows_the_teams_tasks_are_asked_of() -> None:
    assert TEAMS == {t.value for t in Team}


def test_a_key_carries_its_team_and_the_desk_has_none() -> None:
    bound = _ring(team="warehouse").lookup("k")
    assert bound is not None and bound.team == "warehouse"
    desk = _ring().lookup("k")
    assert desk is not None and desk.team is None


def test_an_unknown_team_fails_closed() -> None:
    for bad in ("Warehouse", "warehouse ", "desk", "", 7):
        assert _ring(team=bad).lookup("k") is None, bad


def test_a_bound_key_changes_things_only_through_its_teams_work() -> None:
    bound, desk = _ring(team="finance").lookup("k"), _ring().lookup("k")
    assert bound is not None and desk is not None
    refuse_outside_team(bound, changes=False, team_work=False, team_reads=True)  # scoped reads
    refuse_outside_team(bound, changes=True, team_work=True, team_reads=False)  # its tasks
    refuse_outside_team(desk, changes=True, team_work=False, team_reads=False)  # the desk's work
    with pytest.raises(Problem) as refused:
        refuse_outside_team(bound, changes=True, team_work=False, team_reads=False)
    assert refused.value.status == 403 and "finance" in str(refused.value)


def test_a_bound_key_reads_only_through_reads_scoped_to_its_team() -> None:
    """A read that does not scope its answer to the team (fraud's alerts, the ledger, the
    sellers' emails) is the desk's; the desk's own key reads it."""
    bound, desk = _ring(team="warehouse").lookup("k"), _ring().lookup("k")
    assert bound is not None and desk is not None
    refuse_outside_team(desk, changes=False, team_work=False, team_reads=False)
    with pytest.raises(Problem) as refused:
        refuse_outside_team(bound, changes=False, team_work=False, team_reads=False)
    assert refused.value.status == 403 and "warehouse" in str(refused.value)
