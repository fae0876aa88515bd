"""Database triggers that stamp ``TrackedModel.sync_txid`` on every write.

Why the transaction id: a sync client must never miss a change, even when a
slow transaction that wrote first commits after a fast one that wrote later.
On PostgreSQL each row carries the id of the transaction that last wrote it,
and the sync feed only hands out rows whose transaction is older than every
transaction still running (``pg_snapshot_xmin``): a row can no longer appear
behind a cursor already given out. SQLite serialises writers (IMMEDIATE
transactions), so there a plain write counter has the same property.

The triggers live in the database, not in ``save()``, so ``QuerySet.update()``
and raw SQL are stamped too. SQLite drops a table's triggers when a migration
rebuilds the table: tests/test_sync_stamps.py checks every synced table.
"""

from django.db import migrations

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION rcf_stamp_sync_txid() RETURNS trigger AS $$
BEGIN
    NEW.sync_txid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
"""


def _pg_up(table):
    return [
        PG_FUNCTION,
        f"DROP TRIGGER IF EXISTS {table}_sync ON {table};",
        f"CREATE TRIGGER {table}_sync BEFORE INSERT OR UPDATE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION rcf_stamp_sync_txid();",
    ]


def _sqlite_up(table):
    # With recursive_triggers off (SQLite's default) the inner UPDATE does
    # not fire the trigger again.
    # Table names are constants from our own migrations, never user input.
    stamp = f"UPDATE {table} SET sync_txid = (SELECT value FROM rcf_syncclock WHERE id = 1) WHERE id = NEW.id;"
    body = "UPDATE rcf_syncclock SET value = value + 1 WHERE id = 1; " + stamp
    return [
        f"DROP TRIGGER IF EXISTS {table}_sync_insert;",
        f"DROP TRIGGER IF EXISTS {table}_sync_update;",
        f"CREATE TRIGGER {table}_sync_insert AFTER INSERT ON {table} BEGIN {body} END;",
        f"CREATE TRIGGER {table}_sync_update AFTER UPDATE ON {table} BEGIN {body} END;",
    ]


def _down(table, vendor):
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_sync ON {table};"]
    return [f"DROP TRIGGER IF EXISTS {table}_sync_insert;", f"DROP TRIGGER IF EXISTS {table}_sync_update;"]


def install_sync_triggers(*tables):
    """A migration operation that installs the triggers on ``tables`` and
    stamps the rows already there."""

    def up(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for table in tables:
            statements = _pg_up(table) if vendor == "postgresql" else _sqlite_up(table)
            if vendor not in ("postgresql", "sqlite"):
                raise NotImplementedError(f"No sync trigger for {vendor}")
            for statement in statements:
                schema_editor.execute(statement)
            schema_editor.execute(f"UPDATE {table} SET sync_txid = sync_txid")

    def down(apps, schema_editor):
        for table in tables:
            for statement in _down(table, schema_editor.connection.vendor):
                schema_editor.execute(statement)

    return migrations.RunPython(up, down)
