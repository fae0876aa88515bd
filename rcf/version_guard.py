"""Database triggers that refuse to move a tracked record's ``version`` back.

Why: ``version`` is the optimistic-locking token (the ETag a sync client
sends back as ``If-Match``). If it ever went backwards, an old ``If-Match``
would match again and a stale client would overwrite newer data. The
services only ever claim the next version, but a write that bypasses them
(the admin history "revert", raw SQL, a restored fixture) could lower it;
the trigger refuses any ``UPDATE`` that does, whatever wrote it.

SQLite drops a table's triggers when a migration rebuilds the table:
tests/test_version_guard.py checks every tracked table.
"""

from django.db import migrations

MESSAGE = "version only ever increases: an update may not lower the version of a record"

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION rcf_refuse_version_decrease() RETURNS trigger AS $$
BEGIN
    IF NEW.version < OLD.version THEN
        -- No percent signs anywhere here: migrations pass this through the driver parameter formatting.
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{MESSAGE} ('
            || TG_TABLE_NAME || ' ' || OLD.id || ': ' || OLD.version || ' to ' || NEW.version || ')';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
"""


def trigger_name(table: str) -> str:
    return f"{table}_version_guard"


def _pg_up(table):
    return [
        PG_FUNCTION,
        f"DROP TRIGGER IF EXISTS {trigger_name(table)} ON {table};",
        f"CREATE TRIGGER {trigger_name(table)} BEFORE UPDATE OF version ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION rcf_refuse_version_decrease();",
    ]


def _sqlite_up(table):
    # Table names are constants from our own migrations, never user input.
    return [
        f"DROP TRIGGER IF EXISTS {trigger_name(table)};",
        f"CREATE TRIGGER {trigger_name(table)} BEFORE UPDATE OF version ON {table} "
        f"WHEN NEW.version < OLD.version BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    ]


def _down(table, vendor):
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {trigger_name(table)} ON {table};"]
    return [f"DROP TRIGGER IF EXISTS {trigger_name(table)};"]


def install_version_guard(*tables):
    """A migration operation that installs the trigger on ``tables``."""

    def up(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in ("postgresql", "sqlite"):
            raise NotImplementedError(f"No version guard trigger for {vendor}")
        for table in tables:
            for statement in _pg_up(table) if vendor == "postgresql" else _sqlite_up(table):
                schema_editor.execute(statement)

    def down(apps, schema_editor):
        for table in tables:
            for statement in _down(table, schema_editor.connection.vendor):
                schema_editor.execute(statement)

    return migrations.RunPython(up, down)
