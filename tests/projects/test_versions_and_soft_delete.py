import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from projects.models import CooperativeProject
from projects.services import (
    project_create,
    project_restore,
    project_soft_delete,
    project_transition,
    project_update,
)
from rcf.services import VersionConflict

pytestmark = pytest.mark.django_db


def test_version_starts_at_1_and_grows_by_one_on_every_change(make_project, lead):
    project = make_project()
    assert CooperativeProject.objects.get(pk=project.pk).version == 1
    project = project_update(project=project, by=lead, title="New title")
    assert CooperativeProject.objects.get(pk=project.pk).version == 2
    project = project_update(project=project, by=lead, partner_countries=["PH", "VN"])
    assert CooperativeProject.objects.get(pk=project.pk).version == 3
    project = project_transition(project=project, to="under_review", by=lead)
    assert CooperativeProject.objects.get(pk=project.pk).version == 4
    project_soft_delete(project=project, by=lead)
    assert CooperativeProject.all_objects.get(pk=project.pk).version == 5


def test_a_stale_edit_is_refused_not_silently_applied(make_project, lead, editor):
    project = make_project()
    stale = CooperativeProject.objects.get(pk=project.pk)
    project_update(project=project, by=lead, title="Lead's title")
    with pytest.raises(VersionConflict) as conflict:
        project_update(project=stale, by=editor, title="Editor's title")
    assert conflict.value.current.title == "Lead's title"
    assert conflict.value.current.version == 2
    assert CooperativeProject.objects.get(pk=project.pk).title == "Lead's title"


def test_soft_deleted_projects_disappear_from_queries_but_stay_in_the_database(make_project, lead):
    project = make_project()
    project_soft_delete(project=project, by=lead)
    assert not CooperativeProject.objects.filter(pk=project.pk).exists()
    kept = CooperativeProject.all_objects.get(pk=project.pk)
    assert kept.deleted_at is not None
    assert kept.title == "Coast guard training"


def test_only_an_administrator_restores(make_project, lead, administrator):
    project = make_project()
    project_soft_delete(project=project, by=lead)
    deleted = CooperativeProject.all_objects.get(pk=project.pk)
    with pytest.raises(PermissionDenied):
        project_restore(project=deleted, by=lead)
    project_restore(project=deleted, by=administrator)
    assert CooperativeProject.objects.filter(pk=project.pk).exists()


def test_a_deleted_project_cannot_be_edited_or_moved(make_project, lead):
    project = make_project()
    project_soft_delete(project=project, by=lead)
    with pytest.raises(ValidationError):
        project_update(project=project, by=lead, title="x")
    with pytest.raises(ValidationError):
        project_transition(project=project, to="under_review", by=lead)


def test_every_change_is_in_the_history_with_who_made_it(make_project, lead, editor):
    project = make_project()
    project_update(project=project, by=editor, title="Renamed")
    latest = project.history.first()
    assert latest.title == "Renamed"
    assert latest.history_user == editor
    delta = latest.diff_against(latest.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes if c.field == "title"] == [
        ("title", "Coast guard training", "Renamed")
    ]


def test_external_id_is_unique_also_against_deleted_projects(make_project, lead):
    first = make_project(external_id="ext-1")
    project_soft_delete(project=first, by=lead)
    with pytest.raises(ValidationError) as refused:
        project_create(by=lead, title="Again", priority_area="maritime-security", lead_side="us",
                       external_id="ext-1")
    assert "external_id" in refused.value.message_dict
