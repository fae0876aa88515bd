"""Issue 14: the mixed load benchmark. gunicorn with the production settings
(``DJANGO_ENV=production``, ``DEBUG`` off, the workers and threads of
``deploy/gunicorn.conf.py``) serves the bench database on loopback, and an
asyncio client (aiohttp) drives it at concurrency 4, 16 and 64 with the mix
of the issue:

* 60% API list pages of 50 (``GET /api/v1/projects/?page=…&sort=…``) with an
  API token: mostly the first pages in the default sort, some deep pages and
  other sorts, spread over 16 sync clients (each its own user and token, as
  the per-user API throttle counts them);
* 20% the dashboard ``GET /`` with a signed-in session (a few with a filter);
* 10% the project list search ``GET /projects/?q=<term>`` with a session,
  the terms drawn as a user types them (``search_terms``): 30% a common word
  of the titles (the fill's vocabulary is small: each is in most projects),
  10% a Korean word, 15% two words or a whole title (rare), 15% a title's
  number (rare: a handful of projects), 15% an external id (exact, one
  project, or none when the id is made up), 15% a misspelt word or one the
  projects do not use (no or few results);
* 10% ``PATCH /api/v1/projects/<id>/`` of the summary with ``If-Match``: the
  version the client last saw of that project (from its previous sync, then
  from its own last answer), on 200 projects shared by the 16 clients, so
  writers meet: a 412 (another client changed it since) is expected, counted
  apart and not an error; its answer's ETag is used next time.

Each level runs for ``--load-seconds`` (default 30) or ``--load-requests``
requests, whichever comes first, after one unmeasured warm-up. Reported per
level: throughput, p50/p95/p99 overall and per kind, answers by status (any
5xx fails the run; the first few bodies are printed), the PostgreSQL
connections the web workers hold (sampled from ``pg_stat_activity`` every
0.2 s: open and active, max and mean, and how many distinct server processes
served them: with persistent connections, ``CONN_MAX_AGE`` in rcf/settings.py,
60 s by default on PostgreSQL, each gunicorn thread keeps one, so the count
stays at most workers x threads instead of one per request), and the CPU time per request of
gunicorn and of its PostgreSQL backends: unlike the latencies, it does not
depend on what else the machine runs. gunicorn runs in a process group of its
own and is stopped on every way out (Ctrl-C included)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import quote_plus

from . import common

LEVELS = tuple(int(n) for n in os.environ.get("BENCH_LOAD_LEVELS", "4,16,64").split(","))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "30"))
MAX_REQUESTS = int(os.environ.get("BENCH_LOAD_REQUESTS", "20000"))
WARMUP_SECONDS = 5.0
MIX = {"api list": 60, "dashboard": 20, "search": 10, "patch": 10}
API_CLIENTS = 16  # sync clients, each with its own user and token
SESSION_USERS = 4  # signed-in staff (viewer and editor roles) for the pages
HOT_PROJECTS = 200  # the projects the writers PATCH: few enough that they meet
APP_NAME = "rcf-bench-web"  # application_name of the web workers' connections
BASE_DIR = Path(__file__).resolve().parent.parent
CONFIG = BASE_DIR / "deploy" / "gunicorn.conf.py"
# Answers that are not errors, per kind (412: a writer met another).
EXPECTED = {"api list": {200}, "dashboard": {200}, "search": {200}, "patch": {200, 412}}
API_SORTS = ["-updated", "updated", "title", "-title", "status", "-status", "area", "priority", "scm_year",
             "-ready_on"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn on loopback in its own process group, stopped on exit."""

    def __init__(self, env: dict, log_path: str):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        command = [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "--bind", f"127.0.0.1:{self.port}",
                   "rcf.wsgi:application"]
        self.log = open(self.log_path, "wb")  # noqa: SIM115 (closed in __exit__)
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                message = f"gunicorn exited with {self.process.returncode}:\n{self.tail()}"
                self.stop()
                raise RuntimeError(message)
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return self
            time.sleep(0.2)
        message = f"gunicorn did not listen within 60 s:\n{self.tail()}"
        self.stop()
        raise RuntimeError(message)

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        """SIGTERM to the group (the master stops its workers gracefully), SIGKILL after 30 s; then SIGKILL
        to whatever is left of the group (workers of a master that died). Safe to call twice."""
        if self.process is None:
            return
        try:
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            if not self.log.closed:
                self.log.close()

    def settings(self) -> str:
        """Workers, threads and worker class as gunicorn.conf.py resolves them in the server's environment."""
        out = subprocess.run([sys.executable, "-c", f"exec(open({str(CONFIG)!r}).read()); "
                              "print(f'{workers} workers x {threads} threads ({worker_class}), timeout {timeout} s, '"
                              "f'keep-alive {keepalive} s')"], env=self.env, capture_output=True, text=True)
        return out.stdout.strip() or out.stderr.strip()[-200:]

    def tail(self, lines: int = 30) -> str:
        self.log.flush()
        return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-lines:])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere or once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _group_cpu_seconds(pgid: int) -> float:
    """CPU time of every live process in a process group (gunicorn's master and workers)."""
    total = 0.0
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    total += _cpu_seconds(int(entry.name))
    return total


