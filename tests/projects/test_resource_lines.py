"""Resource lines (issue 11): a project's resources by side, fiscal year and
kind, each in USD or KRW, written through the services; totals per side, kind
and currency that never add one currency to another."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from projects import selectors
from projects import services as project_services
from projects.models import CooperativeProject, ResourceLine
from projects.services import resource_line_create, resource_line_delete, resource_line_restore, resource_line_update
from rcf.services import VersionConflict
from tests.factories import ProjectFactory, ResourceLineFactory

pytestmark = pytest.mark.django_db


def _line(project, by=None, **extra):
    data = {"side": "us", "kind": "planned", "amount": Decimal("1000.00"), "currency": "USD", "fiscal_year": 2026}
    data.update(extra)
    return resource_line_create(by=by, project=project, **data)


def _refused(call) -> dict:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.message_dict


def _totals(rows) -> dict:
    return {(r["side"], r["kind"], r["currency"]): r["total"] for r in rows}


def test_a_line_is_saved_with_who_and_when(editor):
    project = ProjectFactory()
    line = _line(project, by=editor, source="FMF", note="Training courses", external_id="mnd-r1")
    stored = ResourceLine.objects.get(pk=line.pk)
    assert (stored.side, stored.kind, stored.amount, stored.currency, stored.fiscal_year, stored.source) == (
        "us", "planned", Decimal("1000.00"), "USD", 2026, "FMF")
    assert stored.created_by == editor and stored.version == 1
    assert stored.history.count() == 1


@pytest.mark.parametrize(("extra", "field", "message"), [
    ({"amount": Decimal("-1")}, "amount", "An amount cannot be negative."),
    ({"amount": "-0.01"}, "amount", "An amount cannot be negative."),
    ({"currency": "EUR"}, "currency", "Unknown currency “EUR”: choose USD, KRW."),
    ({"currency": ""}, "currency", "Choose the currency: USD, KRW."),
    ({"side": "japan"}, "side", "Unknown side “japan”: choose us, rok, partner, industry."),
    ({"side": ""}, "side", "Choose whose resources these are: us, rok, partner, industry."),
    ({"kind": "hoped"}, "kind", "Unknown kind “hoped”: choose planned, committed, spent."),
    ({"fiscal_year": 1949}, "fiscal_year", "The fiscal year must be between 1950 and 2100."),
    ({"fiscal_year": 30000}, "fiscal_year", "The fiscal year must be between 1950 and 2100."),
    ({"amount": Decimal("1000.50"), "currency": "KRW"}, "amount", "An amount in KRW is in whole won (no decimals)."),
    ({"source": "FMF\x1b[31m"}, "source", None),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(editor, extra, field, message):
    project = ProjectFactory()
    errors = _refused(lambda: _line(project, by=editor, **extra))
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]
    assert ResourceLine.all_objects.count() == 0


def test_every_message_at_once(editor):
    project = ProjectFactory()
    errors = _refused(lambda: _line(project, by=editor, side="", amount=-5, currency="EUR", fiscal_year=1900))
    assert set(errors) == {"side", "amount", "currency", "fiscal_year"}
    assert ResourceLine.all_objects.count() == 0


def test_a_deleted_project_takes_no_line(editor, lead):
    project = ProjectFactory()
    project_services.project_soft_delete(project=project, by=editor)
    project = CooperativeProject.all_objects.get(pk=project.pk)
    assert _refused(lambda: _line(project, by=editor)) == {"project": ["The project is deleted."]}
    assert ResourceLine.all_objects.count() == 0


def test_a_duplicate_external_id_is_refused(editor):
    project = ProjectFactory()
    _line(project, by=editor, external_id="sync-1")
    assert list(_refused(lambda: _line(project, by=editor, external_id="sync-1"))) == ["external_id"]
    assert ResourceLine.all_objects.count() == 1


def test_update_is_version_checked_and_keeps_the_project(editor):
    project, other = ProjectFactory(), ProjectFactory()
    line = _line(project, by=editor)
    resource_line_update(line=line, by=editor, expected_version=1, kind="committed", amount=Decimal("750"))
    line.refresh_from_db()
    assert (line.kind, line.amount, line.version, line.updated_by) == ("committed", Decimal("750.00"), 2, editor)
    with pytest.raises(VersionConflict):
        resource_line_update(line=ResourceLine.objects.get(pk=line.pk), by=editor, expected_version=1, amount=1)
    errors = _refused(lambda: resource_line_update(line=line, by=editor, project=other))
    assert list(errors) == ["project"]
    errors = _refused(lambda: resource_line_update(line=line, by=editor, amount=Decimal("-3")))
    assert errors == {"amount": ["An amount cannot be negative."]}
    line.refresh_from_db()
    assert (line.project_id, line.amount, line.version) == (project.pk, Decimal("750.00"), 2)


def test_a_migrated_line_without_a_side_gets_one_on_its_first_edit(editor):
    line = ResourceLineFactory(side="", fiscal_year=None)  # as the migration made it
    errors = _refused(lambda: resource_line_update(line=line, by=editor, amount=Decimal("5")))
    assert list(errors) == ["side"]
    resource_line_update(line=ResourceLine.objects.get(pk=line.pk), by=editor, side="rok", amount=Decimal("5"))
    assert ResourceLine.objects.get(pk=line.pk).side == "rok"


def test_delete_leaves_the_totals_and_restore_brings_it_back(editor):
    project = ProjectFactory()
    line = _line(project, by=editor)
    _line(project, by=editor, amount=Decimal("500"))
    resource_line_delete(line=line, by=editor, expected_version=1)
    assert _totals(selectors.project_resource_totals(project)) == {("us", "planned", "USD"): Decimal("500.00")}
    with pytest.raises(ValidationError):
        resource_line_update(line=ResourceLine.all_objects.get(pk=line.pk), by=editor, amount=1)
    resource_line_restore(line=ResourceLine.all_objects.get(pk=line.pk), by=editor)
    assert _totals(selectors.project_resource_totals(project)) == {("us", "planned", "USD"): Decimal("1500.00")}


def test_totals_are_per_side_kind_and_currency_never_adding_usd_to_krw(editor):
    project = ProjectFactory()
    _line(project, by=editor, side="us", kind="planned", amount=Decimal("1000000.50"), currency="USD")
    _line(project, by=editor, side="us", kind="planned", amount=Decimal("250000"), currency="USD", fiscal_year=2027)
    _line(project, by=editor, side="us", kind="planned", amount=Decimal("1300000000"), currency="KRW")
    _line(project, by=editor, side="rok", kind="committed", amount=Decimal("2000000000"), currency="KRW")
    _line(project, by=editor, side="rok", kind="spent", amount=Decimal("5000"), currency="USD")
    expected = {
        ("us", "planned", "USD"): Decimal("1250000.50"),
        ("rok", "spent", "USD"): Decimal("5000.00"),
        ("us", "planned", "KRW"): Decimal("1300000000.00"),
        ("rok", "committed", "KRW"): Decimal("2000000000.00"),
    }
    rows = selectors.project_resource_totals(project)
    assert _totals(rows) == expected
    # In order: USD first, then KRW; within a currency by side, then kind.
    assert [(r["currency"], r["side"], r["kind"]) for r in rows] == [
        ("USD", "us", "planned"), ("USD", "rok", "spent"), ("KRW", "us", "planned"), ("KRW", "rok", "committed")]
    tables = selectors.resource_tables(rows)
    assert [t["currency"] for t in tables] == ["USD", "KRW"]
    krw = tables[1]
    all_sides = {cell["kind"]: cell["total"] for cell in krw["all"]}
    assert all_sides == {"planned": Decimal("1300000000.00"), "committed": Decimal("2000000000.00"), "spent": None}


def test_dashboard_totals_cover_only_the_projects_given_in_one_query(editor, django_assert_num_queries):
    shown, hidden = ProjectFactory(lead_side="us"), ProjectFactory(lead_side="rok")
    _line(shown, by=editor, amount=Decimal("10"))
    _line(hidden, by=editor, amount=Decimal("99"))
    ResourceLineFactory(project=shown, side="partner", kind="committed", amount="7", currency="KRW")
    with django_assert_num_queries(1):
        rows = selectors.resource_totals(projects=CooperativeProject.objects.filter(lead_side="us"))
    assert _totals(rows) == {("us", "planned", "USD"): Decimal("10.00"),
                             ("partner", "committed", "KRW"): Decimal("7.00")}
    assert selectors.resource_totals(projects=CooperativeProject.objects.none()) == []


def test_a_deleted_projects_lines_do_not_count_on_the_dashboard(editor):
    project = ProjectFactory()
    _line(project, by=editor)
    project_services.project_soft_delete(project=project, by=editor)
    assert selectors.resource_totals(projects=CooperativeProject.objects.all()) == []


def test_the_export_totals_are_one_query_for_any_number_of_projects(editor, django_assert_num_queries):
    projects = [ProjectFactory() for _ in range(3)]
    for project in projects:
        _line(project, by=editor, amount=Decimal("1"))
        _line(project, by=editor, side="rok", amount=Decimal("2000"), currency="KRW")
    with django_assert_num_queries(1):
        found = selectors.resource_totals_by_project(projects=CooperativeProject.objects.all())
    assert found[projects[0].pk] == {("us", "planned", "USD"): Decimal("1.00"),
                                     ("rok", "planned", "KRW"): Decimal("2000.00")}


def test_the_sample_data_has_usd_and_krw_lines_and_loads_twice_without_duplicates():
    from scm_reports.services import sample_data_load

    sample_data_load(today=datetime.date(2026, 3, 1))
    sample_data_load(today=datetime.date(2026, 3, 1))
    lines = ResourceLine.objects.filter(external_id__startswith="sample-")
    assert lines.count() == 2 * CooperativeProject.objects.filter(external_id__startswith="sample-").count() > 0
    assert set(lines.values_list("currency", flat=True)) == {"USD", "KRW"}
