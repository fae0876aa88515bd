"""Database triggers that stamp ``TrackedModel.sync_txid`` on every write, and
the sync epoch that keeps the stamps meaningful across a restore.

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

**The sync epoch (restores).** Transaction ids belong to a PostgreSQL
cluster. ``pg_dump`` → ``pg_restore`` into another cluster keeps the stamps,
but the new cluster counts its transactions from wherever it is, usually far
lower: the horizon would hold restored rows back, and new writes would get
stamps below cursors already handed out (silently lost changes). So the one
row of ``rcf_syncepoch`` records which database the stamps belong to (the
cluster's ``system_identifier`` from ``pg_control_system()`` and the
database's OID: a restore into a new database of the same cluster counts
too), an epoch number, and an offset:

* every stamp is ``pg_current_xact_id() + txid_offset`` and the feed's
  horizon is ``pg_snapshot_xmin(...) + txid_offset``: with one offset for
  the whole database, the horizon argument above holds unchanged;
* the database notices a move by itself: the stamping trigger calls
  ``rcf_sync_epoch()``, which compares the stored identity with the
  session's (cached in a session setting, so one control-file read per
  connection). On a mismatch it takes a lock on the table, and the first
  writer after the restore starts a new epoch: ``epoch + 1`` and
  ``txid_offset = max(old offset, highest stored stamp - oldest running
  transaction id + 1)``, so every stamp from then on, even one by a
  transaction that was already running, sorts after every restored row, and
  the horizon lies above all of them at once. The offset never changes
  while the identity stays the same: sessions stamping concurrently always
  agree on it. Nothing rewrites the stored stamps;
* cursors carry the epoch; one of another epoch answers 410 (sync in full);
* until that first write, the feed (a read-only transaction, which cannot
  start the epoch itself) sees the mismatch, answers in the coming epoch
  (``epoch + 1``), and needs no horizon: every row it can see was restored,
  and every later stamp will sort after it.

Where the host withholds ``pg_control_system()`` (it is PUBLIC's by default)
the database OID alone identifies the database. ``pg_upgrade`` and a
failover to a streaming replica keep what matters (the transaction counter;
a replica even keeps the system identifier); after ``pg_upgrade`` clients
sync in full once. A restore that keeps both the cluster and the database
(``pg_restore --clean``, point-in-time recovery) cannot be told apart:
``manage.py restore_database`` restores into a new database and starts a
new epoch itself, and ``restore_database --new-epoch-only`` starts one after
a restore by other means (``rcf_sync_epoch(true)``, which keeps the offset).

On SQLite the file carries its own write counter wherever it is copied; the
epoch is read (a fixture load moves it on, see ``rcf.fixture_loading``) but never
checked against an identity.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import migrations

# Created only where it is missing: the historical migrations that install
# triggers run in any order relative to rcf.0004, which replaces this plain
# version with the epoch-aware one (EPOCH_FUNCTIONS); running them later
# must not bring the plain one back.
PG_FUNCTION = """
DO $do$ BEGIN
    IF to_regprocedure('rcf_stamp_sync_txid()') IS NULL THEN
        CREATE FUNCTION rcf_stamp_sync_txid() RETURNS trigger AS $fn$
        BEGIN
            NEW.sync_txid := pg_current_xact_id()::text::bigint;
            RETURN NEW;
        END $fn$ LANGUAGE plpgsql;
    END IF;
END $do$;
"""

PLAIN_STAMP_FUNCTION = """
CREATE OR REPLACE FUNCTION rcf_stamp_sync_txid() RETURNS trigger AS $$
BEGIN
    NEW.sync_txid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
"""

EPOCH_FUNCTIONS = [
    # The cluster's system identifier and the database's OID, cached in a
    # session setting: neither can change while a connection lasts.
    """
CREATE OR REPLACE FUNCTION rcf_sync_identity() RETURNS bigint[] AS $$
DECLARE
    cached text := current_setting('rcf.sync_identity', true);
    identity bigint[];
BEGIN
    IF cached IS NOT NULL AND cached <> '' THEN
        RETURN cached::bigint[];
    END IF;
    BEGIN
        SELECT ARRAY[c.system_identifier, d.oid::bigint] INTO identity
            FROM pg_control_system() c, pg_database d WHERE d.datname = current_database();
    EXCEPTION WHEN insufficient_privilege THEN
        -- A host that withholds pg_control_system() (PUBLIC may run it by
        -- default): the database OID alone, and restore_database's epoch.
        SELECT ARRAY[0, d.oid::bigint] INTO identity FROM pg_database d WHERE d.datname = current_database();
    END;
    PERFORM set_config('rcf.sync_identity', identity::text, false);
    RETURN identity;
END $$ LANGUAGE plpgsql;
""",
    # The epoch row, after starting a new epoch if the database has moved (or
    # if forced). Must run in a transaction that may write.
    """
CREATE OR REPLACE FUNCTION rcf_sync_epoch(force boolean DEFAULT false) RETURNS rcf_syncepoch AS $$
DECLARE
    here bigint[] := rcf_sync_identity();
    stored rcf_syncepoch;
    found_row boolean;
    synced regclass;
    stamp bigint;
    highest bigint := 0;
    oldest bigint;
    next_offset bigint;
