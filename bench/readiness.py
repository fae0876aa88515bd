"""The readiness rule and the readiness job, beside one hand-written SQL
query that computes the same per-year counts.

The job is timed as ``manage.py flag_unready_years`` runs it: the command
itself, in-process (``call_command``, its table printed to a buffer), with
everything it loads (the counting projects' ids included) and the notices
it queues. The timed runs are steady state: the first run raised the flags.
"""

import datetime
import io
import json

from . import common

CYCLES_SQL = """
SELECT year, COALESCE(readiness_deadline, meeting_date - 1) FROM scm_reports_scmcycle
WHERE deleted_at IS NULL AND year BETWEEN %(first)s AND 2100 ORDER BY year
"""
# The windows are consecutive: one pass over the live ready projects (an index-only scan of the
# partial ready_on index), each put in its window by width_bucket over the windows' first days.
COUNTS_SQL = """
SELECT width_bucket(ready_on, %(starts)s::date[]), COUNT(*) FROM projects_cooperativeproject
WHERE deleted_at IS NULL AND ready_on >= %(launch)s AND ready_on <= %(last)s GROUP BY 1
"""
# What the job needs besides the counts: the open flags it compares them with.
FLAGS_SQL = "SELECT id, year, kind, counting_projects FROM scm_reports_readinessflag WHERE resolved_at IS NULL"


def run(today: datetime.date = datetime.date(2026, 11, 22)) -> bool:
    import psycopg
    from django.conf import settings
    from django.core.management import call_command

    from scm_reports.selectors import readiness_by_year
    from scm_reports.services import readiness_flags_sync

    def command(*args):
        out = io.StringIO()
        call_command("flag_unready_years", f"--today={today.isoformat()}", *args, stdout=out, stderr=io.StringIO())
        return out.getvalue()

    launch = datetime.date.fromisoformat(str(settings.RCF_LAUNCH_DATE))
    with psycopg.connect(common.dsn(), autocommit=True) as conn:
        def baseline():
            cycles = conn.execute(CYCLES_SQL, {"first": settings.RCF_FIRST_YEAR}).fetchall()
            starts = [launch] + [deadline + datetime.timedelta(days=1) for _, deadline in cycles[:-1]]
            counts = dict(conn.execute(COUNTS_SQL, {"starts": starts, "launch": launch,
                                                    "last": cycles[-1][1]}).fetchall())
            return [(year, counts.get(i, 0)) for i, (year, _) in enumerate(cycles, start=1)]

        def baseline_job():
            counts = baseline()
            conn.execute(FLAGS_SQL).fetchall()
            return counts

        expected = dict(baseline())
        got = {r.year: r.counting_projects for r in readiness_by_year(today=today) if r.cycle}
        assert got == expected, "the rule and the hand-written SQL disagree"
        command()  # raise the flags once; the timed runs are steady state
        printed = json.loads(command("--json"))
        from_command = {y["year"]: y["counting_projects"] for y in printed["years"] if y["scm_number"]}
        assert from_command == expected, "flag_unready_years and the hand-written SQL disagree"
        times = common.interleaved({
            "hand-written SQL: counts + open flags (psycopg)": baseline_job,
            "readiness_by_year()": lambda: readiness_by_year(today=today),
            "job: manage.py flag_unready_years (in-process)": command,
            "readiness_flags_sync() alone, no ids": lambda: readiness_flags_sync(today=today),
        })
    print(f"  ({sum(expected.values()):,} projects count over {len(expected)} SCM years; the command loads "
          f"{sum(len(y['counting_project_ids']) for y in printed['years']):,} project ids)")
    base = "hand-written SQL: counts + open flags (psycopg)"
    common.report("Readiness rule and job", times, baseline=base,
                  informational=("readiness_flags_sync() alone, no ids",))
    rule = common.ratio(times, "readiness_by_year()", base)
    job = common.ratio(times, "job: manage.py flag_unready_years (in-process)", base)
    common.summary("readiness rule ÷ hand-written SQL", common.ratio_text(times, "readiness_by_year()", base),
                   "≤ 3x", rule <= 3)
    common.summary("readiness job (flag_unready_years) ÷ hand-written SQL",
                   common.ratio_text(times, "job: manage.py flag_unready_years (in-process)", base), "≤ 3x", job <= 3)
    return True
