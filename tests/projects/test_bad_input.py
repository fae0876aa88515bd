"""Bad input is refused with a message naming the field; nothing half-saved."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from projects.models import CooperativeProject
from projects.services import project_create, project_update
from tests.factories import OrganizationFactory, PointOfContactFactory

pytestmark = pytest.mark.django_db


def _create(lead, **extra):
    data = {"title": "T", "priority_area": "maritime-security", "lead_side": "joint"}
    data.update(extra)
    return project_create(by=lead, **data)


def _refused_fields(call):
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.message_dict


def test_unknown_country_code_names_the_field_and_the_code(lead):
    errors = _refused_fields(lambda: _create(lead, partner_countries=["PH", "XX"]))
    assert errors == {"partner_countries": ["Unknown country code: XX."]}
    assert CooperativeProject.all_objects.count() == 0


def test_unknown_priority_area_code(lead):
    errors = _refused_fields(lambda: _create(lead, priority_area="space"))
    assert "priority_area" in errors


def test_end_before_start(lead):
    errors = _refused_fields(
        lambda: _create(lead, start_date=datetime.date(2026, 5, 1), end_date=datetime.date(2026, 4, 1))
    )
    assert errors == {"__all__": ["The end date cannot be before the start date."]}
    assert CooperativeProject.all_objects.count() == 0


def test_duplicate_external_id(lead):
    _create(lead, external_id="sync-42")
    errors = _refused_fields(lambda: _create(lead, external_id="sync-42"))
    assert list(errors) == ["external_id"]
    assert CooperativeProject.all_objects.count() == 1


def test_poc_of_the_wrong_side_as_lead(lead):
    rok = PointOfContactFactory(side="rok")
    us = PointOfContactFactory(side="us")
    errors = _refused_fields(lambda: _create(lead, us_lead_poc=rok, rok_lead_poc=us))
    assert errors["us_lead_poc"] == ["The U.S. lead POC must be a point of contact of the U.S. side."]
    assert errors["rok_lead_poc"] == ["The ROK lead POC must be a point of contact of the ROK side."]
    assert CooperativeProject.all_objects.count() == 0


def test_priority_out_of_range(lead):
    errors = _refused_fields(lambda: _create(lead, priority=7))
    assert list(errors) == ["priority"]
    assert CooperativeProject.all_objects.count() == 0


def test_a_resource_amount_without_currency_is_refused_naming_the_field(lead):
    """The former single estimate is resource lines now (issue 11): an amount
    still needs its currency; nothing is saved."""
    from projects.models import ResourceLine
    from projects.services import resource_line_create

    project = _create(lead)
    errors = _refused_fields(lambda: resource_line_create(by=lead, project=project, side="us", kind="planned",
                                                          amount=1000, currency=""))
    assert errors == {"currency": ["Choose the currency: USD, KRW."]}
    assert ResourceLine.all_objects.count() == 0


def test_industry_partner_must_be_an_industry_organisation(lead):
    ministry = OrganizationFactory(side="rok", name="Ministry")
    errors = _refused_fields(lambda: _create(lead, industry_partners=[ministry]))
    assert errors == {"industry_partners": ["Not an industry organisation: Ministry."]}


def test_an_unknown_field_is_refused(lead):
    errors = _refused_fields(lambda: _create(lead, colour="red"))
    assert errors == {"colour": ["This field cannot be set."]}


def test_a_refused_edit_leaves_the_project_and_its_countries_untouched(make_project, lead):
    project = make_project()
    with pytest.raises(ValidationError):
        project_update(project=project, by=lead, title="", partner_countries=["VN"])
    project = CooperativeProject.objects.get(pk=project.pk)
    assert project.title == "Coast guard training"
    assert project.version == 1
    assert list(project.partner_countries.values_list("iso2", flat=True)) == ["PH"]


def test_dates_outside_1950_to_2100_are_refused_on_the_field(lead):
    errors = _refused_fields(lambda: _create(lead, start_date=datetime.date(1, 1, 1),
                                             end_date=datetime.date(9999, 12, 31)))
    assert errors == {
        "start_date": ["Give a date between 1950-01-01 and 2100-12-31 (got 0001-01-01)."],
        "end_date": ["Give a date between 1950-01-01 and 2100-12-31 (got 9999-12-31)."],
    }
    assert CooperativeProject.all_objects.count() == 0
    project = _create(lead, start_date=datetime.date(1950, 1, 1), end_date=datetime.date(2100, 12, 31))
    assert project.end_date == datetime.date(2100, 12, 31)


def test_control_characters_are_refused_on_the_field_tabs_and_line_breaks_kept(lead):
    errors = _refused_fields(lambda: _create(lead, title="Coast\x1bguard", summary="One\x00two"))
    assert set(errors) == {"title", "summary"}
    assert "U+001B" in errors["title"][0] and "U+0000" in errors["summary"][0]
    project = _create(lead, title="Coast\tguard", summary="One\r\ntwo")
    assert project.summary == "One\r\ntwo"