BEGIN
    SELECT * INTO stored FROM rcf_syncepoch WHERE id = 1;
    IF FOUND AND NOT force AND stored.system_identifier = here[1] AND stored.database_oid = here[2] THEN
        RETURN stored;
    END IF;
    -- One session starts the epoch; the others wait here, then see it.
    LOCK TABLE rcf_syncepoch IN SHARE ROW EXCLUSIVE MODE;
    SELECT * INTO stored FROM rcf_syncepoch WHERE id = 1;
    found_row := FOUND;
    IF found_row AND stored.system_identifier = here[1] AND stored.database_oid = here[2] THEN
        IF NOT force THEN
            RETURN stored;
        END IF;
        -- Same database (a restore in place): the stamps already agree with
        -- this cluster's counter, and concurrent writers use this offset.
        next_offset := stored.txid_offset;
    ELSE
        FOR synced IN SELECT DISTINCT tgrelid::regclass FROM pg_trigger
                      WHERE tgfoid = 'rcf_stamp_sync_txid'::regproc LOOP
            EXECUTE format('SELECT max(sync_txid) FROM %s', synced) INTO stamp;
            highest := greatest(highest, coalesce(stamp, 0));
        END LOOP;
        oldest := pg_snapshot_xmin(pg_current_snapshot())::text::bigint;
        next_offset := greatest(coalesce(stored.txid_offset, 0), highest - oldest + 1, 0);
    END IF;
    IF found_row THEN
        UPDATE rcf_syncepoch SET epoch = epoch + 1, system_identifier = here[1], database_oid = here[2],
            txid_offset = next_offset, started_at = now()
            WHERE id = 1 RETURNING * INTO stored;
    ELSE
        INSERT INTO rcf_syncepoch (id, epoch, system_identifier, database_oid, txid_offset, started_at)
            VALUES (1, 1, here[1], here[2], next_offset, now())
            RETURNING * INTO stored;
    END IF;
    RETURN stored;
END $$ LANGUAGE plpgsql;
""",
    """
CREATE OR REPLACE FUNCTION rcf_stamp_sync_txid() RETURNS trigger AS $$
BEGIN
    NEW.sync_txid := pg_current_xact_id()::text::bigint + (rcf_sync_epoch()).txid_offset;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
""",
]

DROP_EPOCH_FUNCTIONS = [
    PLAIN_STAMP_FUNCTION,
    "DROP FUNCTION IF EXISTS rcf_sync_epoch(boolean);",
    "DROP FUNCTION IF EXISTS rcf_sync_identity();",
]


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


def install_sync_epoch():
    """The migration operation of rcf.0004: the epoch functions, the
    epoch-aware stamp, and the first epoch row."""

    def up(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in EPOCH_FUNCTIONS:
                schema_editor.execute(statement, None)  # None: the bodies' % are not placeholders
            schema_editor.execute("SELECT rcf_sync_epoch()")
            # Stamps above this cluster's counter were written in another
            # cluster (restored before epochs existed): cursors issued until
            # now (epoch 1, implied) may belong to that cluster, so refuse them.
            schema_editor.execute("UPDATE rcf_syncepoch SET epoch = 2 WHERE id = 1 AND txid_offset > 0")
        else:
            apps.get_model("rcf", "SyncEpoch").objects.get_or_create(pk=1)

    def down(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in DROP_EPOCH_FUNCTIONS:
                schema_editor.execute(statement)

    return migrations.RunPython(up, down)


# --- What the sync feed reads ----------------------------------------------------------------


@dataclass(frozen=True)
class SyncState:
    """The epoch cursors are issued in now, and the offset to add to the
    oldest running transaction id to get the feed's horizon (``None``: no
    horizon is needed, every committed row is safe to hand out)."""

    epoch: int
    horizon_offset: int | None


def sync_state(connection) -> SyncState:
    """Read in the caller's transaction (the feed's snapshot), never writing:
    the feed runs read-only. On PostgreSQL, a database that has moved and
    not been written to since answers in the coming epoch, with no horizon
    (see the module docstring)."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("SELECT epoch FROM rcf_syncepoch WHERE id = 1")
            row = cursor.fetchone()
            return SyncState(epoch=row[0] if row else 1, horizon_offset=None)
        cursor.execute(
            "SELECT e.epoch, e.txid_offset, e.system_identifier = i.here[1] AND e.database_oid = i.here[2] "
            "FROM (SELECT rcf_sync_identity() AS here) i LEFT JOIN rcf_syncepoch e ON e.id = 1"
        )
        epoch, offset, same_database = cursor.fetchone()
    if epoch is None:  # no row yet: the first write creates epoch 1
        return SyncState(epoch=1, horizon_offset=None)
    if not same_database:
        return SyncState(epoch=epoch + 1, horizon_offset=None)
    return SyncState(epoch=epoch, horizon_offset=offset)


def start_new_epoch(connection) -> int:
    """Start a new sync epoch now, whatever the identity (after a restore
    that keeps the cluster and the database). Returns the new epoch."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT epoch FROM rcf_sync_epoch(true)")
            return cursor.fetchone()[0]
        cursor.execute("INSERT OR IGNORE INTO rcf_syncepoch (id, epoch, txid_offset, started_at) "
                       "VALUES (1, 1, 0, CURRENT_TIMESTAMP)")
        cursor.execute("UPDATE rcf_syncepoch SET epoch = epoch + 1, started_at = CURRENT_TIMESTAMP WHERE id = 1")
        cursor.execute("SELECT epoch FROM rcf_syncepoch WHERE id = 1")
        return cursor.fetchone()[0]
