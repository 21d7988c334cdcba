"""a case's timeline keeps each entry's document as written (`json`, not `jsonb`)

Nothing reads inside a timeline entry's `data` in SQL on the product's paths: the case API and the
console read the whole document back (decoded by the process, as they decoded `jsonb`), and the
drill's timeline check asks only whether an entry carries an event (`data -> 'event'`, which
`json` answers as `jsonb` did). A decision writes two timeline rows whose documents are its case
events (2-2.5 KB each); as `jsonb` each was parsed into the binary form on insert, as `json`
PostgreSQL checks the text and keeps it. Read back, an entry has the same members and values; its
keys come in the order the process wrote them instead of `jsonb`'s.

Existing rows are converted in place (`data::json` is jsonb's text); the migration goes down the
same way.

Revision ID: d8f4b2a6e1c9
Revises: a4c8e2f6b9d3
Create Date: 2026-12-06 14:40:00+00:00
"""

from alembic import op

revision = "d8f4b2a6e1c9"
down_revision = "a4c8e2f6b9d3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE case_timeline ALTER COLUMN data TYPE json USING data::json")


def downgrade() -> None:
    op.execute("ALTER TABLE case_timeline ALTER COLUMN data TYPE jsonb USING data::jsonb")