class ConnectionSampler(threading.Thread):
    """Every 0.2 s while a level runs: the web workers' PostgreSQL connections
    (open, active) and the CPU time their server processes have used (when
    PostgreSQL runs on this machine, as the bench's does); and at each end, the
    CPU time of gunicorn's processes. CPU per request tells what one request
    costs whatever else the machine is doing."""

    def __init__(self, dsn: str, pgid: int):
        super().__init__(daemon=True)
        self.dsn = dsn
        self.pgid = pgid
        self.samples: list[tuple[int, int]] = []
        self.backend_cpu: dict[int, list[float]] = {}  # pid -> [first seen, last seen]
        self.running = threading.Event()
        self.done = threading.Event()
        self.web_cpu_start = 0.0

    def run(self):
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.done.is_set():
                if self.running.is_set():
                    rows = conn.execute("SELECT pid, state FROM pg_stat_activity WHERE application_name = %s",
                                        [APP_NAME]).fetchall()
                    self.samples.append((len(rows), sum(1 for _, state in rows if state == "active")))
                    for pid, _state in rows:
                        used = _cpu_seconds(pid)
                        self.backend_cpu.setdefault(pid, [used, used])[1] = used
                self.done.wait(0.2)

    def begin(self):
        self.samples, self.backend_cpu = [], {}
        self.web_cpu_start = _group_cpu_seconds(self.pgid)
        self.running.set()

    def end(self) -> tuple[list[tuple[int, int]], float, float, int]:
        """(samples, gunicorn CPU seconds, PostgreSQL CPU seconds, server processes seen) since begin()."""
        self.running.clear()
        time.sleep(0.3)  # let a sample under way finish
        web = _group_cpu_seconds(self.pgid) - self.web_cpu_start
        db = sum(last - first for first, last in self.backend_cpu.values())
        return self.samples, web, db, len(self.backend_cpu)


