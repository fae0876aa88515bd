"""Issue 5: the dashboard's server time (a real request through Django's
middleware, view and templates) beside hand-written SQL computing the same
aggregates with psycopg."""

import datetime

from . import common

READINESS_SQL = """
WITH c AS (
    SELECT year, COALESCE(readiness_deadline, meeting_date - 1) AS deadline
    FROM scm_reports_scmcycle WHERE deleted_at IS NULL AND year >= 2025
), w AS (
    SELECT year, deadline, COALESCE(LAG(deadline) OVER (ORDER BY year) + 1, DATE '2024-10-30') AS start FROM c
)
SELECT w.year, COUNT(p.id) FROM w LEFT JOIN projects_cooperativeproject p
  ON p.deleted_at IS NULL AND p.ready_on BETWEEN w.start AND w.deadline
GROUP BY w.year ORDER BY w.year
"""
MATRIX_SQL = """
SELECT priority_area_id, status, COUNT(*) FROM projects_cooperativeproject
WHERE deleted_at IS NULL GROUP BY priority_area_id, status
"""
PIPELINE_SQL = """
SELECT p.id, p.title, p.status, p.priority, a.name, u.full_name, r.full_name,
       (SELECT max(t.at) FROM projects_projecttransition t WHERE t.project_id = p.id AND t.to_status = p.status),
       (SELECT string_agg(c.name, ', ') FROM projects_cooperativeproject_partner_countries pc
          JOIN rcf_partnercountry c ON c.id = pc.partnercountry_id WHERE pc.cooperativeproject_id = p.id)
FROM projects_cooperativeproject p
JOIN rcf_priorityarea a ON a.id = p.priority_area_id
LEFT JOIN contacts_pointofcontact u ON u.id = p.us_lead_poc_id
LEFT JOIN contacts_pointofcontact r ON r.id = p.rok_lead_poc_id
WHERE p.deleted_at IS NULL AND p.status IN ('under_review', 'prioritized')
ORDER BY p.status, p.priority NULLS LAST, p.updated_at DESC, p.id LIMIT 25
"""
COVERAGE_SQL = """
SELECT c.iso2, COUNT(DISTINCT p.id) FROM rcf_partnercountry c
LEFT JOIN projects_cooperativeproject_partner_countries pc ON pc.partnercountry_id = c.id
LEFT JOIN projects_cooperativeproject p ON p.id = pc.cooperativeproject_id AND p.deleted_at IS NULL
  AND p.status IN ('concept', 'under_review', 'prioritized', 'ready', 'presented', 'in_implementation')
WHERE c."group" IN ('asean', 'pacific_islands') GROUP BY c.iso2
"""
FLAGS_SQL = "SELECT year, kind, detail FROM scm_reports_readinessflag WHERE resolved_at IS NULL ORDER BY year, kind"


def run(today: datetime.date = datetime.date(2026, 11, 22)) -> bool:
    import psycopg
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.core.signals import request_finished
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from scm_reports.services import readiness_flags_sync
    from tests.factories import UserFactory

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # As Django's own test client setup does: keep one connection across requests.
    request_finished.disconnect(close_old_connections)
    readiness_flags_sync(today=today)
    user = UserFactory(username="bench-viewer")
    user.groups.set([Group.objects.get(name="viewer")])
    client = Client()
    client.force_login(user)

    def view():
        response = client.get("/")
        assert response.status_code == 200
        return response

    with CaptureQueriesContext(connection) as queries:
        view()
    query_count = len(queries.captured_queries)  # now: each request resets Django's query log
    with psycopg.connect(common.dsn()) as conn:
        def baseline():
            for sql in (READINESS_SQL, MATRIX_SQL, PIPELINE_SQL, COVERAGE_SQL, FLAGS_SQL):
                conn.execute(sql).fetchall()

        rows = [
            ("hand-written SQL, same aggregates (psycopg)", common.median_seconds(baseline)),
            ("GET / (dashboard, full request)", common.median_seconds(view)),
        ]
    print(f"  dashboard queries at {common.N_PROJECTS} projects: {query_count} (the tests hold it at <= 12 "
          "and equal for any data size)")
    return common.report(f"Dashboard (median of {common.REPEAT} runs)", rows,
                         baseline="hand-written SQL, same aggregates (psycopg)", target=3.0)
