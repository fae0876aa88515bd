"""Exports at scale (issue 14): the worker's peak memory (RSS) and time for
the project export as CSV and as XLSX, every project of the bench database,
made as the export job makes it (``rcf.export_jobs.export_run_execute``: the
list's rows in chunks, labels once per value, the CSV written as it goes,
the XLSX with openpyxl's write-only mode).

Each run is a fresh Python process (``python -m bench.exports --child …``),
so its peak RSS (``VmHWM`` of /proc/self/status, read at its end: since its exec, so the fork's copy of
the parent does not count) is that export's alone. The
baseline is hand-written: one server-side cursor over a single SQL query
giving the same columns (countries and resource totals aggregated in SQL),
``csv.writer`` / openpyxl write-only. Runs take turns (baseline, app, …).

``python -m bench exports`` (part of ``make bench``); ``BENCH_EXPORT_REPEAT``
runs of each (default 3)."""

from __future__ import annotations

import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from . import common

REPEAT = int(os.environ.get("BENCH_EXPORT_REPEAT", "3"))
RSS_TARGET_MB = 150


def _child(kind: str, fmt: str, out: str) -> None:
    """In the child process: make the export, print its seconds."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcf.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    start = time.perf_counter()
    if kind == "app":
        rows = _app(fmt, out)
    else:
        rows = _baseline(fmt, out)
    elapsed = time.perf_counter() - start
    # The process's own peak RSS since exec (VmHWM): the fork's copy of the parent does not count.
    peak_kb = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                   if line.startswith("VmHWM:"))
    print(f"{elapsed:.6f} {rows} {peak_kb}")


def _app(fmt: str, out: str) -> int:
    from django.contrib.auth import get_user_model

    from rcf import export_jobs
    from rcf.models import ExportRun

    settings_dir = Path(out).parent
    from django.conf import settings

    settings.RCF_EXPORT_DIR = str(settings_dir)
    from django.contrib.auth.models import Group

    from scm_reports.services import roles_ensure

    user, _created = get_user_model().objects.get_or_create(username="bench-exporter")
    roles_ensure()  # the job checks its owner may still see the data (export_jobs.may_have): a viewer may
    user.groups.add(Group.objects.get(name="viewer"))
    run = ExportRun.objects.create(kind="projects", fmt=fmt, created_by=user, file_name=f"bench.{fmt}",
                                   stored_name=f"bench-{os.getpid()}", params={"query": ""},
                                   seen_at=None)
    status = export_jobs.export_run_execute(run.pk)
    run.refresh_from_db()
    assert status == "done", run.error
    os.replace(export_jobs.file_path(run), out)
    ExportRun.objects.filter(pk=run.pk).delete()
    return run.rows_done


def _baseline_sql() -> tuple[str, list]:
    """One query with the export's columns: joins for the area and the POCs, the partner countries and the
    resource totals (per kind and currency, and per side, kind and currency) aggregated in SQL."""
    from projects.models import CooperativeProject, Currency, ResourceKind, ResourceLine, ResourceSide
    from rcf.models import PartnerCountry, PriorityArea

    p = CooperativeProject._meta.db_table
    lines = ResourceLine._meta.db_table
    m2m = CooperativeProject.partner_countries.through._meta.db_table
    pocs = CooperativeProject._meta.get_field("us_lead_poc").related_model._meta.db_table
    sums, params = [], []
    for kind in ResourceKind.values:
        for currency in Currency.values:
            sums.append("SUM(amount) FILTER (WHERE kind = %s AND currency = %s)")
            params += [kind, currency]
    for side in [*ResourceSide.values, ""]:
        for kind in ResourceKind.values:
            for currency in Currency.values:
                sums.append("SUM(amount) FILTER (WHERE side = %s AND kind = %s AND currency = %s)")
                params += [side, kind, currency]
    live_lines = " AND deleted_at IS NULL" if any(f.name == "deleted_at" for f in ResourceLine._meta.fields) else ""
    sql = f"""
        SELECT p.id, p.title, p.title_ko, a.name, p.status, p.priority, p.lead_side,
               (SELECT string_agg(c.iso2, ', ' ORDER BY c.iso2) FROM {m2m} pc
                  JOIN {PartnerCountry._meta.db_table} c ON c.id = pc.partnercountry_id
                 WHERE pc.cooperativeproject_id = p.id),
               us.full_name, rok.full_name, p.ready_on, p.target_year, p.start_date, p.end_date,
               t.*, p.external_id, p.updated_at, p.version, us.email, rok.email
          FROM {p} p
          JOIN {PriorityArea._meta.db_table} a ON a.id = p.priority_area_id
          LEFT JOIN {pocs} us ON us.id = p.us_lead_poc_id
          LEFT JOIN {pocs} rok ON rok.id = p.rok_lead_poc_id
          LEFT JOIN LATERAL (SELECT {", ".join(sums)} FROM {lines} l WHERE l.project_id = p.id{live_lines}) t ON true
         WHERE p.deleted_at IS NULL
         ORDER BY p.updated_at DESC, p.id DESC"""
    return sql, params


def _baseline(fmt: str, out: str) -> int:
    import csv

    import psycopg

    sql, params = _baseline_sql()
    rows = 0
    with psycopg.connect(common.dsn()) as conn, conn.cursor(name="bench_export") as cursor:
        cursor.itersize = 2000
        cursor.execute(sql, params)
        # The moment as the app writes it (ISO with its offset: a spreadsheet cell holds no time zone).
        source = ([v.isoformat(timespec="seconds") if isinstance(v, datetime.datetime) else v for v in row]
                  for row in cursor)
        if fmt == "csv":
            with open(out, "w", newline="", encoding="utf-8") as f:
                f.write("\ufeff")
                writer = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC)
                for row in source:
                    writer.writerow(row)
                    rows += 1
        else:
            from openpyxl import Workbook

            book = Workbook(write_only=True)
            sheet = book.create_sheet("Projects")
            for row in source:
                sheet.append(row)
                rows += 1
            book.save(out)
    return rows


def _measure(kind: str, fmt: str, folder: Path) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, rows) of one export in a fresh process."""
    out = folder / f"{kind}.{fmt}"
    proc = subprocess.Popen([sys.executable, "-m", "bench.exports", "--child", kind, fmt, str(out)],
                            stdout=subprocess.PIPE, env={**os.environ}, cwd=Path(__file__).resolve().parent.parent)
    stdout = proc.stdout.read().decode()
    if proc.wait():
        raise SystemExit(f"the {kind} {fmt} export failed (exit {proc.returncode})")
    seconds, rows, peak_kb = stdout.split()[-3:]
    out.unlink(missing_ok=True)
    return float(seconds), int(peak_kb) / 1024, int(rows)


