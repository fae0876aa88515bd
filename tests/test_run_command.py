"""``make run`` (issue 13): a port in use is said at once, before any set-up,
and the links the site writes (SITE_URL) follow HOST and PORT."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed (apt-get install make)")


def test_a_port_in_use_is_said_at_once_and_nothing_starts():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(["make", "--no-print-directory", "run", f"PORT={port}"], cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert f"port {port} is in use" in result.stderr
    assert elapsed < 5, elapsed  # not after installing, migrating and starting a worker
    assert "honcho" not in result.stdout and "seed_demo" not in result.stdout


def test_the_site_links_follow_the_port_make_run_serves_on():
    plan = subprocess.run(["make", "--no-print-directory", "-n", "run", "PORT=8731"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60).stdout
    start = next(line for line in plan.splitlines() if "honcho" in line)
    assert "PORT=8731" in start and "SITE_URL=${SITE_URL:-http://127.0.0.1:8731}" in start


def test_make_test_leaves_nothing_in_the_broker_folder():
    """Without Redis the suite's tasks go to the embedded broker's folder: `make test` gives the run a
    temporary one. A test that queues a notice, run through `make test`, adds nothing under var/celery."""
    queue = ROOT / "var" / "celery" / "queue"
    before = sorted(p.name for p in queue.iterdir()) if queue.exists() else []
    env = {key: value for key, value in os.environ.items()
           if key not in ("REDIS_URL", "DATABASE_URL", "RCF_REQUIRE_REAL_SERVICES", "RCF_CELERY_DIR")}
    test = ("tests/scm_reports/test_flags.py"
            "::test_the_task_raises_flags_and_queues_notices_and_the_next_run_requeues_unsent")
    result = subprocess.run(["make", "--no-print-directory", "test", f"PYTEST_ARGS=-q -p no:cacheprovider {test}"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
    after = sorted(p.name for p in queue.iterdir()) if queue.exists() else []
    assert after == before
