import datetime
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from projects.models import CooperativeProject
from scm_reports.models import ReadinessFlag

pytestmark = pytest.mark.django_db


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("flag_unready_years", *args, stdout=out)
    return out.getvalue()


def test_json_output_lists_years_raised_and_resolved(ready_project):
    project = ready_project(datetime.date(2025, 9, 1))
    payload = json.loads(run("--today", "2026-03-01", "--json"))
    assert payload["today"] == "2026-03-01"
    assert payload["years"][0] == {
        "year": 2025, "scm_number": 57, "meeting_date": "2025-11-04", "deadline": "2025-11-03",
        "state": "covered", "counting_projects": 1, "counting_project_ids": [project.pk],
    }
    assert payload["years"][1]["state"] == "unscheduled"
    assert payload["raised"] == [{"year": 2026, "kind": "unscheduled"}]
    assert payload["resolved"] == []


def test_table_output_and_dry_run_write_nothing():
    out = run("--today", "2025-12-01", "--dry-run")
    assert "dry run" in out
    assert "2025  57    2025-11-04  2025-11-03" in out and "missed" in out
    assert "Flags would raise: 2025 missed" in out
    assert ReadinessFlag.objects.count() == 0
    out = run("--today", "2025-12-01")
    assert "Flags raised: 2025 missed" in out
    assert ReadinessFlag.objects.count() == 1


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "01/03/2026"])
def test_a_bad_date_is_refused_naming_the_argument(bad):
    with pytest.raises(CommandError, match="--today must be a date in YYYY-MM-DD form"):
        run("--today", bad)
    assert ReadinessFlag.objects.count() == 0


def test_a_broken_broker_does_not_lose_the_flags(caplog, broker_down):
    out = run("--today", "2025-12-01")
    assert "Flags raised: 2025 missed" in out
    assert "Notice tasks queued: 0" in out
    assert "broker unreachable" in caplog.text
    assert ReadinessFlag.objects.get().notified_at is None


def test_with_the_broker_down_a_user_still_moves_a_project_to_ready(
    make_project, advance, django_capture_on_commit_callbacks, broker_down
):
    from rcf.outbox import outbox_pending
    from scm_reports.tasks import READINESS_CHECK

    with django_capture_on_commit_callbacks(execute=True):
        project = advance(make_project(), "under_review", "prioritized", "ready")
    # The readiness re-check was requested, in the outbox, for a worker to run
    # once the broker is back (tests/test_outbox.py).
    assert outbox_pending(topic=READINESS_CHECK).count() == 1
    assert CooperativeProject.objects.get(pk=project.pk).status == "ready"
