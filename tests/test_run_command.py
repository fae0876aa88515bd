"""``make run`` (issue 13): a port in use is said at once, before any set-up,
and the links the site writes (SITE_URL) follow HOST and PORT."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
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
    start = plan[plan.index("trap true INT"):plan.index("honcho")]
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


def _processes_with(marker: str) -> list[int]:
    """Processes whose environment carries ``marker``: honcho starts web, worker and beat in sessions of
    their own, so the process group of `make` does not cover them."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone, or not ours to read
            continue
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("how", ["ctrl-c", "terminal closed"])
def test_make_run_logs_no_noise_and_ctrl_c_stops_everything_without_a_make_error(how):
    """The default log has no Celery "superuser privileges" warning, no kombu "No hostname was supplied",
    not three lines every five seconds for the outbox drain; Ctrl-C (SIGINT to the terminal's process
    group) stops web, worker and beat and says so, with no "make: *** ... Error 130". A closed terminal
    (SIGHUP to the group) stops them too: honcho runs them in sessions of their own."""
    port, marker = _free_port(), f"RCF_RUN_TEST_{uuid.uuid4().hex}"
    env = {key: value for key, value in os.environ.items()
           if key not in ("REDIS_URL", "DATABASE_URL", "RCF_CELERY_DIR", "RCF_REQUIRE_REAL_SERVICES")}
    env[marker] = "1"
    log_path = ROOT / "var" / f"run-test-{port}.log"
    log_path.parent.mkdir(exist_ok=True)
    with open(log_path, "w+b") as log:
        run = subprocess.Popen(["make", "--no-print-directory", "run", f"PORT={port}"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                               # As from a terminal: HUP not ignored, even when the suite itself runs under
                               # nohup (a shell cannot trap a signal ignored when it started).
                               preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                text = log_path.read_text(errors="replace")
                if "celery@" in text and " ready." in text and "beat: Starting" in text:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                            if answer.status == 200:
                                break
                    except OSError:
                        pass
                assert run.poll() is None, text[-3000:]
                time.sleep(1)
            else:
                raise AssertionError("make run did not start in 240 s:\n" + log_path.read_text()[-3000:])
            time.sleep(12)  # two outbox drains (every 5 s) go by
            # What Ctrl-C in a terminal does, or closing the terminal.
            os.killpg(run.pid, signal.SIGINT if how == "ctrl-c" else signal.SIGHUP)
            run.wait(timeout=60)
            for _ in range(40):  # web, worker and beat finish their own shutdown
                left = _processes_with(marker)
                if not left:
                    break
                time.sleep(0.5)
        finally:
            for pid in _processes_with(marker):
                os.kill(pid, signal.SIGKILL)
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
    text = log_path.read_text(errors="replace")
    log_path.unlink()
    if how == "ctrl-c":
        assert "Error 130" not in text and "make: ***" not in text, text[-2000:]
        assert "RCF Tracker stopped." in text
    assert "superuser privileges" not in text
    assert "No hostname was supplied" not in text
    assert "Task rcf.tasks.outbox_drain[" not in text and "Sending due task outbox-drain" not in text, text[-2000:]
    assert "celery@" in text and "beat: Starting" in text  # the worker's and beat's start still show
    assert left == [], "still running after make run ended"


def test_pytest_run_directly_leaves_nothing_in_the_broker_folder_either():
    """An IDE or `pytest tests/…` without make: the suite's conftest gives the run a folder of its own."""
    queue = ROOT / "var" / "celery" / "queue"
    before = sorted(p.name for p in queue.iterdir()) if queue.exists() else []
    env = {key: value for key, value in os.environ.items()
           if key not in ("REDIS_URL", "DATABASE_URL", "RCF_REQUIRE_REAL_SERVICES", "RCF_CELERY_DIR")}
    test = ("tests/scm_reports/test_flags.py"
            "::test_the_task_raises_flags_and_queues_notices_and_the_next_run_requeues_unsent")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             test], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
    after = sorted(p.name for p in queue.iterdir()) if queue.exists() else []
    assert after == before
