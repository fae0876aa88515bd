"""Fixtures for the sync API tests: tokens, clients, and a sync client that
keeps a local copy the way another ministry's system would."""

from __future__ import annotations

import datetime
import time

import pytest
import requests
from django.db import connection
from django.test.client import Client as DjangoClient
from rest_framework.test import APIClient

from rcf.models import ApiToken
from scm_reports.models import SCMCycle

from . import contract

API = "/api/v1"


@pytest.fixture(autouse=True)
def _contract(monkeypatch):
    """Every answer an API test receives is validated against the schema
    (tests/api/contract.py): in process through Django's test client (which
    DRF's APIClient extends) and over real HTTP through ``requests``."""
    django_request = DjangoClient.request
    requests_request = requests.Session.request

    def checked_django(self, **kwargs):
        response = django_request(self, **kwargs)
        contract.check_django(response)
        return response

    def checked_requests(self, method, url, *args, **kwargs):
        response = requests_request(self, method, url, *args, **kwargs)
        contract.check_requests(response)
        return response

    monkeypatch.setattr(DjangoClient, "request", checked_django)
    monkeypatch.setattr(requests.Session, "request", checked_requests)


@pytest.fixture(autouse=True)
def _generous_rates(settings):
    """Rates high enough that no test but the throttle test meets a 429."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100000/minute", "anon": "100000/minute"},
    }
    settings.RCF_API_BAD_TOKEN_RATE = "100000/minute"


@pytest.fixture
def scm_2026(db):
    """The 58th SCM, on 5 Nov 2026 (no cycle is seeded for 2026)."""
    return SCMCycle.objects.create(number=58, year=2026, meeting_date=datetime.date(2026, 11, 5), location="Washington")


def issue_key(user, *, read_only=False) -> str:
    return ApiToken.issue(user=user, name="tests", read_only=read_only)[1]


@pytest.fixture
def api_client():
    """An in-process client for ``user`` (token auth): ``api_client(user)``."""

    def make(user, *, read_only=False):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {issue_key(user, read_only=read_only)}")
        return client

    return make


class HttpClient(requests.Session):
    """requests against the live server, with a token."""

    def __init__(self, base_url: str, key: str | None):
        super().__init__()
        self.base_url = base_url.rstrip("/")
        if key:
            self.headers["Authorization"] = f"Token {key}"

    def request(self, method, url, *args, **kwargs):
        if url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 60)
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def http(live_server):
    """A real HTTP client of the live server for ``user``: ``http(user)``."""
    sessions = []

    def make(user=None, *, read_only=False):
        session = HttpClient(live_server.url, issue_key(user, read_only=read_only) if user else None)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


class SyncClient:
    """A sync client as the API documents it: a full sync from ``since=``,
    then incremental syncs from the last cursor, upserting records and
    dropping tombstones in a local copy."""

    def __init__(self, session, resource: str, page_size: int = 3):
        self.session = session
        self.resource = resource
        self.page_size = page_size
        self.cursor = ""
        self.records: dict[int, dict] = {}
        self.tombstones: dict[int, dict] = {}
        self.pages = 0

    def sync(self) -> list[dict]:
        """Follow the feed from the cursor to its last page; return the changes."""
        url = f"{API}/{self.resource}/"
        params = {"since": self.cursor, "page_size": self.page_size}
        changes = []
        while url:
            response = self.session.get(url, params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            self.pages += 1
            for item in body["results"]:
                changes.append(item)
                if item.get("deleted"):
                    self.records.pop(item["id"], None)
                    self.tombstones[item["id"]] = item
                else:
                    self.records[item["id"]] = item
                    self.tombstones.pop(item["id"], None)
            self.cursor = body["cursor"]
            url, params = body["next"], None
        return changes

    def sync_until(self, predicate, *, timeout: float = 15.0) -> list[dict]:
        """Sync again until ``predicate(self)`` holds; return every change
        received. On PostgreSQL the feed holds back rows while any older
        transaction of the cluster is still running (the safe horizon), so a
        change may need another round; a lost change never arrives and the
        predicate then fails."""
        deadline = time.monotonic() + timeout
        changes = self.sync()
        while not predicate(self) and time.monotonic() < deadline:
            time.sleep(0.2)
            changes += self.sync()
        return changes


def settle(timeout: float = 20.0) -> None:
    """On PostgreSQL, wait until every transaction that had written anything
    by now has finished, anywhere in the cluster (transaction ids are
    cluster-wide, so another database's test run counts too). Until then the
    sync feed rightly holds back newer rows: tests that expect to see their
    own committed writes wait for this first."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
        (target,) = cursor.fetchone()
        while True:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            if cursor.fetchone()[0] >= target or time.monotonic() > deadline:
                return
            time.sleep(0.05)
