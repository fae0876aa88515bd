"""Engagements beyond one project (issue 11): the services' rules, each
refusal naming the field with nothing saved, and follow-up actions created
with the engagement in one transaction."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from projects.models import ActionItem, Engagement
from projects.services import (
    FollowUpActionsInvalid,
    engagement_create,
    engagement_delete,
    engagement_restore,
    engagement_update,
    project_soft_delete,
)
from rcf.services import VersionConflict
from tests.factories import OrganizationFactory, PointOfContactFactory, ProjectFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def _refused(call) -> dict:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.message_dict


def _meeting(editor, **extra):
    data = {"date": D(2026, 3, 2), "kind": "meeting", "summary": "Working-level meeting."}
    data.update(extra)
    return engagement_create(by=editor, **data)


def test_an_engagement_has_several_projects_participants_from_inside_and_outside_the_directory(editor):
    first, second = ProjectFactory(title="Coast guard training"), ProjectFactory(title="Port security")
    poc = PointOfContactFactory(full_name="Jordan Lee")
    engagement = _meeting(
        editor, projects=[first, second.pk], participants=[poc], partner_countries=["ph", "VN"],
        other_participants=[{"name": "Maria Santos", "organization": "Philippine Coast Guard"}, {"name": "Tran Van"}],
    )
    engagement.refresh_from_db()
    assert set(engagement.projects.all()) == {first, second}
    assert list(first.engagements.all()) == [engagement] and list(second.engagements.all()) == [engagement]
    assert list(engagement.participants.all()) == [poc]
    assert sorted(c.iso2 for c in engagement.partner_countries.all()) == ["PH", "VN"]
    assert engagement.other_participants[0] == {"name": "Maria Santos", "organization": "Philippine Coast Guard"}
    assert engagement.created_by == editor and engagement.version == 1


def test_an_engagement_may_concern_no_project(editor):
    engagement = _meeting(editor, kind="working_group", summary="Partner working group before any project.")
    assert engagement.projects.count() == 0 and engagement.get_kind_display() == "Working group"


def test_a_deleted_project_is_refused_by_name_and_nothing_is_saved(editor, lead):
    live, gone = ProjectFactory(), ProjectFactory(title="Closed harbour survey")
    project_soft_delete(project=gone, by=lead)
    errors = _refused(lambda: _meeting(editor, projects=[live, gone]))
    assert errors == {"projects": ["Deleted project: Closed harbour survey. Choose live projects only."]}
    assert Engagement.all_objects.count() == 0


def test_an_inactive_or_deleted_participant_is_refused_by_name(editor):
    retired = PointOfContactFactory(full_name="Pat Retired", active=False)
    errors = _refused(lambda: _meeting(editor, participants=[PointOfContactFactory(), retired]))
    assert errors == {"participants": ["No longer an active point of contact: Pat Retired."]}
    assert Engagement.all_objects.count() == 0


@pytest.mark.parametrize(("value", "message"), [
    ([{"organization": "Philippine Coast Guard"}], "Participant 1: give a name."),
    ([{"name": "Ana"}, {"name": "  ", "organization": "MoD"}], "Participant 2: give a name."),
    ([{"name": "Ana", "role": "chair"}], "Participant 1: give an object with only “name” and “organization”."),
    ({"name": "Ana"}, "Give a list of participants, each with a name and an organisation."),
    ([{"name": 7}], "Participant 1: “name” must be text."),
    ([{"name": "A\x07na"}], "Participant 1, “name”: Remove the control character U+0007 at position 2"),
])
def test_a_bad_other_participant_is_refused_naming_the_entry(editor, value, message):
    errors = _refused(lambda: _meeting(editor, other_participants=value))
    assert list(errors) == ["other_participants"]
    assert errors["other_participants"][0].startswith(message)
    assert Engagement.all_objects.count() == 0


def test_industry_organisations_belong_to_a_b2b_meeting_only(editor):
    shipyard = OrganizationFactory(name="Hanwha Ocean", side="industry")
    ministry = OrganizationFactory(name="Ministry of National Defense", side="rok")
    errors = _refused(lambda: _meeting(editor, kind="meeting", industry_organizations=[shipyard]))
    assert errors["industry_organizations"][0].startswith("Only a business-to-business meeting lists")
    errors = _refused(lambda: _meeting(editor, kind="b2b", industry_organizations=[shipyard, ministry]))
    assert errors == {"industry_organizations": ["Not a live industry organisation: Ministry of National Defense."]}
    assert Engagement.all_objects.count() == 0
    b2b = _meeting(editor, kind="b2b", industry_organizations=[shipyard])
    assert list(b2b.industry_organizations.all()) == [shipyard]
    # Leaving B2B with the organisations still listed is refused; clearing them at the same time is fine.
    errors = _refused(lambda: engagement_update(engagement=Engagement.objects.get(pk=b2b.pk), by=editor,
                                                kind="meeting"))
    assert list(errors) == ["kind"]
    engagement_update(engagement=Engagement.objects.get(pk=b2b.pk), by=editor, kind="meeting",
                      industry_organizations=[])
    assert Engagement.objects.get(pk=b2b.pk).industry_organizations.count() == 0


def test_every_message_at_once_date_out_of_bounds_and_bad_links(editor):
    errors = _refused(lambda: _meeting(editor, date=D(2101, 1, 1), kind="teleport",
                                       participants=[PointOfContactFactory(active=False, full_name="Gone")]))
    assert set(errors) == {"date", "kind", "participants"}
    assert errors["date"] == ["Give a date between 1950-01-01 and 2100-12-31 (got 2101-01-01)."]


def test_an_external_id_is_unique_even_against_deleted_engagements(editor):
    first = _meeting(editor, external_id="mofa-1")
    engagement_delete(engagement=first, by=editor)
    errors = _refused(lambda: _meeting(editor, external_id="mofa-1"))
    assert errors == {"external_id": ["An engagement with this external id already exists."]}


def test_unknown_ids_and_fields_are_named(editor):
    assert _refused(lambda: _meeting(editor, projects=[999999])) == {"projects": ["Unknown id: 999999."]}
    assert _refused(lambda: _meeting(editor, project=1)) == {"project": ["This field cannot be set."]}


def test_an_update_is_version_checked_and_keeps_links_that_have_gone_stale(editor, lead):
    project = ProjectFactory()
    poc = PointOfContactFactory(full_name="Sam Park")
    engagement = _meeting(editor, projects=[project], participants=[poc])
    # Later the POC leaves and the project is deleted: last year's meeting still happened with them.
    poc.active = False
    poc.save()
    project_soft_delete(project=project, by=lead)
    updated = engagement_update(engagement=Engagement.objects.get(pk=engagement.pk), by=editor,
                                expected_version=1, summary="Minutes added.", participants=[poc],
                                projects=[project])
    assert updated.version == 2 and updated.updated_by == editor
    assert list(updated.participants.all()) == [poc]
    # ...but nobody inactive is added anew.
    other = PointOfContactFactory(full_name="Lee Gone", active=False)
    errors = _refused(lambda: engagement_update(engagement=Engagement.objects.get(pk=engagement.pk), by=editor,
                                                participants=[poc, other]))
    assert errors == {"participants": ["No longer an active point of contact: Lee Gone."]}
    with pytest.raises(VersionConflict):
        engagement_update(engagement=Engagement.objects.get(pk=engagement.pk), by=editor, expected_version=1,
                          summary="Stale edit.")
    assert Engagement.objects.get(pk=engagement.pk).summary == "Minutes added."


def test_delete_and_restore(editor, viewer, administrator):
    engagement = _meeting(editor)
    with pytest.raises(PermissionDenied):
        engagement_delete(engagement=engagement, by=viewer)
    engagement_delete(engagement=Engagement.objects.get(pk=engagement.pk), by=editor, expected_version=1)
    assert not Engagement.objects.filter(pk=engagement.pk).exists()
    with pytest.raises(ValidationError):
        engagement_update(engagement=Engagement.all_objects.get(pk=engagement.pk), by=editor, summary="x")
    engagement_restore(engagement=Engagement.all_objects.get(pk=engagement.pk), by=administrator)
    assert Engagement.objects.get(pk=engagement.pk).version == 3


# --- Follow-up actions ---------------------------------------------------------------


def test_follow_up_actions_are_created_with_the_engagement(editor):
    project = ProjectFactory()
    owner, other = PointOfContactFactory(full_name="Jordan Lee"), PointOfContactFactory(side="rok")
    engagement = _meeting(editor, projects=[project], follow_up_actions=[
        {"title": "Send the draft MOU", "owner": owner, "due_on": D(2026, 4, 1)},
        {"title": "Book the venue", "owner": other, "due_on": D(2026, 4, 15), "description": "Seoul"},
    ])
    actions = list(ActionItem.objects.filter(engagement=engagement).order_by("due_on"))
    assert [(a.title, a.owner, a.status, a.project) for a in actions] == [
        ("Send the draft MOU", owner, "open", project), ("Book the venue", other, "open", project)]
    assert actions[0].created_by == editor and actions[1].description == "Seoul"


def test_an_invalid_follow_up_refuses_everything_naming_the_row_and_field(editor):
    project = ProjectFactory(start_date=D(2026, 3, 1))
    left = PointOfContactFactory(full_name="Lee Left", active=False)
    with pytest.raises(FollowUpActionsInvalid) as refused:
        _meeting(editor, projects=[project], follow_up_actions=[
            {"title": "Fine", "owner": PointOfContactFactory(), "due_on": D(2026, 4, 1)},
            {"title": "Owner left", "owner": left, "due_on": D(2026, 4, 1)},
            {"title": "Too early", "owner": PointOfContactFactory(), "due_on": D(2026, 2, 1)},
            {"title": "", "owner": None, "due_on": None},
        ])
    error = refused.value
    assert set(error.rows) == {2, 3, 4}
    assert error.rows[2] == {"owner": ["The owner must be an active point of contact."]}
    assert error.rows[3] == {"due_on": ["The due date cannot be before the project's start (2026-03-01)."]}
    assert set(error.rows[4]) == {"title", "owner", "due_on"}
    messages = error.message_dict["follow_up_actions"]
    assert "Follow-up action 2, owner: The owner must be an active point of contact." in messages
    assert "Follow-up action 3, due on: The due date cannot be before the project's start (2026-03-01)." in messages
    assert Engagement.all_objects.count() == 0 and ActionItem.all_objects.count() == 0


def test_follow_ups_need_the_right_to_add_actions(viewer, editor):
    with pytest.raises(PermissionDenied):
        engagement_create(by=viewer, date=D(2026, 3, 2), kind="call", summary="Call", follow_up_actions=[
            {"title": "Call back", "owner": PointOfContactFactory(), "due_on": D(2026, 3, 9)}])
    assert Engagement.all_objects.count() == 0


# --- The admin goes through the same rules -------------------------------------------------


def test_the_admin_names_the_rule_and_saves_through_the_service(client, django_user_model):
    from django.urls import reverse

    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw-for-tests-1")
    client.force_login(root)
    yard = OrganizationFactory(name="Hanwha Ocean", side="industry")
    project = ProjectFactory()
    data = {"date": "2026-03-02", "kind": "meeting", "summary": "Admin-logged", "location": "",
            "other_participants": "[]", "external_id": "", "projects": [project.pk],
            "industry_organizations": [yard.pk]}
    response = client.post(reverse("admin:projects_engagement_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["industry_organizations"][0].startswith(
        "Only a business-to-business meeting lists")
    assert Engagement.all_objects.count() == 0
    response = client.post(reverse("admin:projects_engagement_add"), {**data, "kind": "b2b"})
    assert response.status_code == 302
    engagement = Engagement.objects.get()
    assert engagement.created_by == root and list(engagement.industry_organizations.all()) == [yard]
    assert list(engagement.projects.all()) == [project]