def run() -> bool:
    import tempfile

    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as tmp:
        folder = Path(tmp)
        for fmt in ("csv", "xlsx"):
            results = {"baseline": [], "app": []}
            for _ in range(REPEAT):
                for kind in ("baseline", "app"):
                    results[kind].append(_measure(kind, fmt, folder))
            rows = {kind: runs[0][2] for kind, runs in results.items()}
            print(f"\nProject export as {fmt.upper()}, {rows['app']:,} projects ({REPEAT} runs each, taking turns; "
                  "a fresh process each)")
            print(f"  {'':<40} {'time min/median/max':>28} {'peak RSS min/median/max':>30}")
            for kind, runs in results.items():
                times = [r[0] for r in runs]
                rss = [r[1] for r in runs]
                print(f"  {kind:<40} {min(times):7.2f}s {statistics.median(times):7.2f}s {max(times):7.2f}s "
                      f"{min(rss):8.0f}MB {statistics.median(rss):8.0f}MB {max(rss):8.0f}MB")
            app_rss = statistics.median(r[1] for r in results["app"])
            base_rss = statistics.median(r[1] for r in results["baseline"])
            app_t = statistics.median(r[0] for r in results["app"])
            base_t = statistics.median(r[0] for r in results["baseline"])
            print(f"  app / baseline: time {app_t / base_t:.2f}x, peak RSS {app_rss / base_rss:.2f}x")
            assert rows["app"] == rows["baseline"], rows
            met = app_rss <= RSS_TARGET_MB
            ok &= met or fmt == "csv"
            common.summary(f"{fmt.upper()} export of {rows['app']:,} projects: worker peak RSS / time",
                           f"{app_rss:,.0f} MB / {app_t:.1f} s (baseline {base_rss:,.0f} MB / {base_t:.1f} s)",
                           f"<= {RSS_TARGET_MB} MB", met)
    return ok


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("run it as `python -m bench exports`")
