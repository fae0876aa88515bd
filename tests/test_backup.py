"""Backups that round-trip (issue 9): ``pg_dump -Fc`` → a new database →
``pg_restore`` reproduces every table row for row (history and sync stamps
included) and the restored site syncs correctly; the ``backup_database`` /
``restore_database`` commands on both databases; and ``dumpdata`` → a fresh
migrated database → ``loaddata`` succeeds with exactly the dumped history.

Each runs the site as the operator would, in subprocesses against databases
of its own (SQLite files, or a private PostgreSQL cluster, see
tests/test_restore.py), never the test run's database.
"""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from tests.api.conftest import SyncClient

from . import test_restore as harness
from .test_restore import PROJECTS, manage, populate, prepare_site, restore, sync_fully

clusters, sites = harness.clusters, harness.sites  # fixtures: private PostgreSQL clusters, gunicorn

POPULATE_SCRIPT = """
from django.contrib.auth.models import Group
from contacts import services as contact_services
from projects import services as project_services
from scm_reports.roles import LEAD_POC
from tests.factories import UserFactory
lead = UserFactory(username="backup-lead")
lead.groups.set([Group.objects.get(name=LEAD_POC)])
org = contact_services.organization_create(by=lead, name="Ministry", side="rok")
pocs = [contact_services.poc_create(by=lead, full_name=f"POC {n}", side="rok", organization=org,
                                    email=f"poc{n}@example.org", priority_areas=["maritime-security"])
        for n in range(4)]
contact_services.poc_update(poc=pocs[0], by=lead, priority_areas=["maritime-security", "capacity-building"])
contact_services.poc_delete(poc=pocs[1], by=lead)
for n in range(12):
    project = project_services.project_create(
        by=lead, title=f"Project {n}", priority_area="maritime-security", lead_side="joint",
        partner_countries=["PH", "VN"][: 1 + n % 2], external_id=f"backup-{n}")
    if n % 3 == 0:
        project_services.project_update(project=project, by=lead, partner_countries=["FJ"], summary="Edited")
    if n % 4 == 0:
        project_services.project_soft_delete(project=project, by=lead)
print("populated")
"""

HISTORY_MODELS_SCRIPT = """
from django.apps import apps
print(" ".join(sorted(m._meta.label for m in apps.get_models() if m.__name__.startswith("Historical"))))
"""

# What a dumpdata backup leaves out: rows every migrated database makes for
# itself (content types and permissions, matched by natural keys instead),
# and sessions and the admin log, which are not the tracker's data.
DUMPDATA = ["dumpdata", "--natural-foreign", "--natural-primary", "-e", "contenttypes", "-e", "auth.permission",
            "-e", "sessions", "-e", "admin.logentry", "--indent", "1"]


def sqlite_url(path) -> str:
    return f"sqlite:///{path}"


# dumpdata writes datetimes to the millisecond: a time with 1-999 µs is
# written "….000Z" (truncated, as stored), the same time loaded back has no
# fraction left and is written "…Z". The same instant: compare it so.
_ZERO_MILLISECONDS = re.compile(r"\.000(?=Z$|[+-]\d\d:\d\d$)")


def _same_instant_spelling(value):
    return _ZERO_MILLISECONDS.sub("", value) if isinstance(value, str) else value


def history_of(database_url: str, models: list[str]) -> list[dict]:
    rows = json.loads(manage(database_url, "dumpdata", *models).stdout)
    for row in rows:
        row["fields"] = {name: _same_instant_spelling(value) for name, value in row["fields"].items()}
    return sorted(rows, key=lambda row: (row["model"], row["pk"]))


def dumpdata_round_trip(source_url: str, target_url: str, fixture) -> None:
    """dumpdata → a fresh migrated database → loaddata: it loads, and every
    history table holds exactly the dumped rows (none written by the load)."""
    manage(source_url, *DUMPDATA, "-o", str(fixture))
    models = manage(source_url, "shell", input=HISTORY_MODELS_SCRIPT).stdout.strip().splitlines()[-1].split()
    assert "projects.HistoricalCooperativeProject" in models and "contacts.HistoricalPointOfContact" in models
    dumped = history_of(source_url, models)
    assert len(dumped) > 40 and any("partner_countries" in row["model"].lower() for row in dumped)

    manage(target_url, "migrate", "--no-input")
    loaded = manage(target_url, "loaddata", str(fixture), check=False)
    assert loaded.returncode == 0, loaded.stderr
    loaded = history_of(target_url, models)
    assert len(loaded) == len(dumped)
    for row, expected in zip(loaded, dumped, strict=True):
        assert row == expected


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory):
    """A new SQLite database just migrated, made once for this module: a test that needs a fresh migrated
    database copies it (the file ``migrate`` would make again, without its ~10 s each time)."""
    path = tmp_path_factory.mktemp("migrated") / "migrated.sqlite3"
    manage(sqlite_url(path), "migrate", "--no-input")
    return path


def fresh_sqlite(migrated, path):
    """A copy of the migrated database at ``path`` (through SQLite's backup API: WAL pages included)."""
    with sqlite3.connect(migrated) as source, sqlite3.connect(path) as target:
        source.backup(target)
    source.close()
    target.close()
    return path


def test_dumpdata_into_a_fresh_sqlite_database_loads_exactly_the_dumped_history(tmp_path, migrated_sqlite):
    source = sqlite_url(fresh_sqlite(migrated_sqlite, tmp_path / "source.sqlite3"))
    target = sqlite_url(fresh_sqlite(migrated_sqlite, tmp_path / "fresh.sqlite3"))
    manage(source, "shell", input=POPULATE_SCRIPT)
    dumpdata_round_trip(source, target, tmp_path / "backup.json")


