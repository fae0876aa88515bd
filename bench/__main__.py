"""Run the benchmarks: ``python -m bench [readiness …]`` (all by default)."""

import importlib
import sys
import time

from . import common

BENCHMARKS = ["readiness", "dashboard", "api"]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}. Known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    common.setup(fresh=True)
    start = time.perf_counter()
    common.fill()
    print(f"Filled {common.N_PROJECTS} projects over {common.N_YEARS} SCM years in "
          f"{time.perf_counter() - start:.1f} s")
    ok = True
    for name in names:
        ok &= importlib.import_module(f"bench.{name}").run()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
