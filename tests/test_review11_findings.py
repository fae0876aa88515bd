"""Review of issue 11 (review11): what a hostile review of implementation
tracking found, each kept as a regression check."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from projects import services
from projects.models import ActionItem
from rcf.models import ApiToken
from tests.factories import ActionItemFactory, DocumentFactory, EngagementFactory, PointOfContactFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 23)


def _api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(user=user, name='t')[1]}")
    return client


@pytest.mark.parametrize("command", ["send_action_reminders", "send_weekly_digest", "flag_unready_years"])
@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2026-02-30", "tomorrow"])
def test_a_job_command_refuses_an_odd_today_with_a_message_not_a_traceback(command, value):
    with pytest.raises(CommandError, match="--today"):
        call_command(command, "--today", value, "--dry-run")


def test_a_deleted_engagements_follow_ups_are_still_to_be_done(client, editor):
    owner = PointOfContactFactory(email="owner@example.org")
    engagement = EngagementFactory(projects=[])
    action = ActionItemFactory(owner=owner, engagement=engagement, due_on=TODAY - datetime.timedelta(days=3),
                               title="Send the minutes")
    services.engagement_delete(engagement=engagement)
    client.force_login(editor)
    page = client.get("/actions/", {"owner": "", "status": "open"})
    assert "Send the minutes" in page.content.decode()
    assert client.get(f"/actions/{action.pk}/edit/").status_code == 200
    sent = services.action_reminders_send(today=TODAY, dry_run=True)
    assert [row["action_ids"] for row in sent] == [[action.pk]]


def test_an_action_is_not_restored_under_a_deleted_project(make_project):
    project = make_project()
    action = ActionItemFactory(project=project)
    services.action_delete(action=action)
    services.project_soft_delete(project=project)
    with pytest.raises(ValidationError, match="Restore its project first"):
        services.action_restore(action=ActionItem.all_objects.get(pk=action.pk))
    assert ActionItem.all_objects.get(pk=action.pk).deleted_at is not None


@pytest.mark.parametrize("amount", ["99999999999999.97", "10000000000000.00"])
def test_an_amount_sqlite_cannot_keep_exactly_is_refused_naming_the_field(editor, make_project, amount):
    project = make_project()
    response = _api(editor).post("/api/v1/resource-lines/", {
        "project": project.pk, "side": "us", "kind": "planned", "amount": amount, "currency": "USD"}, format="json")
    assert response.status_code == 400, response.content
    assert "amount" in response.json()
    assert not project.resource_lines.exists()


def test_totals_of_the_largest_amounts_show_without_an_error(client, viewer, editor, make_project):
    project = make_project()
    for _ in range(3):
        services.resource_line_create(by=editor, project=project, side="us", kind="planned",
                                      amount="9999999999999.99", currency="USD")
    client.force_login(viewer)
    assert client.get(f"/projects/{project.pk}/").status_code == 200
    assert client.get("/projects/export.csv").status_code == 200
    assert client.get("/").status_code == 200


def test_a_deleted_projects_document_cannot_be_edited_either(client, editor, make_project):
    project = make_project()
    document = DocumentFactory(project=project)
    services.project_soft_delete(project=project)
    client.force_login(editor)
    assert client.get(f"/projects/documents/{document.pk}/").status_code == 404
    assert client.post(f"/projects/documents/{document.pk}/", {"title": "x", "marking": "CUI",
                                                              "version": document.version}).status_code == 404
