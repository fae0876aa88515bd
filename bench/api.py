"""Issue 6: a full sync through the API (every page of ``GET /api/v1/projects/?since=``
through Django's middleware, authentication, throttle, view and JSON renderer,
decoded as a client would, with orjson) beside one hand-written psycopg query of
the same rows plus ``json.dumps`` (not decoded: the baseline does strictly less);
the streamed NDJSON export of the same records (issue 14), every line decoded;
and an incremental sync that returns 100 changes. All three run interleaved."""

import datetime
import json
import random
import time

import orjson

from . import common

# The same rows and values the feed gives: live projects in full, deleted ones
# as tombstones, in change order, many-to-many values as codes.
BASELINE_SQL = """
WITH
  areas AS (SELECT t.cooperativeproject_id AS project, array_agg(x.code ORDER BY x.sort_order, x.code, x.id) AS v
            FROM projects_cooperativeproject_additional_areas t JOIN rcf_priorityarea x ON x.id = t.priorityarea_id
            GROUP BY 1),
  countries AS (SELECT t.cooperativeproject_id AS project, array_agg(c.iso2 ORDER BY c."group", c.name, c.id) AS v
                FROM projects_cooperativeproject_partner_countries t
                JOIN rcf_partnercountry c ON c.id = t.partnercountry_id GROUP BY 1),
  industry AS (SELECT t.cooperativeproject_id AS project, array_agg(o.id ORDER BY o.side, o.name, o.id) AS v
               FROM projects_cooperativeproject_industry_partners t
               JOIN contacts_organization o ON o.id = t.organization_id GROUP BY 1),
  complemented AS (SELECT t.cooperativeproject_id AS project, array_agg(c.iso2 ORDER BY c."group", c.name, c.id) AS v
                   FROM projects_cooperativeproject_complemented_partners t
                   JOIN rcf_partnercountry c ON c.id = t.partnercountry_id GROUP BY 1)
SELECT p.id, p.external_id, p.title, p.summary, p.title_ko, p.summary_ko, p.channel, a.code, COALESCE(areas.v, '{}'),
       COALESCE(countries.v, '{}'), p.lead_side, p.status, p.priority, p.us_lead_poc_id, p.rok_lead_poc_id,
       COALESCE(industry.v, '{}'), p.complementary_efforts, COALESCE(complemented.v, '{}'),
       p.target_year, p.ready_on,
       p.start_date, p.end_date, p.version, p.created_at, p.updated_at, p.deleted_at
FROM projects_cooperativeproject p
JOIN rcf_priorityarea a ON a.id = p.priority_area_id
LEFT JOIN areas ON areas.project = p.id
LEFT JOIN countries ON countries.project = p.id
LEFT JOIN industry ON industry.project = p.id
LEFT JOIN complemented ON complemented.project = p.id
ORDER BY p.sync_txid, p.id
"""
FIELDS = ("id", "external_id", "title", "summary", "title_ko", "summary_ko", "channel", "priority_area",
          "additional_areas", "partner_countries", "lead_side", "status", "priority", "us_lead_poc", "rok_lead_poc",
          "industry_partners", "complementary_efforts", "complemented_partners", "target_year", "ready_on",
          "start_date", "end_date", "version", "created_at", "updated_at")


