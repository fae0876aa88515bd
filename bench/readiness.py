"""Issue 3: the readiness rule and the job, beside one hand-written SQL query
that computes the same per-year counts."""

import datetime

from . import common

BASELINE_SQL = """
WITH c AS (
    SELECT year, COALESCE(readiness_deadline, meeting_date - 1) AS deadline
    FROM scm_reports_scmcycle WHERE deleted_at IS NULL AND year >= %(first)s
), w AS (
    SELECT year, deadline,
           COALESCE(LAG(deadline) OVER (ORDER BY year) + 1, %(launch)s::date) AS start
    FROM c
)
SELECT w.year, COUNT(p.id)
FROM w LEFT JOIN projects_cooperativeproject p
  ON p.deleted_at IS NULL AND p.ready_on BETWEEN w.start AND w.deadline
GROUP BY w.year ORDER BY w.year
"""


def run(today: datetime.date = datetime.date(2026, 11, 22)) -> bool:
    import psycopg

    from scm_reports.selectors import readiness_by_year
    from scm_reports.services import readiness_flags_sync

    with psycopg.connect(common.dsn()) as conn:
        def baseline():
            return conn.execute(BASELINE_SQL, {"first": 2025, "launch": datetime.date(2024, 10, 30)}).fetchall()

        expected = dict(baseline())
        got = {r.year: r.counting_projects for r in readiness_by_year(today=today) if r.cycle}
        assert got == expected, "the rule and the hand-written SQL disagree"
        readiness_flags_sync(today=today)  # raise the flags once; the timed runs are steady state
        rows = [
            ("hand-written SQL (psycopg)", common.median_seconds(baseline)),
            ("readiness_by_year()", common.median_seconds(lambda: readiness_by_year(today=today))),
            ("readiness_by_year(with_project_ids=True)",
             common.median_seconds(lambda: readiness_by_year(today=today, with_project_ids=True))),
            ("job: readiness_flags_sync()", common.median_seconds(lambda: readiness_flags_sync(today=today))),
        ]
    print(f"  ({sum(expected.values())} projects count over {len(expected)} SCM years)")
    return common.report(f"Readiness rule and job (median of {common.REPEAT} runs)", rows,
                         baseline="hand-written SQL (psycopg)", target=3.0,
                         informational=("readiness_by_year(with_project_ids=True)",))
