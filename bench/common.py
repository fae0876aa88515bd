"""Benchmark set-up: a PostgreSQL database of its own, filled fast with COPY.

Run with ``make bench`` (or ``python -m bench [name …]``) with ``DATABASE_URL``
pointing at a PostgreSQL server: the benchmarks create and fill
``<that database>_bench`` and never touch the database named in the URL.
"""

from __future__ import annotations

import datetime
import os
import random
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
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def dsn() -> str:
    from django.db import connection

    s = connection.settings_dict
    return (f"host={s['HOST']} port={s['PORT'] or 5432} dbname={s['NAME']} user={s['USER']}"
            + (f" password={s['PASSWORD']}" if s.get("PASSWORD") else ""))


def fill(*, projects: int = N_PROJECTS, years: int = N_YEARS, seed: int = 42) -> None:
    """SCM cycles for ``years`` years from 2025 and ``projects`` projects
    spread over them: about half became ready in some year's window, 3 %
    soft-deleted, two lead POCs, a partner country or two each."""
    import psycopg
    from django.db import connection

    from contacts.models import Organization, PointOfContact
    from rcf.models import PartnerCountry, PriorityArea
    from scm_reports.models import SCMCycle

    rng = random.Random(seed)
    for year in range(FIRST_YEAR + 1, FIRST_YEAR + years):
        SCMCycle.objects.get_or_create(
            year=year,
            defaults={"number": 57 + year - FIRST_YEAR, "meeting_date": datetime.date(year, 10, 15) +
                      datetime.timedelta(days=rng.randrange(0, 50)), "location": "Seoul"},
        )
    org_us, _ = Organization.objects.get_or_create(name="Bench DoD", side="us")
    org_rok, _ = Organization.objects.get_or_create(name="Bench MND", side="rok")
    us, _ = PointOfContact.objects.get_or_create(full_name="Bench US lead", side="us", organization=org_us,
                                                  is_lead=True, email="bench.us@example.org")
    rok, _ = PointOfContact.objects.get_or_create(full_name="Bench ROK lead", side="rok", organization=org_rok,
                                                   is_lead=True, email="bench.rok@example.org")
    areas = list(PriorityArea.objects.values_list("pk", flat=True))
    countries = list(PartnerCountry.objects.filter(group__in=["asean", "pacific_islands"]).values_list("pk", flat=True))
    launch = datetime.date(2024, 10, 30)
    span = (datetime.date(FIRST_YEAR + years - 1, 10, 1) - launch).days
    now = datetime.datetime.now(datetime.UTC)
    statuses_ready = ["ready", "presented", "in_implementation", "completed"]
    statuses_not = ["concept", "under_review", "prioritized", "on_hold", "withdrawn"]
    columns = ("title", "summary", "channel", "priority_area_id", "lead_side", "status", "priority",
               "us_lead_poc_id", "rok_lead_poc_id", "complementary_efforts", "resources_currency",
               "resources_note", "ready_on", "external_id", "version", "created_at", "updated_at",
               "deleted_at", "target_year")
    connection.close()
    with psycopg.connect(dsn()) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY projects_cooperativeproject ({', '.join(columns)}) FROM STDIN") as copy:
            for i in range(projects):
                ready = rng.random() < 0.5
                status = rng.choice(statuses_ready if ready else statuses_not)
                ready_on = launch + datetime.timedelta(days=rng.randrange(span)) if ready else None
                deleted = now if rng.random() < 0.03 else None
                stamp = now - datetime.timedelta(seconds=projects - i)
                copy.write_row((
                    f"Bench project {i}", "Benchmark project.", "", rng.choice(areas), "joint", status,
                    rng.randint(1, 5) if (ready or status == "prioritized") else None, us.pk, rok.pk, "",
                    "", "", ready_on, f"bench-{i}", 1, stamp, stamp, deleted,
                    ready_on.year if ready_on else None,
                ))
        cur.execute("SELECT min(id), max(id) FROM projects_cooperativeproject")
        lo, hi = cur.fetchone()
        with cur.copy("COPY projects_cooperativeproject_partner_countries (cooperativeproject_id, partnercountry_id) "
                      "FROM STDIN") as copy:
            for pid in range(lo, hi + 1):
                for cid in rng.sample(countries, rng.choice((1, 1, 2))):
                    copy.write_row((pid, cid))
        conn.commit()
    # Steady state, as autovacuum leaves a table: visibility map set, statistics fresh.
    with psycopg.connect(dsn(), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def median_seconds(fn, *, repeat: int = REPEAT) -> float:
    fn()  # warm caches and connections
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(title: str, rows: list[tuple[str, float]], *, baseline: str, target: float,
           informational: tuple[str, ...] = ()) -> bool:
    """Print each timing and its ratio to ``baseline``; the verdict is on the
    rows not marked informational (those do other work than the baseline)."""
    base = dict(rows)[baseline]
    print(f"\n{title}")
    for name, seconds in rows:
        ratio = seconds / base if base else float("inf")
        note = "  (informational: more work than the baseline)" if name in informational else ""
        print(f"  {name:<48} {seconds * 1000:9.2f} ms   {ratio:5.2f}x{note}")
    worst = max(s for n, s in rows if n != baseline and n not in informational) / base
    verdict = "within" if worst <= target else "OUTSIDE"
    print(f"  worst ratio {worst:.2f}x: {verdict} the {target:g}x target")
    return worst <= target
