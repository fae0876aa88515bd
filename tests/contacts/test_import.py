"""Spreadsheet import of points of contact and organisations (issue 13):
their exports' shape, matching by ID / e-mail / name and side, a dry run that
writes nothing, bad rows named by row and column, the admin-only fields kept
for administrators, the version check, the page and the command."""

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from contacts.imports import importer_for
from contacts.models import Organization, PointOfContact
from rcf.imports import run_import
from tests.factories import OrganizationFactory, PointOfContactFactory, area

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _imports_in_a_temporary_folder(settings, tmp_path):
    settings.RCF_IMPORT_DIR = str(tmp_path / "imports")


def _csv(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def _import(content, name="c.csv", *, dry_run=False, by=None):
    upload = io.BytesIO(content)
    return run_import(importer_for(upload, name, by=by), upload=upload, name=name, dry_run=dry_run)


def test_organisations_then_points_of_contact_are_created_and_matched():
    orgs = _csv([["Name", "Korean name", "Side", "Country", "Website"],
                 ["Department of State", "국무부", "U.S. government", "", "https://state.example"],
                 ["Philippine Coast Guard", "", "partner", "PH", ""]])
    report = _import(orgs)
    assert report.applied and report.created == 2
    assert Organization.objects.get(name="Philippine Coast Guard").country.iso2 == "PH"
    pocs = _csv([["Full name", "Name in Korean", "Organisation", "Side", "E-mail", "Priority areas", "Active"],
                 ["Jordan Lee", "", "Department of State", "U.S.", "jordan@example.org", "maritime-security", "yes"],
                 ["김민준", "김민준", "국무부", "us", "kim@example.kr", "해양안보, capacity-building", "예"]])
    report = _import(pocs)
    assert report.errors == [] and report.created == 2
    kim = PointOfContact.objects.get(email="kim@example.kr")
    assert kim.organization.name == "Department of State"
    assert sorted(a.code for a in kim.priority_areas.all()) == ["capacity-building", "maritime-security"]
    # The same file again: matched by e-mail, nothing to change.
    assert _import(pocs).unchanged == 2


def test_update_by_email_changes_only_what_changed_and_a_stale_version_is_refused():
    poc = PointOfContactFactory(full_name="Jordan Lee", email="jordan@example.org", phone="1")
    report = _import(_csv([["E-mail", "Phone", "Version"], ["jordan@example.org", "2", "1"]]))
    assert report.applied and report.shown[0].changes == [("Phone", "1", "2")]
    poc.refresh_from_db()
    assert poc.phone == "2" and poc.version == 2 and poc.full_name == "Jordan Lee"
    report = _import(_csv([["E-mail", "Phone", "Version"], ["jordan@example.org", "3", "1"]]))
    assert report.errors == [(2, "Version", "The record changed since this file was exported (version 1, now 2): "
                                            "export again and redo the change.")]
    poc.refresh_from_db()
    assert poc.phone == "2"


@pytest.mark.parametrize("rows, expected", [
    ([["Name", "Side", "Country"], ["A", "us", ""], ["B", "partner", "Atlantis"]],
     [(3, "Country", "Unknown country “Atlantis”: give its ISO code or name.")]),
    ([["Name", "Side", "Colour"], ["A", "us", "red"]],
     [(1, "column C “Colour”", "Unknown column: use the export's header (labels in English or Korean, or the keys "
                              "of ?headers=keys).")]),
    ([["Name", "Side"], ["A", "us"], ["a", "us"]],
     [(2, "Name", "“a (us)” is also in row 3: each record once per file."),
      (3, "Name", "“A (us)” is also in row 2: each record once per file.")]),
], ids=["unknown-country", "unknown-column", "duplicate"])
def test_bad_organisation_rows_are_named_and_nothing_is_written(rows, expected):
    report = _import(_csv(rows))
    assert [(r, c, m.casefold()) for r, c, m in report.errors] == [(r, c, m.casefold()) for r, c, m in expected]
    assert not Organization.all_objects.exists()


def test_bad_poc_rows_are_named_and_nothing_is_written():
    OrganizationFactory(name="Department of State")
    report = _import(_csv([
        ["Full name", "Organisation", "Side", "E-mail", "Priority areas"],
        ["A", "Department of State", "us", "a@example.org", "maritime-security"],
        ["B", "Nowhere", "us", "b@example.org", ""],
        ["C", "Department of State", "us", "a@example.org", "space"],
    ]))
    assert report.errors == [
        (2, "E-mail", "“a@example.org” is also in row 4: each record once per file."),
        (3, "Organisation", "No organisation is named “Nowhere”: import the organisations first."),
        (4, "E-mail", "“a@example.org” is also in row 2: each record once per file."),
    ]
    assert not PointOfContact.all_objects.exists()


def test_only_administrators_designate_leads_by_import(editor, administrator):
    OrganizationFactory(name="Department of State")
    content = _csv([["Full name", "Organisation", "Side", "E-mail", "Lead POC"],
                    ["A", "Department of State", "us", "a@example.org", "True"]])
    report = _import(content, by=editor)
    assert report.errors == [(2, "Lead POC", "Only administrators can designate or remove lead POCs.")]
    assert not PointOfContact.all_objects.exists()
    assert _import(content, by=administrator).applied
    assert PointOfContact.objects.get().is_lead


def test_dry_run_writes_nothing():
    report = _import(_csv([["Name", "Side"], ["A", "us"]]), dry_run=True)
    assert report.created == 1 and not report.applied
    assert not Organization.all_objects.exists()


def test_exports_with_keys(client, viewer):
    PointOfContactFactory(full_name="Jordan Lee", email="jordan@example.org")
    client.force_login(viewer)
    text = client.get("/contacts/export.csv?headers=keys").content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith(
        '"id","full_name","full_name_ko","title","organization","organization_side","side","email"')
    text = client.get("/contacts/organizations/export.csv").content.decode("utf-8-sig")
    assert text.splitlines()[0] == '"ID","Name","Korean name","Side","Country","Website","Notes","Version"'


def test_the_page_permission_and_flow(client, viewer, editor):
    client.force_login(viewer)
    assert client.get("/contacts/import/").status_code == 403
    client.force_login(editor)
    upload = io.BytesIO(_csv([["Name", "Side"], ["Coast Guard", "us"]]))
    upload.name = "orgs.csv"
    checked = client.post("/contacts/import/", {"file": upload}, follow=True)
    assert checked.status_code == 200 and "Import 1 row" in checked.content.decode()
    assert not Organization.all_objects.exists()
    run = checked.context["run"]
    assert run.kind == "contacts" and run.created_by == editor
    assert client.post("/contacts/import/", {"apply": run.pk}).status_code == 302
    assert Organization.objects.get().name == "Coast Guard"


def test_the_command(tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_bytes(_csv([["Name", "Side"], ["Coast Guard", "nowhere"]]))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_contacts", str(path), stdout=out, stderr=err)
    assert "row 2, Side: Unknown value “nowhere”" in err.getvalue()
    path.write_bytes(_csv([["Name", "Side"], ["Coast Guard", "us"]]))
    call_command("import_contacts", str(path), "--dry-run", stdout=out)
    assert not Organization.all_objects.exists()
    call_command("import_contacts", str(path), stdout=out)
    assert Organization.objects.get().name == "Coast Guard"
    assert area() is not None
