"""gunicorn's settings for the web container (Dockerfile, docker-compose.yml) and the load
benchmark (``python -m bench load``): ``gunicorn -c deploy/gunicorn.conf.py rcf.wsgi:application``.

Why these (README, "Load benchmark"):

* **gthread workers, cores + 1 processes x 4 threads** (3 x 4 on 2 cores). A request spends a
  good part of its time waiting for PostgreSQL; a thread that waits releases the GIL, so another
  request of the same process runs meanwhile. With sync workers a slow page (the dashboard, an
  export's first page) holds its whole process, and the fast API pages queued behind it wait:
  that is the p99. One process more than cores keeps every core busy while one process's threads
  all wait. Each thread keeps its own database connection (``CONN_MAX_AGE``, rcf/settings.py), so
  PostgreSQL sees at most workers x threads connections from one web container (12 here): keep
  that under its ``max_connections`` with every container counted.
* **timeout 30 s**, above ``RCF_DB_STATEMENT_TIMEOUT_MS`` (20 s): a runaway query is stopped by
  the database and answered 503 before gunicorn would kill the worker.
* **keep-alive 5 s**: the proxy (deploy/Caddyfile) reuses its connections to gunicorn (gthread
  supports keep-alive; the sync worker closes every connection).

Override with the environment: ``GUNICORN_WORKERS``, ``GUNICORN_THREADS`` (1: the sync worker),
``GUNICORN_TIMEOUT``, ``GUNICORN_BIND``.
"""

import os


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS") or _cores() + 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30
keepalive = 5
accesslog = "-"
