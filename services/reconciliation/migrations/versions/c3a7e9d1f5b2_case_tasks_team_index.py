"""a team's tasks and cases are found through an index on the task's team

A person of a team reads its own queue (`GET /v1/tasks` with the key's team: its tasks, soonest
due first) and its own cases (those with a task of the team: `worked_by`, `is_teams`). Both
filtered `case_tasks` by `team` with no index on it, a scan of every team's tasks for each page.
One index on (team, due_at, task_id) gives a team's queue in the order it is paged, and its
prefix finds a team's tasks for the cases it works.

Revision ID: c3a7e9d1f5b2
Revises: b5e9d3c7a1f8
Create Date: 2026-12-05 21:00:00+00:00
"""

from alembic import op

revision = "c3a7e9d1f5b2"
down_revision = "b5e9d3c7a1f8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_tasks_team_due", "case_tasks", ["team", "due_at", "task_id"])


def downgrade() -> None:
    op.drop_index("ix_case_tasks_team_due", table_name="case_tasks")
