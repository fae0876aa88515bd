"""The migration to resource lines (issue 11): each project's former single
resources estimate becomes one ``planned`` line with the same amount,
currency and note (projects/migrations/0008, then 0009 drops the columns),
and going back restores the estimate.

It migrates the real test database back and forth (SQLite or PostgreSQL),
so it runs outside a test transaction (``transaction=True``: on PostgreSQL
too, where DDL is transactional) and ends at the latest state."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("projects", "0007_bilingual")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def at_0007():
    """The schema before resource lines; always back to the latest afterwards."""
    try:
        yield _migrate(BEFORE)
    finally:
        _migrate(_latest())


def test_each_estimate_becomes_one_planned_line_with_the_same_amount_currency_and_note_and_back(at_0007):
    apps = at_0007
    Project = apps.get_model("projects", "CooperativeProject")
    area = apps.get_model("rcf", "PriorityArea").objects.get(code="maritime-security")
    usd = Project.objects.create(title="Coast guard training", priority_area=area, lead_side="us", target_year=2026,
                                 resources_estimate=Decimal("1250000.50"), resources_currency="USD",
                                 resources_note="FMF, two courses")
    krw = Project.objects.create(title="Cyber range", priority_area=area, lead_side="joint",
                                 resources_estimate=Decimal("1300000000"), resources_currency="KRW",
                                 resources_note="")
    none = Project.objects.create(title="No estimate", priority_area=area, lead_side="rok")

    apps = _migrate(_latest())
    ResourceLine = apps.get_model("projects", "ResourceLine")
    lines = {line.project_id: line for line in ResourceLine.objects.all()}
    assert set(lines) == {usd.pk, krw.pk}  # no estimate, no line
    first = lines[usd.pk]
    assert (first.kind, first.amount, first.currency, first.note) == (
        "planned", Decimal("1250000.50"), "USD", "FMF, two courses")
    assert (first.side, first.fiscal_year) == ("us", 2026)  # the lead side, the target year
    second = lines[krw.pk]
    assert (second.kind, second.amount, second.currency, second.note) == (
        "planned", Decimal("1300000000.00"), "KRW", "")
    assert second.side == ""  # a joint project: nobody had said whose
    assert "resources_estimate" not in {f.name for f in apps.get_model("projects", "CooperativeProject")._meta.fields}

    # The new code reads the migrated lines: totals per side, kind and currency.
    from projects.models import CooperativeProject
    from projects.selectors import resource_totals

    totals = {(r["side"], r["kind"], r["currency"]): r["total"]
              for r in resource_totals(projects=CooperativeProject.objects.all())}
    assert totals == {("us", "planned", "USD"): Decimal("1250000.50"), ("", "planned", "KRW"): Decimal("1300000000")}
    assert none.pk not in lines

    # And back (one test: each migration run costs seconds): the estimate comes back from the planned line.
    apps = _migrate(BEFORE)
    back = apps.get_model("projects", "CooperativeProject").objects.get(pk=usd.pk)
    assert (back.resources_estimate, back.resources_currency, back.resources_note) == (
        Decimal("1250000.50"), "USD", "FMF, two courses")
