"""Run the benchmarks: ``python -m bench [--projects N] [--reuse] [--fill-only] [readiness …]``
(all by default). Needs ``DATABASE_URL`` pointing at a PostgreSQL server:
see bench/common.py."""

import argparse
import importlib
import os
import sys
import time

from . import common

BENCHMARKS = ["readiness", "dashboard", "api", "list", "load", "exports"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="benchmark", help=f"any of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--projects", type=int, default=common.N_PROJECTS,
                        help=f"projects to fill (default {common.N_PROJECTS:,}; 1,000,000 works)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the bench database as the last run filled it (no new fill)")
    parser.add_argument("--fill-only", action="store_true", help="fill, report the time, run nothing")
    # The mixed load benchmark (bench/load.py): gunicorn with the production settings on loopback.
    parser.add_argument("--load-seconds", type=float, help="load: seconds per concurrency level (default 30)")
    parser.add_argument("--load-requests", type=int, help="load: most requests per level (default 20,000)")
    parser.add_argument("--load-levels", help="load: concurrency levels, comma-separated (default 4,16,64)")
    args = parser.parse_args(argv)
    for option, variable in (("load_seconds", "BENCH_LOAD_SECONDS"), ("load_requests", "BENCH_LOAD_REQUESTS"),
                             ("load_levels", "BENCH_LOAD_LEVELS")):
        if getattr(args, option) is not None:
            os.environ[variable] = str(getattr(args, option))
    names = args.names or BENCHMARKS
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}. Known: {', '.join(BENCHMARKS)}")
    common.N_PROJECTS = args.projects
    common.setup(fresh=not args.reuse)
    if args.reuse:
        from projects.models import CooperativeProject

        common.N_PROJECTS = CooperativeProject.all_objects.count()
        print(f"Reusing the bench database: {common.N_PROJECTS:,} projects")
    else:
        start = time.perf_counter()
        counts = common.fill(projects=args.projects)
        elapsed = time.perf_counter() - start
        print(f"Filled {args.projects:,} projects over {common.N_YEARS} SCM years in {elapsed:.1f} s "
              f"({sum(counts.values()):,} rows in {len(counts)} tables, {args.projects / elapsed:,.0f} projects/s)")
        for table, n in sorted(counts.items()):
            print(f"  {table:<64} {n:>12,}")
    if args.fill_only:
        return 0
    ok = True
    for name in names:
        ok &= importlib.import_module(f"bench.{name}").run()
    print(f"\nIssue 14's table at {common.N_PROJECTS:,} projects (ratios of medians, interleaved runs):")
    print("\n".join(common.SUMMARY))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
