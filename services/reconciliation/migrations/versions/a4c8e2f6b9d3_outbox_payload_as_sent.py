"""reconciliation's outbox keeps each event's text as sent (`json`, not `jsonb`)

Nothing reads inside a reconciliation event's outbox row: the relay sends `payload::text` as the
Kafka message and the row is deleted once its retention has passed. As `jsonb` each document
(two case events a decision, 2-2.5 KB each) was parsed into the binary form on insert and printed
back to text when published. As `json` PostgreSQL checks that the text is JSON and gives it back
as it came: the message carries the process's own encoding of the event (the same members and
values; keys in the event's order, no spaces) instead of PostgreSQL's re-printing (keys ordered
by length, a space after each separator).

Existing rows are converted in place (`payload::json` is jsonb's text); the migration goes down
the same way.

Revision ID: a4c8e2f6b9d3
Revises: f2d8b4a6c9e1
Create Date: 2026-12-06 03:00:00+00:00
"""

from alembic import op

revision = "a4c8e2f6b9d3"
down_revision = "f2d8b4a6c9e1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE outbox ALTER COLUMN payload TYPE json USING payload::json")


def downgrade() -> None:
    op.execute("ALTER TABLE outbox ALTER COLUMN payload TYPE jsonb USING payload::jsonb")
