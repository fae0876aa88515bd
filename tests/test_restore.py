"""The sync feed across a restore into another PostgreSQL cluster (issue 9).

Two real clusters (initdb twice) and the real site (gunicorn) on each: the
data is written through the API on cluster A, whose transaction counter is
far ahead, dumped with ``pg_dump -Fc`` and restored with ``pg_restore`` into
a fresh cluster B, whose counter is behind every stored ``sync_txid``. A
sync client must then still get (a) every record and tombstone from a full
sync, (b) a 410 for a cursor issued before the restore, and (c) every change
made after the restore. Nothing is run by hand in between (the detection is
automatic): only ``migrate``, as the README's restore procedure says.

Also holds the harness the backup tests use (clusters, servers, clients).
"""

from __future__ import annotations

import io
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import requests

from tests.api.conftest import HttpClient, SyncClient
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "restore-tests-secret-key-the-same-on-both-sites"  # cursors are signed with it
PROJECTS = "/api/v1/projects/"


# --- PostgreSQL binaries and clusters -------------------------------------------------------


def pg_binary(name: str) -> str | None:
    """From RCF_PG_BIN (CI: the server's own directory), else PATH."""
    directory = os.environ.get("RCF_PG_BIN")
    if directory and os.access(os.path.join(directory, name), os.X_OK):
        return os.path.join(directory, name)
    return shutil.which(name)


def require_pg_binaries(*names: str) -> dict[str, str]:
    """The binaries, or a skip naming what is missing (a failure in CI,
    where RCF_REQUIRE_REAL_SERVICES=1)."""
    found = {name: pg_binary(name) for name in names}
    missing = sorted(name for name, path in found.items() if path is None)
    problem = None
    if missing:
        where = f"RCF_PG_BIN ({os.environ['RCF_PG_BIN']}) or PATH" if os.environ.get("RCF_PG_BIN") else "PATH"
        problem = f"PostgreSQL binaries not found in {where}: {', '.join(missing)}"
    elif os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            problem = "running as root, and there is no 'postgres' user to run initdb and pg_ctl as"
    if problem:
        if os.environ.get("RCF_REQUIRE_REAL_SERVICES") == "1":
            pytest.fail(problem + " (RCF_REQUIRE_REAL_SERVICES=1: this test must run)")
        pytest.skip(problem)
    return found


