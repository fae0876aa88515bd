"""A record's version only ever increases: the database refuses an UPDATE
that lowers it (rcf.version_guard), and the admin history can show old
versions but no longer "revert" to one (which moved the version back, so an
old If-Match was accepted again, and answered 500 on projects)."""

import datetime

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from projects import services as project_services
from rcf.models import TrackedModel
from scm_reports.models import SCMCycle
from tests.factories import TRACKED_MODEL_MAKERS

pytestmark = pytest.mark.django_db

MAKERS = TRACKED_MODEL_MAKERS


def test_every_tracked_model_is_covered():
    tracked = {m._meta.label for m in apps.get_models() if issubclass(m, TrackedModel) and not m._meta.abstract}
    assert tracked == set(MAKERS)


@pytest.mark.parametrize("label", sorted(MAKERS))
def test_an_update_lowering_the_version_is_refused(label):
    """Also proves the trigger is in place on every tracked table (SQLite drops
    a table's triggers when a later migration rebuilds it)."""
    model = apps.get_model(label)
    obj = MAKERS[label]()
    rows = model.all_objects.filter(pk=obj.pk)
    rows.update(version=5)  # up: fine
    rows.update(version=5)  # unchanged: fine
    with pytest.raises(IntegrityError, match="version only ever increases"), transaction.atomic():
        rows.update(version=4)
    assert rows.get().version == 5


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw-for-tests-1")


def test_the_admin_history_stays_readable_and_reverting_changes_nothing(client, superuser, make_project, lead):
    project = make_project(title="First title")
    project = project_services.project_update(project=project, by=lead, title="Second title")
    assert project.version == 2
    old = project.history.order_by("history_id").first()
    client.force_login(superuser)
    base = f"/admin/projects/cooperativeproject/{project.pk}/history/"

    assert client.get(base).status_code == 200
    view = client.get(f"{base}{old.history_id}/")
    assert view.status_code == 200
    assert b"First title" in view.content
    assert b'name="_save"' not in view.content  # no "Revert" button

    entries = project.history.count()
    # Posting the old version's form (what the revert button did) writes nothing.
    data = {"title": "First title", "summary": project.summary, "priority_area": project.priority_area_id,
            "lead_side": project.lead_side, "partner_countries": [c.pk for c in project.partner_countries.all()]}
    response = client.post(f"{base}{old.history_id}/", data, follow=True)
    assert response.status_code == 200
    assert "can be viewed but not restored" in response.content.decode()
    project.refresh_from_db()
    assert (project.title, project.version) == ("Second title", 2)
    assert project.history.count() == entries


def test_reverting_an_scm_cycle_changes_nothing(client, superuser):
    cycle = SCMCycle.objects.create(number=90, year=2058, meeting_date=datetime.date(2058, 11, 1), location="Seoul")
    cycle.location = "Washington"
    cycle.save()
    old = cycle.history.order_by("history_id").first()
    client.force_login(superuser)
    url = f"/admin/scm_reports/scmcycle/{cycle.pk}/history/{old.history_id}/"
    response = client.post(url, {"number": 90, "year": 2058, "meeting_date": "2058-11-01", "location": "Seoul"})
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert (cycle.location, cycle.version) == ("Washington", 2)