class Mix:
    """What the clients ask for: the requests of the issue's mix, drawn at random."""

    def __init__(self, *, base_url, tokens, sessions, hot_ids, versions, terms, areas, years, pages, seed=14):
        self.base = base_url
        self.tokens = tokens
        self.sessions = sessions
        self.hot_ids = hot_ids
        self.terms = terms
        self.areas = areas
        self.years = years
        self.pages = pages
        # What each sync client last saw of each project: the version its last sync gave (If-Match takes
        # the version alone), then the ETag of its own last answer. Another client's write makes it stale.
        self.versions = [{pk: f'"{version}"' for pk, version in versions.items()} for _ in tokens]
        self.random = random.Random(seed)
        self.kinds = list(MIX)
        self.weights = list(MIX.values())

    def common_headers(self, client: int) -> dict:
        # As the proxy in front (deploy/Caddyfile) sends them: the client's address, HTTPS.
        return {"X-Forwarded-Proto": "https", "X-Forwarded-For": f"10.0.{client // 250}.{client % 250 + 1}",
                "Accept-Encoding": "gzip"}

    def api_page(self) -> int:
        r = self.random.random()
        if r < 0.6:
            return self.random.randint(1, min(10, self.pages))
        if r < 0.9:
            return self.random.randint(1, min(200, self.pages))
        return self.random.randint(1, self.pages)

    def request(self, client: int) -> tuple[str, str, str, dict, dict | None]:
        """(kind, method, url, headers, json body)"""
        kind = self.random.choices(self.kinds, self.weights)[0]
        headers = self.common_headers(client)
        if kind == "api list":
            headers["Authorization"] = f"Token {self.tokens[client % len(self.tokens)]}"
            sort = "-updated" if self.random.random() < 0.5 else self.random.choice(API_SORTS)
            return kind, "GET", f"{self.base}/api/v1/projects/?page={self.api_page()}&sort={sort}", headers, None
        if kind in ("dashboard", "search"):
            headers["Cookie"] = f"sessionid={self.sessions[client % len(self.sessions)]}"
            if kind == "search":
                term = quote_plus(self.random.choice(self.terms))
                return kind, "GET", f"{self.base}/projects/?q={term}", headers, None
            r = self.random.random()
            query = (f"?year={self.random.choice(self.years)}" if r < 0.1 and self.years
                     else f"?area={self.random.choice(self.areas)}" if r < 0.2 and self.areas else "")
            return kind, "GET", f"{self.base}/{query}", headers, None
        headers["Authorization"] = f"Token {self.tokens[client % len(self.tokens)]}"
        pk = self.random.choice(self.hot_ids)
        url = f"{self.base}/api/v1/projects/{pk}/"
        headers["If-Match"] = self.versions[client % len(self.tokens)][pk]
        body = {"summary": f"Load bench edit {secrets.token_hex(4)} by client {client}."}
        return kind, "PATCH", url, headers, body


async def _drive(mix: Mix, concurrency: int, seconds: float, max_requests: int) -> dict:
    import aiohttp

    results: list[tuple[str, int, float]] = []  # (kind, status or 0 for a failed connection, seconds)
    bodies: list[str] = []
    issued = 0
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    start = time.perf_counter()
    deadline = start + seconds
    last_end = start

    async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=True,
                                     cookie_jar=aiohttp.DummyCookieJar()) as session:
        async def client(number: int):
            nonlocal issued, last_end
            while time.perf_counter() < deadline and issued < max_requests:
                issued += 1
                kind, method, url, headers, body = mix.request(number)
                began = time.perf_counter()
                try:
                    async with session.request(method, url, headers=headers, json=body,
                                               allow_redirects=False) as response:
                        content = await response.read()
                        status = response.status
                        etag = response.headers.get("ETag")
                except (TimeoutError, aiohttp.ClientError) as exc:
                    status, content, etag = 0, repr(exc).encode(), None
                ended = time.perf_counter()
                last_end = max(last_end, ended)
                results.append((kind, status, ended - began))
                if kind == "patch" and etag and status in (200, 412):  # a 412 carries the record as it is now
                    mix.versions[number % len(mix.tokens)][int(url.rstrip("/").rsplit("/", 1)[1])] = etag
                if (status == 0 or status >= 500) and len(bodies) < 3:
                    bodies.append(f"{kind} {method} {url} -> {status}: {content[:800].decode(errors='replace')}")

        await asyncio.gather(*(client(n) for n in range(concurrency)))
    return {"results": results, "bodies": bodies, "elapsed": last_end - start}


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        v = values[0] if values else 0.0
        return v, v, v
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[94], q[98]


