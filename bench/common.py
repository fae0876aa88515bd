"""Benchmark set-up and timing: a PostgreSQL database of its own, filled
with COPY (bench.fill), and contenders timed in turns.

Run with ``make bench`` (or ``python -m bench [name …]``) with ``DATABASE_URL``
pointing at a PostgreSQL server: the benchmarks create and fill
``<that database>_bench`` and never touch the database named in the URL.

Every comparison runs the baseline and the app in turns (B, A, B, A, …,
``BENCH_REPEAT`` = 7 of each after a warm-up) and prints min / median / max
of both, the ratio of the medians and that of the minimums: a moment of
machine noise hits both sides alike. Each benchmark first checks that its
baseline computes the same figures as the app.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from urllib.parse import urlparse, urlunparse

N_PROJECTS = int(os.environ.get("BENCH_PROJECTS", "100000"))
N_YEARS = int(os.environ.get("BENCH_YEARS", "60"))
FIRST_YEAR = 2025
REPEAT = int(os.environ.get("BENCH_REPEAT", "7"))


def _bench_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit("The benchmarks need PostgreSQL: set DATABASE_URL=postgres://… (a server you may create "
                 "databases on).")
    return urlunparse(parsed._replace(path=parsed.path + "_bench"))


def setup(*, fresh: bool = True) -> str:
    """Create (or reuse) the bench database, point Django at it, migrate."""
    import psycopg

    url = _bench_url()
    name = urlparse(url).path.lstrip("/")
    admin_url = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or fresh:
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcf.settings")
    import django

    django.setup()
    import logging

    from django.conf import settings

    # Production-like: DEBUG off (no query log, no template debugging); no log line per login.
    settings.DEBUG = False
    logging.getLogger("axes").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def dsn() -> str:
    from django.db import connection

    s = connection.settings_dict
    return (f"host={s['HOST']} port={s['PORT'] or 5432} dbname={s['NAME']} user={s['USER']}"
            + (f" password={s['PASSWORD']}" if s.get("PASSWORD") else ""))


def fill(*, projects: int | None = None, years: int = N_YEARS, seed: int = 42) -> dict[str, int]:
    """Fill the bench database with ``projects`` projects of a realistic shape
    (bench.fill), bring any derived tables the app keeps in line, and leave it
    as autovacuum would (visibility map set, statistics fresh)."""
    import psycopg
    from django.core.management import call_command, get_commands
    from django.db import connection

    from . import fill as filler

    projects = N_PROJECTS if projects is None else projects
    connection.close()
    with psycopg.connect(dsn()) as conn, psycopg.connect(dsn()) as writer:
        counts = filler.fill(conn, writer, projects=projects, years=years, first_year=FIRST_YEAR, seed=seed,
                             progress=lambda line: print(line, flush=True))
    # Summary rows a service (not a trigger) maintains are not written by COPY: rebuild them.
    if "rebuild_dashboard_counts" in get_commands():
        call_command("rebuild_dashboard_counts", verbosity=0)
    from projects.services import current_health_rebuild

    current_health_rebuild()  # each project's latest progress update health and date (issue 14)
    connection.close()
    with psycopg.connect(dsn(), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return counts


def median_seconds(fn, *, repeat: int = REPEAT) -> float:
    return statistics.median(interleaved({"only": fn}, repeat=repeat)["only"])


def interleaved(contenders: dict, *, repeat: int = REPEAT) -> dict[str, list[float]]:
    """Time each contender ``repeat`` times, taking turns (B, A, B, A, …) after
    one warm-up run each, so a noisy moment of the machine hits every side
    alike. Returns the seconds of every run, per contender."""
    for fn in contenders.values():
        fn()
    times = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


# One line per row of issue 14's table, collected while the benchmarks run and printed at the end.
SUMMARY: list[str] = []


def summary(measure: str, figure: str, target: str, met: bool | None) -> None:
    verdict = "" if met is None else ("  met" if met else "  NOT MET")
    SUMMARY.append(f"  {measure:<60} {figure:<46} target {target}{verdict}")


def report(title: str, times: dict[str, list[float]], *, baseline: str, target: float | None = None,
           informational: tuple[str, ...] = ()) -> float:
    """Print min / median / max of every contender and its ratio to
    ``baseline`` (of the medians, and of the minimums); the verdict is on the
    rows not marked informational. Returns the worst ratio of medians."""
    base = times[baseline]
    base_median, base_min = statistics.median(base), min(base)
    print(f"\n{title} ({len(base)} interleaved runs each)")
    print(f"  {'':<50} {'min':>10} {'median':>10} {'max':>10}   ratio (medians / mins)")
    worst = 0.0
    for name, runs in times.items():
        median = statistics.median(runs)
        ratio = median / base_median if base_median else float("inf")
        min_ratio = min(runs) / base_min if base_min else float("inf")
        note = "  (informational: other work than the baseline)" if name in informational else ""
        ratios = "" if name == baseline else f"   {ratio:5.2f}x / {min_ratio:5.2f}x"
        print(f"  {name:<50} {min(runs) * 1000:8.1f}ms {median * 1000:8.1f}ms {max(runs) * 1000:8.1f}ms{ratios}{note}")
        if name != baseline and name not in informational:
            worst = max(worst, ratio)
    if target is not None:
        print(f"  worst ratio {worst:.2f}x: {'within' if worst <= target else 'OUTSIDE'} the {target:g}x target")
    return worst


def ratio(times: dict[str, list[float]], name: str, baseline: str) -> float:
    """The ratio of medians of ``name`` to ``baseline``."""
    return statistics.median(times[name]) / statistics.median(times[baseline])


def ratio_text(times: dict[str, list[float]], name: str, baseline: str) -> str:
    return (f"{ratio(times, name, baseline):.2f}x ({ms(statistics.median(times[name]))} vs "
            f"{ms(statistics.median(times[baseline]))}; mins {min(times[name]) / min(times[baseline]):.2f}x)")