def _iso(value):
    """json.dumps' fallback, called only for dates and timestamps."""
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def run(changes: int = 100) -> bool:
    import psycopg
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.core.signals import request_finished
    from django.db import close_old_connections
    from django.test import Client

    from rcf.models import ApiToken
    from scm_reports.services import roles_ensure
    from tests.factories import UserFactory

    # Production-like: no query log, and a rate limit no benchmark client meets.
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "1000000/minute", "anon": "1000/minute"}}
    # As Django's own test client setup does: keep one connection across requests.
    request_finished.disconnect(close_old_connections)
    roles_ensure()
    user = UserFactory(username="bench-sync-client")
    user.groups.set([Group.objects.get(name="viewer")])
    _token, key = ApiToken.issue(user=user, name="bench", read_only=True)
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    page_size = settings.RCF_API_MAX_PAGE_SIZE
    last_cursor = {}

    def full_sync(since=""):
        """Every page from ``since``, decoded: (records, cursor, pages)."""
        records, pages, url, params = [], 0, "/api/v1/projects/", {"since": since, "page_size": page_size}
        while url:
            response = client.get(url, params)
            assert response.status_code == 200, response.content[:500]
            body = orjson.loads(response.content)  # what a client that cares about speed uses
            records += body["results"]
            pages += 1
            url, params = body["next"], None
        last_cursor["value"] = body["cursor"]
        return records, body["cursor"], pages

    def export(since=""):
        """The streamed NDJSON export (one request), every line decoded: (records, cursor)."""
        response = client.get("/api/v1/projects/", {"since": since, "format": "ndjson"})
        assert response.status_code == 200 and response.streaming, response
        *records, last = (orjson.loads(line) for line in b"".join(response.streaming_content).splitlines())
        return records, last["cursor"]

    with psycopg.connect(common.dsn(), autocommit=True) as conn:
        def baseline():
            out = [
                dict(zip(FIELDS, row, strict=False)) if row[-1] is None
                else {"id": row[0], "external_id": row[1], "deleted": True, "deleted_at": row[-1]}
                for row in conn.execute(BASELINE_SQL).fetchall()
            ]
            return json.dumps(out, default=_iso).encode()

        expected = json.loads(baseline())
        got, cursor, pages = full_sync()
        assert [(r["id"], r.get("version"), r.get("deleted", False)) for r in got] == [
            (r["id"], r.get("version"), r.get("deleted", False)) for r in expected
        ], "the API and the hand-written SQL disagree"

        exported, _export_cursor = export()
        assert [r["id"] for r in exported] == [r["id"] for r in got], "the export and the feed disagree"

        base = "hand-written SQL + json.dumps (psycopg)"
        app = "full sync through the API (all pages, decoded)"
        streamed = "NDJSON export, one streamed request (decoded)"
        times = common.interleaved({base: baseline, app: full_sync, streamed: export})
        base_seconds = common.statistics.median(times[base])
        api_seconds = common.statistics.median(times[app])
        records = len(expected)

        # 100 changes after the cursor, committed; every timed incremental sync starts from that cursor.
        ids = random.Random(7).sample([r["id"] for r in expected if not r.get("deleted")], changes)
        conn.execute("UPDATE projects_cooperativeproject SET version = version + 1, updated_at = now() "
                     "WHERE id = ANY(%s)", [ids])
        start = time.perf_counter()
        while True:  # the changes are committed; wait until they are below the feed's safe horizon
            incremental, _cursor, _pages = full_sync(cursor)
            if len(incremental) == changes or time.perf_counter() - start > 30:
                break
        assert sorted(r["id"] for r in incremental) == sorted(ids), "the incremental sync lost changes"
        incremental_seconds = common.median_seconds(lambda: full_sync(cursor))

    print(f"\n  {records:,} projects ({sum(1 for r in expected if r.get('deleted')):,} tombstones), "
          f"{pages} pages of {page_size}")
    print(f"  full sync through the API: {records / api_seconds:,.0f} records/s; "
          f"hand-written query + JSON encoding: {records / base_seconds:,.0f} records/s")
    export_seconds = common.statistics.median(times[streamed])
    print(f"  NDJSON export: {records / export_seconds:,.0f} records/s")
    print(f"  incremental sync of {changes} changes: {incremental_seconds * 1000:.1f} ms (median of {common.REPEAT})")
    worst = common.report("Sync API", times, baseline=base, informational=(streamed,))
    common.summary("full sync ÷ hand-written query + json.dumps",
                   common.ratio_text(times, app, base) + f"; {records / api_seconds:,.0f} records/s",
                   "≤ 1.0x", worst <= 1.0)
    common.summary("NDJSON export ÷ hand-written query + json.dumps",
                   common.ratio_text(times, streamed, base) + f"; {records / export_seconds:,.0f} records/s",
                   "-", None)
    common.summary(f"incremental sync, {changes} changes", f"{incremental_seconds * 1000:.1f} ms", "-", None)
    return True