def _level_report(concurrency: int, outcome: dict, samples: list[tuple[int, int]], web_cpu: float,
                  db_cpu: float, backends: int = 0) -> dict:
    results, elapsed = outcome["results"], outcome["elapsed"]
    throughput = len(results) / elapsed if elapsed else 0.0
    p50, p95, p99 = _percentiles([r[2] for r in results])
    statuses = Counter(r[1] for r in results)
    errors = Counter(f"{kind} {status or 'no answer'}" for kind, status, _ in results
                     if status not in EXPECTED[kind])
    server_errors = sum(n for status, n in statuses.items() if status == 0 or status >= 500)
    conflicts = sum(1 for kind, status, _ in results if kind == "patch" and status == 412)
    print(f"\n  concurrency {concurrency}: {len(results):,} requests in {elapsed:.1f} s = {throughput:.1f} req/s; "
          f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
    by_kind = defaultdict(list)
    for kind, status, seconds in results:
        by_kind[kind].append((status, seconds))
    print(f"    {'kind':<22} {'requests':>8} {'p50':>8} {'p95':>8} {'p99':>8}   answers")
    for kind in MIX:
        rows = by_kind.get(kind)
        if not rows:
            continue
        k50, k95, k99 = _percentiles([s for _, s in rows])
        answers = ", ".join(f"{status or 'no answer'}: {n:,}"
                            for status, n in sorted(Counter(s for s, _ in rows).items()))
        print(f"    {kind:<22} {len(rows):>8,} {k50 * 1000:>6.0f}ms {k95 * 1000:>6.0f}ms {k99 * 1000:>6.0f}ms"
              f"   {answers}")
    print(f"    PATCH 412 (a writer met another; expected, not an error): {conflicts:,}")
    print(f"    errors by status: {dict(errors) if errors else 'none'}")
    for body in outcome["bodies"]:
        print(f"    first failing answers: {body}")
    if samples:
        opened = [s[0] for s in samples]
        active = [s[1] for s in samples]
        print(f"    PostgreSQL connections of the web workers ({len(samples)} samples): open max {max(opened)}, "
              f"mean {statistics.fmean(opened):.1f}; active max {max(active)}, mean {statistics.fmean(active):.1f}; "
              f"{backends} server processes served {len(results):,} requests (persistent connections: one "
              "per gunicorn thread, renewed after CONN_MAX_AGE; not one per request)")
    cpu_ms = None
    if results and web_cpu:
        cpu_ms = (web_cpu / len(results) * 1000, db_cpu / len(results) * 1000)
        print(f"    CPU per request: gunicorn {cpu_ms[0]:.1f} ms, PostgreSQL {cpu_ms[1]:.1f} ms "
              f"(a ceiling of {os.cpu_count() * 1000 / sum(cpu_ms):.0f} req/s on this machine's {os.cpu_count()} "
              "cores with nothing else running)")
    return {"cpu_ms": cpu_ms, "throughput": throughput, "p50": p50, "p95": p95, "p99": p99,
            "server_errors": server_errors,
            "errors": sum(errors.values()), "requests": len(results),
            "kinds": {k: _percentiles([s for _, s in v]) for k, v in by_kind.items()},
            "connections": (max(s[0] for s in samples) if samples else 0), "backends": backends}


def _probe(token: str, session_key: str, project_id: int, version: int) -> dict[str, tuple]:
    """One request of each kind through Django's test client in this process (same code, no HTTP):
    kind -> (status, queries, Python CPU ms, wall ms), the medians of 5 after a warm-up. What each
    part of the mix costs the web server, apart from the others and from the load."""
    import json

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    token_client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {token}")
    page_client = Client(raise_request_exception=False)
    page_client.cookies["sessionid"] = session_key
    etag = [f'"{version}"']

    def patch():
        response = token_client.patch(f"/api/v1/projects/{project_id}/", json.dumps({"summary": "Probed."}),
                                      content_type="application/json", HTTP_IF_MATCH=etag[0])
        etag[0] = response.get("ETag", etag[0])
        return response

    probes = {
        "api list": lambda: token_client.get("/api/v1/projects/?page=3"),
        "api record": lambda: token_client.get(f"/api/v1/projects/{project_id}/"),
        "dashboard": lambda: page_client.get("/"),
        "search": lambda: page_client.get("/projects/?q=logistics"),
        "patch": patch,
        "healthz (no view work)": lambda: page_client.get("/healthz"),
    }
    out = {}
    for kind, probe in probes.items():
        probe()
        runs = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as queries:
                wall, cpu = time.perf_counter(), time.process_time()
                response = probe()
                runs.append((time.process_time() - cpu, time.perf_counter() - wall))
        out[kind] = (response.status_code, len(queries), statistics.median(r[0] for r in runs) * 1000,
                     statistics.median(r[1] for r in runs) * 1000)
    return out


def _prepare(secret_key: str) -> dict:
    """Users, tokens, sessions and the values the mix draws from."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    from projects.models import CooperativeProject
    from rcf.models import ApiToken, PriorityArea
    from scm_reports.services import roles_ensure
    from tests.factories import UserFactory

    roles_ensure()
    editor, viewer = Group.objects.get(name="editor"), Group.objects.get(name="viewer")
    run = secrets.token_hex(3)
    tokens = []
    for n in range(API_CLIENTS):
        user = UserFactory(username=f"bench-load-{run}-api-{n}")
        user.groups.set([editor])
        tokens.append(ApiToken.issue(user=user, name="load bench", read_only=False)[1])
    # Sessions signed with the server's SECRET_KEY (the session data and the user's auth hash are).
    settings.SECRET_KEY = secret_key
    sessions = []
    for n in range(SESSION_USERS):
        user = UserFactory(username=f"bench-load-{run}-staff-{n}")
        user.groups.set([editor if n % 2 else viewer])
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append(store.session_key)
    rng = random.Random(14)
    live = CooperativeProject.objects.filter(deleted_at__isnull=True)
    n_live = live.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, title, title_ko, external_id FROM projects_cooperativeproject "
                       "WHERE deleted_at IS NULL ORDER BY md5(id::text) LIMIT %s", [max(HOT_PROJECTS, 300)])
        rows = cursor.fetchall()
    hot_ids = [r[0] for r in rows[:HOT_PROJECTS]]
    versions = dict(CooperativeProject.objects.filter(pk__in=hot_ids).values_list("pk", "version"))
    probe_id = rows[-1][0]  # not one of the hot projects: the probe's PATCH leaves their versions alone
    terms = search_terms(rows, rng)
    areas = list(PriorityArea.objects.values_list("code", flat=True))
    years = list(range(common.FIRST_YEAR, common.FIRST_YEAR + 5))
    return {"tokens": tokens, "sessions": sessions, "hot_ids": hot_ids, "versions": versions, "terms": terms,
            "areas": areas, "years": years, "pages": max(1, -(-n_live // 50)), "probe_id": probe_id,
            "probe_version": CooperativeProject.objects.get(pk=probe_id).version}


def search_terms(rows: list[tuple], rng: random.Random, n: int = 200) -> list[str]:
    """``n`` search terms as users type them, from sample projects ``(id, title, title_ko, external_id)``:
    the mix of the module docstring. The fill's titles are a few vocabulary words and a number, so a
    single word matches most projects; a phrase, a number, an id or a typo matches few or none."""
    titles = [r[1] for r in rows]
    words = sorted({w.lower() for t in titles for w in t.split() if w.isalpha() and len(w) >= 4})
    korean = sorted({w for r in rows for w in (r[2] or "").split() if not w.isdigit()}) or words
    ids = [r[3] for r in rows if r[3]] or [str(r[0]) for r in rows]

    def phrase():
        parts = rng.choice(titles).split()
        if rng.random() < 0.5:
            return " ".join(parts)  # the whole title, as copied from a document
        start = rng.randrange(max(1, len(parts) - 2))
        return " ".join(parts[start:start + 2]).lower()

    def misspelt():
        if rng.random() < 0.3:
            return rng.choice(("tsunami", "biosecurity", "microgrid", "wildfire", "quantum"))  # no project says it
        word = list(rng.choice(words))
        at = rng.randrange(1, len(word) - 1)
        if rng.random() < 0.5:
            word[at], word[at + 1] = word[at + 1], word[at]  # swapped letters
        else:
            del word[at]  # a letter left out
        return "".join(word)

    kinds = [
        (30, lambda: rng.choice(words)),
        (10, lambda: rng.choice(korean)),
        (15, phrase),
        (15, lambda: rng.choice(titles).split()[-1]),  # the number a title ends with
        (15, lambda: rng.choice(ids) if rng.random() < 0.8 else f"bench-{rng.randrange(10**7, 10**8)}"),
        (15, misspelt),
    ]
    draw = [make for weight, make in kinds for _ in range(weight)]
    return [rng.choice(draw)() for _ in range(n)]


def _server_env(secret_key: str) -> dict:
    """The environment of a production web container (docker-compose.yml), on loopback."""
    from django.conf import settings

    url = os.environ["DATABASE_URL"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GUNICORN_", "DEBUG"))}
    env.update({
        "DJANGO_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "rcf.settings",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # As behind deploy/Caddyfile: the proxy sets X-Forwarded-Proto and -For (the client sends them here).
        "TRUST_X_FORWARDED_PROTO": "true",
        "TRUSTED_PROXY_COUNT": "1",
        "DATABASE_URL": url + ("&" if "?" in url else "?") + f"application_name={APP_NAME}",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONUNBUFFERED": "1",
    })
    for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS"):  # the operator's choice, if any (gunicorn.conf.py)
        if os.environ.get(name):
            env[name] = os.environ[name]
    if not env.get("REDIS_URL") and not env.get("CACHE_URL"):
        print("  (no REDIS_URL: the API throttles count per worker process, not shared as in production)")
    # Static files as the image has them (Dockerfile: collectstatic at build time), collected again when a file
    # under static/ is newer than the manifest (a page naming a file the manifest lacks would answer 500).
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    newest = max((f.stat().st_mtime for f in (BASE_DIR / "static").rglob("*") if f.is_file()), default=0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        print("  collecting static files (manifest storage, as the production image does)…", flush=True)
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=BASE_DIR,
                       env=env, check=True)
    return env


def run() -> bool:
    def interrupted(signum, frame):  # SIGTERM as Ctrl-C: the server is stopped on the way out
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupted), signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _run()
    except KeyboardInterrupt:
        print("\nInterrupted: gunicorn is stopped.", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def _run() -> bool:
    from django.db import connection

    secret_key = secrets.token_urlsafe(40)
    data = _prepare(secret_key)
    probes = _probe(data["tokens"][0], data["sessions"][0], data["probe_id"], data["probe_version"])
    env = _server_env(secret_key)
    dsn = common.dsn()
    connection.close()
    log_path = os.path.join(tempfile.gettempdir(), f"bench-load-gunicorn-{os.getpid()}.log")
    reports = {}
    ok = True
    first_error = None
    with Gunicorn(env, log_path) as server:
        sampler = ConnectionSampler(dsn, server.process.pid)
        sampler.start()
        try:
            banner = next((line.split("] ", 2)[-1] for line in server.tail(200).splitlines() if "Using worker" in line),
                          "")
            print(f"\nMixed load on {server.url}: gunicorn -c deploy/gunicorn.conf.py, {server.settings()} "
                  f"({banner.strip()})")
            print(f"  mix {MIX}; {len(data['tokens'])} API clients, {len(data['sessions'])} sessions, "
                  f"{len(data['hot_ids'])} projects written to, {data['pages']:,} API pages")
            print(f"  persistent database connections: CONN_MAX_AGE={env.get('CONN_MAX_AGE', '60 (the default)')} s "
                  "(rcf/settings.py), health checks on")
            print(f"  search terms (first 12 of {len(data['terms'])}): {', '.join(map(repr, data['terms'][:12]))}")
            print("  one request of each kind in this process (Django's test client, no HTTP; medians of 5):")
            for kind, (status, n, cpu_ms, wall_ms) in probes.items():
                print(f"    {kind:<24} {status}  {n:>3} queries  Python CPU {cpu_ms:6.1f} ms  wall {wall_ms:6.1f} ms")
            mix = Mix(base_url=server.url, **{k: v for k, v in data.items() if not k.startswith("probe_")})
            asyncio.run(_drive(mix, 4, WARMUP_SECONDS, MAX_REQUESTS))  # warm-up: imports, caches, connections
            for level in LEVELS:
                sampler.begin()
                outcome = asyncio.run(_drive(mix, level, SECONDS, MAX_REQUESTS))
                reports[level] = _level_report(level, outcome, *sampler.end())
                ok &= reports[level]["server_errors"] == 0
        finally:
            sampler.done.set()
            sampler.join()
        log = Path(log_path).read_text(errors="replace").splitlines()
        first_error = next((n for n, line in enumerate(log) if " ERROR " in line or "[ERROR]" in line
                            or "[CRITICAL]" in line or line.startswith("Traceback")), None)
        if first_error is not None:
            print(f"  gunicorn's log ({log_path}, kept) has errors; the first:\n    "
                  + "\n    ".join(log[first_error:first_error + 40]))
    if first_error is None:
        Path(log_path).unlink(missing_ok=True)

    # The target holds under load (16 and 64); at 4 the clients' own round trips bound it.
    loaded = [r["throughput"] for c, r in reports.items() if c >= 16] or [r["throughput"] for r in reports.values()]
    figures = ", ".join(f"{r['throughput']:.0f} at {c}" for c, r in reports.items())
    common.summary("mixed load: throughput (req/s at concurrency)", figures, "≥ 60 req/s", min(loaded) >= 60)
    if 16 in reports and 64 in reports:
        p99, errors = reports[16]["p99"] * 1000, reports[64]["server_errors"]
        common.summary("mixed load: p99 at concurrency 16 / 5xx at 64", f"{p99:,.0f} ms / {errors}",
                       "≤ 300 ms / 0", p99 <= 300 and errors == 0)
    for c, r in reports.items():
        kinds = "; ".join(f"{k} {v[0] * 1000:.0f}" for k, v in r["kinds"].items() if k in MIX)
        common.summary(f"mixed load at {c}: p50/p95/p99 (ms); p50 per kind",
                       f"{r['p50'] * 1000:.0f}/{r['p95'] * 1000:.0f}/{r['p99'] * 1000:.0f}; {kinds}", "-", None)
    common.summary("mixed load: Python CPU of one request per kind (ms)",
                   "; ".join(f"{k.split(' (')[0]} {v[2]:.0f}" for k, v in probes.items()), "-", None)
    common.summary("mixed load: PostgreSQL connections open (max) / server processes",
                   ", ".join(f"{r['connections']} / {r['backends']} at {c}" for c, r in reports.items()), "-", None)
    cpu = [r["cpu_ms"] for r in reports.values() if r["cpu_ms"]]
    if cpu:
        common.summary("mixed load: CPU per request, web + PostgreSQL (ms)",
                       ", ".join(f"{w:.0f} + {d:.0f}" for w, d in cpu), "-", None)
    return ok
