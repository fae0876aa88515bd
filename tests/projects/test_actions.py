"""Action items through the services and selectors: the rules a user meets
(an active owner, a due date not before the project's start, done_on with
status done), the version check, and who counts as due."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from projects import selectors, services
from projects.models import ActionItem
from rcf.services import VersionConflict
from tests.factories import EngagementFactory, MilestoneFactory, PointOfContactFactory, ProjectFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 10)


@pytest.fixture
def owner(db):
    return PointOfContactFactory(full_name="Ana Park")


@pytest.fixture
def project(db):
    return ProjectFactory(start_date=datetime.date(2026, 3, 1))


def test_create_an_action_with_its_project(editor, owner, project):
    action = services.action_create(by=editor, title="Send the draft plan", owner=owner, project=project,
                                    due_on=TODAY)
    action.refresh_from_db()
    assert (action.status, action.done_on, action.created_by, action.version) == ("open", None, editor, 1)
    assert list(project.actions.all()) == [action]


def test_due_before_the_project_start_is_refused_naming_the_field(editor, owner, project):
    with pytest.raises(ValidationError) as error:
        services.action_create(by=editor, title="Too early", owner=owner, project=project,
                               due_on=datetime.date(2026, 2, 28))
    assert "due_on" in error.value.message_dict
    assert "2026-03-01" in error.value.message_dict["due_on"][0]
    assert not ActionItem.all_objects.exists()


@pytest.mark.parametrize("change", [{"active": False}, {"deleted": True}])
def test_an_owner_who_is_not_an_active_poc_is_refused(editor, owner, project, change):
    from django.utils import timezone

    if change.get("active") is False:
        owner.active = False
    else:
        owner.deleted_at = timezone.now()
    owner.save()
    with pytest.raises(ValidationError) as error:
        services.action_create(by=editor, title="Call", owner=owner, project=project, due_on=TODAY)
    assert list(error.value.message_dict) == ["owner"]
    assert not ActionItem.all_objects.exists()


def test_a_deleted_project_or_engagement_is_refused(editor, owner, project):
    from django.utils import timezone

    project.deleted_at = timezone.now()
    project.save()
    with pytest.raises(ValidationError) as error:
        services.action_create(by=editor, title="Call", owner=owner, project=project, due_on=TODAY)
    assert "project" in error.value.message_dict
    engagement = EngagementFactory(projects=[])
    engagement.deleted_at = timezone.now()
    engagement.save()
    with pytest.raises(ValidationError) as error:
        services.action_create(by=editor, title="Call", owner=owner, engagement=engagement, due_on=TODAY)
    assert "engagement" in error.value.message_dict
    assert not ActionItem.all_objects.exists()


def test_an_engagement_follow_up_takes_its_only_project(editor, owner, project):
    one = EngagementFactory(projects=[project])
    action = services.action_create(by=editor, title="Minutes", owner=owner, engagement=one, due_on=TODAY)
    assert action.project == project
    two = EngagementFactory(projects=[project, ProjectFactory()])
    action = services.action_create(by=editor, title="Minutes", owner=owner, engagement=two, due_on=TODAY)
    assert action.project is None


def test_done_on_follows_the_status(editor, owner):
    action = services.action_create(by=editor, title="Call", owner=owner, due_on=TODAY)
    action = services.action_mark_done(action=action, by=editor, today=TODAY)
    action.refresh_from_db()
    assert (action.status, action.done_on, action.version) == ("done", TODAY, 2)
    action = services.action_reopen(action=action, by=editor)
    assert (action.status, action.done_on) == ("open", None)
    action = services.action_update(action=action, by=editor, status="done", today=TODAY)
    assert action.done_on == TODAY  # done today unless told otherwise
    action = services.action_cancel(action=action, by=editor)
    action.refresh_from_db()
    assert (action.status, action.done_on) == ("cancelled", None)
    action = services.action_update(action=action, by=editor, status="open", done_on=TODAY)
    assert action.done_on is None  # only a done action has a done date


def test_mark_done_with_a_stale_version_changes_nothing(editor, owner):
    action = services.action_create(by=editor, title="Call", owner=owner, due_on=TODAY)
    services.action_update(action=ActionItem.objects.get(pk=action.pk), by=editor, title="Call the ministry")
    with pytest.raises(VersionConflict):
        services.action_mark_done(action=action, by=editor, expected_version=1, today=TODAY)
    action.refresh_from_db()
    assert (action.status, action.title, action.version) == ("open", "Call the ministry", 2)


def test_an_inactive_owners_old_action_can_still_be_closed(editor, owner):
    action = services.action_create(by=editor, title="Call", owner=owner, due_on=TODAY)
    owner.active = False
    owner.save()
    services.action_mark_done(action=action, by=editor, today=TODAY)
    assert ActionItem.objects.get(pk=action.pk).status == "done"
    with pytest.raises(ValidationError) as error:  # but not be given to them again
        services.action_update(action=ActionItem.objects.get(pk=action.pk), by=editor,
                               owner=PointOfContactFactory(active=False))
    assert "owner" in error.value.message_dict


def test_delete_is_soft_and_restorable(editor, owner):
    action = services.action_create(by=editor, title="Call", owner=owner, due_on=TODAY, external_id="x-1")
    services.action_delete(action=action, by=editor)
    assert not ActionItem.objects.filter(pk=action.pk).exists()
    with pytest.raises(ValidationError) as error:
        services.action_create(by=editor, title="Again", owner=owner, due_on=TODAY, external_id="x-1")
    assert "external_id" in error.value.message_dict
    services.action_restore(action=ActionItem.all_objects.get(pk=action.pk), by=editor)
    assert ActionItem.objects.filter(pk=action.pk).exists()


def test_actions_due_for_splits_overdue_and_due_soon(editor, owner, settings):
    settings.RCF_ACTION_DUE_SOON_DAYS = 7

    def make(title, days, **extra):
        return services.action_create(by=editor, title=title, owner=owner, due_on=TODAY + datetime.timedelta(days),
                                      **extra)

    late, today, in_week, later = make("late", -3), make("today", 0), make("week", 7), make("later", 8)
    make("done", -5, status="done")
    make("cancelled", -5, status="cancelled")
    services.action_create(by=editor, title="someone else's", owner=PointOfContactFactory(), due_on=TODAY)
    overdue, due_soon = selectors.actions_due_for(poc=owner, today=TODAY)
    assert list(overdue) == [late]
    assert list(due_soon) == [today, in_week]
    settings.RCF_ACTION_DUE_SOON_DAYS = 10
    assert later in selectors.actions_due_for(poc=owner, today=TODAY)[1]


def test_overdue_milestones_count_for_the_projects_lead_pocs(us_lead_poc, rok_lead_poc, owner):
    project = ProjectFactory(us_lead_poc=us_lead_poc, rok_lead_poc=rok_lead_poc)
    late = MilestoneFactory(project=project, due_on=TODAY - datetime.timedelta(days=1))
    MilestoneFactory(project=project, due_on=TODAY)  # due today: not overdue yet
    MilestoneFactory(project=project, due_on=datetime.date(2026, 1, 1), done_on=datetime.date(2026, 1, 2))
    gone = ProjectFactory(us_lead_poc=us_lead_poc)
    MilestoneFactory(project=gone, due_on=datetime.date(2026, 1, 1))
    from django.utils import timezone

    gone.deleted_at = timezone.now()
    gone.save()
    assert list(selectors.overdue_milestones_for(poc=us_lead_poc, today=TODAY)) == [late]
    assert list(selectors.overdue_milestones_for(poc=rok_lead_poc, today=TODAY)) == [late]
    assert list(selectors.overdue_milestones_for(poc=owner, today=TODAY)) == []


def test_poc_of_user(editor, owner):
    assert selectors.poc_of_user(editor) is None
    owner.user = editor
    owner.save()
    assert selectors.poc_of_user(editor) == owner
