"""Two costs PostgreSQL paid for every row a decision writes: the case events' documents
compressed on insert, and a trigger call per outbox row.

*Stored inline, uncompressed.* A decided or settled case event is 2.0–2.4 KB of JSON, which takes
its outbox row and its timeline row past PostgreSQL's toast threshold (about 2 KB a row): each
of the four documents a decision writes was compressed with pglz on insert, and the relay
decompressed every payload it published. Inserting the stored payloads again cost about 2.5×
what the same rows cost uncompressed. `toast_tuple_target` at its maximum (8160 bytes) keeps a
row of up to about 8 KB as it is; a larger one is still compressed. The rows take more room
(about 1.6× for those events). Stored values are unchanged; rows written before keep their
compression.

*The outbox's NOTIFY once per statement.* The row trigger called its plpgsql function for each
outbox row, about 7 µs each, to send one folded notification per transaction; a batch inserts
its outbox rows in one statement, and only writers with rows insert into the outbox.

Revision ID: c3e8a1f6d4b2
Revises: b7c1e5d9a2f4
Create Date: 2026-12-05 03:00:00+00:00
"""

from alembic import op

from shared.wakeups import OUTBOX_CHANNEL, notify_per_statement_ddl, notify_trigger_ddl

revision = "c3e8a1f6d4b2"
down_revision = "b7c1e5d9a2f4"
branch_labels = None
depends_on = None

# The tables whose rows carry a whole case event (the outbox's payload, the timeline's data).
_TABLES = ("outbox", "case_timeline")


def upgrade() -> None:
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} SET (toast_tuple_target = 8160)")
    for statement in notify_per_statement_ddl("outbox", OUTBOX_CHANNEL):
        op.execute(statement)


def downgrade() -> None:
    for statement in notify_trigger_ddl("outbox", OUTBOX_CHANNEL, events="INSERT"):
        op.execute(statement)
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} RESET (toast_tuple_target)")