class Cluster:
    """A private PostgreSQL cluster on a free loopback port (initdb and
    pg_ctl as the ``postgres`` user when running as root)."""

    def __init__(self, name: str):
        self.bin = require_pg_binaries("initdb", "pg_ctl", "pg_dump", "pg_restore")
        self.dir = Path(tempfile.mkdtemp(prefix=f"rcf-{name}-", dir="/tmp"))
        self.data = self.dir / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self._as_owner(self.bin["initdb"], "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self._as_owner(
            self.bin["pg_ctl"], "-D", str(self.data), "-w", "-l", str(self.dir / "log"),
            "-o", f"-k {self.dir} -h 127.0.0.1 -p {self.port} -c fsync=off", "start",
        )

    def _as_owner(self, *command: str) -> None:
        if os.geteuid() == 0:
            command = ("runuser", "-u", "postgres", "--", *command)
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True)

    def create_database(self, database: str) -> None:
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{database}"')

    def next_txid(self) -> int:
        with self.connect() as conn:
            return int(conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()[0])

    def burn_transaction_ids(self, count: int) -> None:
        """Move the cluster's transaction counter on, as years of use do."""
        with self.connect() as conn:
            conn.execute(f"DO $$ BEGIN FOR i IN 1..{count} LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP; END $$")

    def stop(self) -> None:
        try:
            self._as_owner(self.bin["pg_ctl"], "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


# --- The site, as subprocesses -----------------------------------------------------------------


def site_env(database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DJANGO_ENV")}
    env.update(
        DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY, DEBUG="0", ALLOWED_HOSTS="127.0.0.1",
        API_RATE_USER="100000/minute", CELERY_QUEUE="rcf-test-suite", PYTHONUNBUFFERED="1",
    )
    return env


def manage(database_url: str, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=site_env(database_url), input=input,
        capture_output=True, text=True, timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


SETUP_SCRIPT = """
from django.contrib.auth.models import Group
from rcf.models import ApiToken
from scm_reports.roles import LEAD_POC
from tests.factories import UserFactory
user = UserFactory(username="sync-lead")
user.groups.set([Group.objects.get(name=LEAD_POC)])
print(ApiToken.issue(user=user, name="restore tests")[1])
"""


def prepare_site(database_url: str) -> str:
    """Migrate a new database and give it a lead POC; returns an API key."""
    manage(database_url, "migrate", "--no-input")
    return manage(database_url, "shell", input=SETUP_SCRIPT).stdout.strip().splitlines()[-1]


class Site:
    """gunicorn serving the site against ``database_url``."""

    def __init__(self, database_url: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "rcf.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", "1", "--threads", "4"],
            cwd=ROOT, env=site_env(database_url), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(self.url + "/api/v1/", timeout=5)
                return
            except requests.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("gunicorn did not start:\n" + self.output()) from None
                time.sleep(0.2)

    def client(self, key: str) -> HttpClient:
        return HttpClient(self.url, key)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        elif self.process.returncode != 0:
            print(f"gunicorn on :{self.port} had exited with {self.process.returncode}:\n{self.output()}")
        self.log.close()


def sync_fully(client: SyncClient, expected_ids: set[int], timeout: float = 20.0) -> list[dict]:
    """Sync until the local copy holds exactly ``expected_ids`` (records and
    tombstones), or time out; the feed may hold back rows of a transaction
    still running anywhere in the cluster."""
    return client.sync_until(lambda c: set(c.records) | set(c.tombstones) == expected_ids, timeout=timeout)


def populate(http: HttpClient, count: int = 60, deleted_every: int = 5) -> tuple[set[int], set[int]]:
    """``count`` projects through the API, every ``deleted_every``-th deleted
    again, a few edited; returns (live ids, deleted ids)."""
    live, deleted = set(), set()
    for n in range(count):
        response = http.post(PROJECTS, json={
            "title": f"Project {n}", "priority_area": "maritime-security", "lead_side": "joint",
            "partner_countries": ["PH"] if n % 2 else ["VN", "FJ"], "external_id": f"restore-{n}",
        })
        assert response.status_code == 201, response.text
        live.add(response.json()["id"])
    for n, pk in enumerate(sorted(live)):
        if n % deleted_every == 0:
            assert http.delete(f"{PROJECTS}{pk}/", headers={"If-Match": '"1"'}).status_code == 204
            deleted.add(pk)
        elif n % 7 == 0:
            response = http.patch(f"{PROJECTS}{pk}/", json={"summary": f"Edited {n}"}, headers={"If-Match": '"1"'})
            assert response.status_code == 200, response.text
    return live - deleted, deleted


def dump(cluster: Cluster, database: str, path: Path) -> None:
    subprocess.run(
        [cluster.bin["pg_dump"], "-Fc", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres",
         "-f", str(path), database],
        check=True, capture_output=True, timeout=300,
    )


def restore(cluster: Cluster, database: str, path: Path) -> None:
    subprocess.run(
        [cluster.bin["pg_restore"], "--no-owner", "--exit-on-error", "-h", "127.0.0.1", "-p", str(cluster.port),
         "-U", "postgres", "-d", database, str(path)],
        check=True, capture_output=True, timeout=300,
    )


@pytest.fixture
def clusters():
    started = []

    def start(name: str) -> Cluster:
        cluster = Cluster(name)
        started.append(cluster)
        return cluster

    yield start
    for cluster in reversed(started):
        cluster.stop()


@pytest.fixture
def sites():
    started = []

    def start(database_url: str) -> Site:
        site = Site(database_url)
        started.append(site)
        return site

    yield start
    for site in started:
        site.stop()


# --- The test ------------------------------------------------------------------------------------


def test_sync_stays_complete_across_a_restore_into_a_fresh_cluster(clusters, sites, tmp_path):
    cluster_a = clusters("a")
    cluster_a.create_database("rcf")
    cluster_a.burn_transaction_ids(5000)  # a cluster in use for a while: its counter is far ahead
    key = prepare_site(cluster_a.url("rcf"))
    site_a = sites(cluster_a.url("rcf"))
    live, deleted = populate(site_a.client(key))
    assert len(live) == 48 and len(deleted) == 12

    before = SyncClient(site_a.client(key), "projects", page_size=7)
    sync_fully(before, live | deleted)
    assert set(before.records) == live and set(before.tombstones) == deleted
    old_cursor = before.cursor
    site_a.stop()

    backup = tmp_path / "rcf.dump"
    dump(cluster_a, "rcf", backup)
    cluster_b = clusters("b")  # fresh: its counter is behind every stamp in the backup
    cluster_b.create_database("rcf")
    restore(cluster_b, "rcf", backup)
    manage(cluster_b.url("rcf"), "migrate", "--no-input")  # the README's procedure; nothing else
    with cluster_b.connect("rcf") as conn:
        lowest_stamp = conn.execute("SELECT min(sync_txid) FROM projects_cooperativeproject").fetchone()[0]
    assert cluster_b.next_txid() < lowest_stamp, "the hazard: B's transactions count below every restored stamp"

    site_b = sites(cluster_b.url("rcf"))
    # (a) A full sync right after the restore, before anything is written
    # on B, returns every live record and every tombstone, as they were.
    fresh = SyncClient(site_b.client(key), "projects", page_size=7)
    sync_fully(fresh, live | deleted)
    assert set(fresh.records) == live and set(fresh.tombstones) == deleted
    assert fresh.records == before.records
    assert fresh.tombstones == before.tombstones

    # (b) A cursor issued before the restore answers 410: sync in full.
    response = site_b.client(key).get(PROJECTS, params={"since": old_cursor})
    assert response.status_code == 410, response.text
    assert "restored" in response.json()["detail"]

    # (c) Every change made after the restore reaches a client that synced
    # after it: the one above (cursor from before any write on B) and one
    # that syncs in full after the first writes.
    http = site_b.client(key)
    edited = sorted(live)[:3]
    for pk in edited:
        version = http.get(f"{PROJECTS}{pk}/").json()["version"]
        response = http.patch(f"{PROJECTS}{pk}/", json={"title": f"Edited on B {pk}"},
                              headers={"If-Match": f'"{version}"'})
        assert response.status_code == 200, response.text
    dropped = sorted(live)[-1]
    version = http.get(f"{PROJECTS}{dropped}/").json()["version"]
    assert http.delete(f"{PROJECTS}{dropped}/", headers={"If-Match": f'"{version}"'}).status_code == 204
    created = http.post(PROJECTS, json={"title": "Created on B", "priority_area": "maritime-security",
                                        "lead_side": "us"})
    assert created.status_code == 201, created.text
    created_id = created.json()["id"]
    live = (live - {dropped}) | {created_id}
    deleted = deleted | {dropped}

    changes = fresh.sync_until(lambda c: created_id in c.records and dropped in c.tombstones, timeout=20)
    assert {item["id"] for item in changes} == {*edited, dropped, created_id}
    assert all(fresh.records[pk]["title"] == f"Edited on B {pk}" for pk in edited)
    assert set(fresh.records) == live and set(fresh.tombstones) == deleted

    after = SyncClient(site_b.client(key), "projects", page_size=7)
    sync_fully(after, live | deleted)
    assert after.records == fresh.records and after.tombstones == fresh.tombstones

    # The client turned away in (b) syncs in full and is whole again; later
    # changes keep reaching everyone.
    before.session, before.cursor = site_b.client(key), ""
    before.records.clear()
    before.tombstones.clear()
    sync_fully(before, live | deleted)
    assert before.records == fresh.records
    response = http.patch(f"{PROJECTS}{created_id}/", json={"summary": "Later"}, headers={"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    for client in (before, fresh, after):
        client.sync_until(lambda c: c.records[created_id]["summary"] == "Later", timeout=20)
        assert client.records[created_id]["summary"] == "Later"


# --- The epoch in process: legacy cursors, a new epoch ------------------------------------------


@pytest.fixture
def feed_client(viewer):
    from rest_framework.test import APIClient

    from rcf.models import ApiToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(user=viewer, name='tests')[1]}")
    return client


def full_feed(client) -> tuple[list[dict], str]:
    from tests.api.conftest import settle

    settle()
    items, response = [], client.get(PROJECTS, {"since": ""})
    while True:
        assert response.status_code == 200, response.json()
        items += response.json()["results"]
        if response.json()["next"] is None:
            return items, response.json()["cursor"]
        response = client.get(response.json()["next"])


@pytest.mark.django_db(transaction=True)
def test_a_cursor_from_before_epochs_still_works_and_a_new_epoch_turns_cursors_away(feed_client, make_project):
    from django.core import signing
    from django.core.management import call_command

    from tests.api.conftest import settle

    salt = "rcf.sync-cursor.projects.cooperativeproject"
    first = make_project(title="First")
    items, cursor = full_feed(feed_client)
    assert [i["id"] for i in items] == [first.pk]
    assert signing.loads(cursor, salt=salt)[0] == 1  # [epoch, sync_txid, id]
    # A cursor as clients held them before this release, [sync_txid, id]: the first epoch.
    stamp = type(first).all_objects.values_list("sync_txid", flat=True).get(pk=first.pk)
    legacy = signing.dumps([stamp, first.pk], salt=salt)
    second = make_project(title="Second")
    settle()
    response = feed_client.get(PROJECTS, {"since": legacy})
    assert response.status_code == 200, response.json()
    assert [i["id"] for i in response.json()["results"]] == [second.pk]

    # After a restore the database cannot tell apart (point-in-time recovery).
    call_command("restore_database", new_epoch_only=True, stdout=io.StringIO())
    for old in (cursor, legacy):
        response = feed_client.get(PROJECTS, {"since": old})
        assert response.status_code == 410
        assert response.json()["detail"].startswith("This sync cursor was issued before the database was restored")
    items, cursor = full_feed(feed_client)
    assert {i["id"] for i in items} == {first.pk, second.pk}
    third = make_project(title="Third")
    settle()
    response = feed_client.get(PROJECTS, {"since": cursor})
    assert [i["id"] for i in response.json()["results"]] == [third.pk]