def sqlite_tables(path) -> dict[str, list]:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        # Names from the catalogue, not input.
        return {name: sorted(map(repr, conn.execute(f'SELECT * FROM "{name}"'))) for name in names}  # noqa: S608


def sqlite_epoch(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT epoch FROM rcf_syncepoch").fetchone()[0]


def test_sqlite_backup_and_restore_commands_round_trip(tmp_path, migrated_sqlite):
    live, backup = fresh_sqlite(migrated_sqlite, tmp_path / "live.sqlite3"), tmp_path / "backup.sqlite3"
    manage(sqlite_url(live), "shell", input=POPULATE_SCRIPT)
    out = manage(sqlite_url(live), "backup_database", str(backup)).stdout
    assert "SECRET_KEY" in out and "media" in out  # what else to keep
    refused = manage(sqlite_url(live), "backup_database", str(backup), check=False)
    assert refused.returncode != 0 and "--force" in refused.stderr

    # Into the live database: refused, nothing dropped.
    refused = manage(sqlite_url(live), "restore_database", str(backup), "--no-input", check=False)
    assert refused.returncode != 0 and "not empty" in refused.stderr

    restored = tmp_path / "restored.sqlite3"
    manage(sqlite_url(restored), "restore_database", str(backup), "--no-input")
    before, after = sqlite_tables(live), sqlite_tables(restored)
    del before["rcf_syncepoch"], after["rcf_syncepoch"]
    assert after == before  # every table, row for row
    assert len(before["projects_historicalcooperativeproject"]) > 12
    # The write counter came back with the file: a new epoch turns away
    # cursors issued after the backup was taken.
    assert sqlite_epoch(restored) == sqlite_epoch(live) + 1

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    refused = manage(sqlite_url(tmp_path / "other.sqlite3"), "restore_database", str(not_a_backup), "--no-input",
                     check=False)
    assert refused.returncode != 0 and "not an SQLite backup" in refused.stderr


def pg_checksums(cluster, database: str) -> dict[str, tuple[int, str]]:
    """Row count and an md5 over every row of every table (in a fixed order)."""
    with cluster.connect(database) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        every_row = "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t"
        return {table: tuple(conn.execute(every_row.format(f'"{table}"')).fetchone()) for table in tables}


def test_postgresql_dump_and_restore_reproduce_every_table_and_the_site_syncs(clusters, sites, tmp_path):
    cluster = clusters("backup")
    # One migrate, copied: the site's database and, later, the fresh database the dumpdata backup is loaded
    # into are both made from this one just migrated (CREATE DATABASE … TEMPLATE copies it as migrate left
    # it; a full migrate is the longest step of this test).
    cluster.create_database("migrated")
    manage(cluster.url("migrated"), "migrate", "--no-input")
    with cluster.connect() as conn:
        for name in ("rcf", "from_fixture"):
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE migrated')
    source = cluster.url("rcf")
    key = prepare_site(source)
    site = sites(source)
    live, deleted = populate(site.client(key), count=30)
    manage(source, "shell", input=POPULATE_SCRIPT)  # contacts, m2m history
    client = SyncClient(site.client(key), "projects", page_size=9)
    sync_fully(client, live | deleted)
    old_cursor = client.cursor

    # The operator's backup (pg_dump -Fc), taken while the site runs.
    backup = tmp_path / "rcf.dump"
    manage(source, "backup_database", str(backup))
    site.stop()

    # The README's restore: a new database, pg_restore, migrate.
    cluster.create_database("restored")
    restore(cluster, "restored", backup)
    original = pg_checksums(cluster, "rcf")
    assert pg_checksums(cluster, "restored") == original
    assert original["projects_historicalcooperativeproject"][0] > 30
    assert original["projects_historicalcooperativeproject_partner_countries"][0] > 30
    manage(cluster.url("restored"), "migrate", "--no-input")

    restored_site = sites(cluster.url("restored"))
    http = restored_site.client(key)
    response = http.get(PROJECTS, params={"since": old_cursor})
    assert response.status_code == 410, response.text  # another database: clients sync in full
    fresh = SyncClient(http, "projects", page_size=9)
    sync_fully(fresh, live | deleted)
    assert fresh.records == client.records and fresh.tombstones == client.tombstones
    pk = min(live)
    version = http.get(f"{PROJECTS}{pk}/").json()["version"]
    assert http.patch(f"{PROJECTS}{pk}/", json={"title": "After the restore"},
                      headers={"If-Match": f'"{version}"'}).status_code == 200
    changes = fresh.sync_until(lambda c: c.records[pk]["title"] == "After the restore")
    assert [item["id"] for item in changes] == [pk]

    # The command path: into a non-empty database it refuses; into a new one
    # it restores every table the same, and starts a new sync epoch.
    refused = manage(cluster.url("restored"), "restore_database", str(backup), "--no-input", check=False)
    assert refused.returncode != 0 and "not empty" in refused.stderr
    cluster.create_database("by_command")
    manage(cluster.url("by_command"), "restore_database", str(backup), "--no-input")
    by_command = pg_checksums(cluster, "by_command")
    assert {t: v for t, v in by_command.items() if t != "rcf_syncepoch"} == {
        t: v for t, v in original.items() if t != "rcf_syncepoch"}

    # dumpdata → a fresh migrated database → loaddata (the ids of history
    # rows used to collide here).
    dumpdata_round_trip(source, cluster.url("from_fixture"), tmp_path / "backup.json")
