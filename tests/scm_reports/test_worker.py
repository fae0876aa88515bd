"""The job in a real `celery worker` process, against the configured broker
(Redis in CI) and the test database (PostgreSQL in CI)."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from scm_reports.models import ReadinessFlag, ReadinessNotice
from scm_reports.tasks import flag_unready_years
from tests.factories import PointOfContactFactory
from tests.processes import current_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(tmp_path):
    queue = f"rcf-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": current_database_url(),
        "CELERY_QUEUE": queue,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "rcf", "worker", "--pool=solo", "--concurrency=1",
         "-Q", queue, "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        yield {"queue": queue, "mail": tmp_path / "mail", "log": tmp_path / "worker.log", "proc": proc}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_job_raises_the_flags_and_mails_the_lead_pocs(worker):
    PointOfContactFactory(side="us", is_lead=True, email="us.lead@example.org")
    PointOfContactFactory(side="rok", is_lead=True, email="rok.lead@example.org")

    result = flag_unready_years.apply_async(kwargs={"today": "2026-03-01"}, queue=worker["queue"])
    try:
        payload = result.get(timeout=120)
    except Exception:
        print(worker["log"].read_text())
        raise
    assert payload["raised"] == [{"year": 2025, "kind": "missed"}, {"year": 2026, "kind": "unscheduled"}]
    assert sorted(ReadinessFlag.objects.filter(resolved_at__isnull=True).values_list("year", "kind")) == [
        (2025, "missed"),
        (2026, "unscheduled"),
    ]
    # The worker then ran the queued notice tasks: one e-mail per lead POC and flag.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and ReadinessNotice.objects.count() < 4:
        time.sleep(0.5)
    assert ReadinessNotice.objects.count() == 4
    mails = "".join(p.read_text() for p in worker["mail"].glob("*.log"))
    assert mails.count("To: us.lead@example.org") == 2
    assert mails.count("To: rok.lead@example.org") == 2
    assert "Subject: [RCF Tracker] 2025: readiness missed (57th SCM)" in mails
    assert worker["proc"].poll() is None, "the worker died"
    assert settings.CELERY_BROKER_URL  # the configured broker, not an eager shortcut
