"""a timeline row's case is checked once per INSERT statement instead of by a foreign key per row

The foreign key from `case_timeline.case_id` ran PostgreSQL's referential check for every
timeline row: a query of `cases` and a `FOR KEY SHARE` lock written into the case row. A decision
batch updates its case rows first and then inserts their timeline rows in one statement, so each
lock lands on the row version the batch has just written (a tuple header change and a WAL record
per case) although the batch already holds the case's stronger lock: under `EXPLAIN ANALYZE` the
check was 35-50 % of the timeline INSERT's time.

Now an AFTER INSERT statement trigger refuses the statement if any of its rows names no case, in
one anti-join over the inserted rows, with the foreign key's own error (`foreign_key_violation`,
its constraint name and detail, which `shared.transient.refused_value` reads). The other ends of
the foreign key are kept by row triggers that never fire on the product's writes: a timeline
row's `case_id` changed to a case that does not exist, and a case deleted or its `case_id`
changed while timeline rows name it, are refused as the foreign key refused them. They are
AFTER triggers, as the foreign key's own are: a BEFORE row trigger on `cases` would make every
UPDATE of a case fetch and lock its row before PostgreSQL sees that `case_id` is not among the
columns set. The foreign key's lock guarded a case row against deletion between the check and
the commit; a case is never deleted (every case writes its CaseOpened row in the transaction that
opens it, so the delete trigger refuses any committed case), so the lock had nothing left to
guard.

Revision ID: e7b2d5f9a3c6
Revises: a9d3f7c2e5b1
Create Date: 2026-12-05 15:00:00+00:00
"""

from alembic import op

revision = "e7b2d5f9a3c6"
down_revision = "a9d3f7c2e5b1"
branch_labels = None
depends_on = None

_FOREIGN_KEY = "case_timeline_case_id_fkey"

# The foreign key's own words (its name, table and detail), which callers read.
_NOT_PRESENT = f"""
        RAISE EXCEPTION USING
            MESSAGE = 'insert or update on table "case_timeline" violates foreign key '
                      || 'constraint "{_FOREIGN_KEY}"',
            ERRCODE = 'foreign_key_violation',
            CONSTRAINT = '{_FOREIGN_KEY}',
            TABLE = 'case_timeline',
            DETAIL = format('Key (case_id)=(%s) is not present in table "cases".', orphan);"""

UPGRADE = [
    f"ALTER TABLE case_timeline DROP CONSTRAINT {_FOREIGN_KEY}",
    f"""
CREATE FUNCTION case_timeline_cases_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orphan text;
BEGIN
    SELECT r.case_id INTO orphan
      FROM inserted_rows r
     WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.case_id = r.case_id)
     LIMIT 1;
    IF FOUND THEN{_NOT_PRESENT}
    END IF;
    RETURN NULL;
END $$
""",
    "CREATE TRIGGER case_timeline_cases_exist AFTER INSERT ON case_timeline "
    "REFERENCING NEW TABLE AS inserted_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION case_timeline_cases_exist()",
    # A timeline row moved to another case (nothing in the product does): that case must exist.
    f"""
CREATE FUNCTION case_timeline_moved_case_exists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orphan text := NEW.case_id;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM cases c WHERE c.case_id = NEW.case_id) THEN{_NOT_PRESENT}
    END IF;
    RETURN NULL;
END $$
""",
    "CREATE TRIGGER case_timeline_moved_case_exists AFTER UPDATE OF case_id ON case_timeline "
    "FOR EACH ROW WHEN (OLD.case_id IS DISTINCT FROM NEW.case_id) "
    "EXECUTE FUNCTION case_timeline_moved_case_exists()",
    # A case deleted, or its id changed, while timeline rows name it (the foreign key's NO ACTION).
    f"""
CREATE FUNCTION cases_keep_their_timeline() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM case_timeline t WHERE t.case_id = OLD.case_id) THEN
        RAISE EXCEPTION USING
            MESSAGE = 'update or delete on table "cases" violates foreign key constraint '
                      || '"{_FOREIGN_KEY}" on table "case_timeline"',
            ERRCODE = 'foreign_key_violation',
            CONSTRAINT = '{_FOREIGN_KEY}',
            TABLE = 'case_timeline',
            DETAIL = format('Key (case_id)=(%s) is still referenced from table "case_timeline".',
                            OLD.case_id);
    END IF;
    RETURN NULL;
END $$
""",
    "CREATE TRIGGER cases_keep_their_timeline_delete AFTER DELETE ON cases "
    "FOR EACH ROW EXECUTE FUNCTION cases_keep_their_timeline()",
    "CREATE TRIGGER cases_keep_their_timeline_rekey AFTER UPDATE OF case_id ON cases "
    "FOR EACH ROW WHEN (OLD.case_id IS DISTINCT FROM NEW.case_id) "
    "EXECUTE FUNCTION cases_keep_their_timeline()",
]

DOWNGRADE = [
    "DROP TRIGGER cases_keep_their_timeline_rekey ON cases",
    "DROP TRIGGER cases_keep_their_timeline_delete ON cases",
    "DROP FUNCTION cases_keep_their_timeline()",
    "DROP TRIGGER case_timeline_moved_case_exists ON case_timeline",
    "DROP FUNCTION case_timeline_moved_case_exists()",
    "DROP TRIGGER case_timeline_cases_exist ON case_timeline",
    "DROP FUNCTION case_timeline_cases_exist()",
    f"ALTER TABLE case_timeline ADD CONSTRAINT {_FOREIGN_KEY} FOREIGN KEY (case_id) "
    "REFERENCES cases (case_id)",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
