"""Spreadsheet import of projects (issue 13): the shape of the export, a dry
run that writes nothing, every bad row named by row and column with nothing
written, updates through the services with the version check, and the round
trip export → import into an empty database → export giving the same file."""

import csv
import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook, load_workbook

from contacts.models import Organization, PointOfContact
from projects import services
from projects.imports import ProjectImporter
from projects.models import CooperativeProject, ResourceLine
from rcf.imports import run_import
from rcf.models import ImportRun
from tests.factories import OrganizationFactory, PointOfContactFactory, area, country

pytestmark = pytest.mark.django_db

FROZEN = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _imports_in_a_temporary_folder(settings, tmp_path):
    settings.RCF_IMPORT_DIR = str(tmp_path / "imports")


def _csv(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode()


def _xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _import(content: bytes, name="projects.csv", *, dry_run=False, by=None):
    return run_import(ProjectImporter(by=by), upload=io.BytesIO(content), name=name, dry_run=dry_run)


def _export(client, fmt="csv", query=""):
    response = client.get(f"/projects/export.{fmt}{query}")
    assert response.status_code == 200
    return response.content


def _csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def _xlsx_values(content: bytes) -> list[list]:
    return [list(r) for r in load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True)]


def _varied_data():
    """Korean titles, several countries, lead POCs, resource amounts (USD cents, whole won), a title that
    starts with "=" (a formula to a spreadsheet), an external id or none."""
    us_org = OrganizationFactory(name="Department of State", name_ko="국무부", side="us")
    rok_org = OrganizationFactory(name="Ministry of Foreign Affairs", name_ko="외교부", side="rok")
    us = PointOfContactFactory(full_name="Jordan Lee", side="us", organization=us_org, email="jordan@example.org",
                               is_lead=True, phone="+1 202 555 0100")
    us.priority_areas.set([area("maritime-security"), area()])
    rok = PointOfContactFactory(full_name="Kim Min-jun", full_name_ko="김민준", side="rok", organization=rok_org,
                                email="kim@example.kr", preferred_language="ko")
    first = services.project_create(
        title="=HYPERLINK(\"http://x\")", title_ko="해양 안보 훈련", priority_area=area("maritime-security"),
        lead_side="joint", us_lead_poc=us, rok_lead_poc=rok, partner_countries=[country("PH"), country("VN")],
        priority=2, target_year=2027, start_date=datetime.date(2026, 1, 5), end_date=datetime.date(2027, 6, 30),
        external_id="EXT-1")
    services.resource_line_create(project=first, side="us", kind="planned", amount="1500.50", currency="USD")
    services.resource_line_create(project=first, side="rok", kind="committed", amount="2000000", currency="KRW")
    services.project_create(title="Disaster response", title_ko="재난 대응", priority_area=area(), lead_side="rok",
                            partner_countries=[country("ID")])
    # A title that itself starts with the CSV guard's quote keeps it (the guard doubles it, the import undoes
    # one); a full-width sign is guarded like "=".
    services.project_create(title="'=Ports, not a formula", title_ko="＝항만", priority_area=area(), lead_side="us",
                            us_lead_poc=us, partner_countries=[], external_id="EXT-3")
    return us, rok


def _empty_the_database():
    ResourceLine.all_objects.all().delete()
    CooperativeProject.all_objects.all().delete()
    PointOfContact.all_objects.all().delete()
    Organization.all_objects.all().delete()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_gives_the_same_files(client, administrator, fmt):
    from contacts.imports import importer_for

    with time_machine.travel(FROZEN, tick=False):
        _varied_data()
        client.force_login(administrator)
        before = {url: client.get(url).content for url in (
            f"/contacts/organizations/export.{fmt}", f"/contacts/export.{fmt}", f"/projects/export.{fmt}")}
        _empty_the_database()
        assert not CooperativeProject.all_objects.exists()
        for url, content in before.items():
            name = f"file.{fmt}"
            upload = io.BytesIO(content)
            importer = ProjectImporter(by=None) if url.startswith("/projects") else importer_for(upload, name, by=None)
            report = run_import(importer, upload=upload, name=name, dry_run=False)
            assert report.errors == [] and report.applied, url
        after = {url: client.get(url).content for url in before}
    for url in before:
        if fmt == "csv":
            assert after[url] == before[url], url
        else:
            assert _xlsx_values(after[url]) == _xlsx_values(before[url]), url
            _same_zip(after[url], before[url])
    rows = _csv_rows(after["/projects/export.csv"]) if fmt == "csv" else None
    if rows:
        assert rows[-1]["English title"] == "'=HYPERLINK(\"http://x\")"  # the CSV guard, as before
    first = CooperativeProject.objects.get(external_id="EXT-1")
    assert first.title == "=HYPERLINK(\"http://x\")" and first.title_ko == "해양 안보 훈련"
    assert sorted(c.iso2 for c in first.partner_countries.all()) == ["PH", "VN"]
    assert first.us_lead_poc.email == "jordan@example.org"


def _same_zip(one: bytes, other: bytes):
    import zipfile

    first, second = zipfile.ZipFile(io.BytesIO(one)), zipfile.ZipFile(io.BytesIO(other))
    assert first.namelist() == second.namelist()
    for name in first.namelist():
        assert first.read(name) == second.read(name), name


def test_dry_run_shows_the_plan_and_writes_nothing(client, administrator):
    _varied_data()
    client.force_login(administrator)
    content = _export(client)
    rows = _csv_rows(content)
    next(r for r in rows if r["English title"] == "Disaster response")["Korean title"] = "새 제목"
    rows.append({**{k: "" for k in rows[0]}, "English title": "Brand new", "Primary priority area": "해양 안보",
                 "Lead side": "U.S.", "Partner countries": "Philippines, 베트남", "External id": "NEW-1"})
    content = _rewrite(rows)
    before = list(CooperativeProject.all_objects.values_list("pk", "title_ko", "version"))
    report = _import(content, dry_run=True)
    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (1, 1, 2)
    update = next(r for r in report.shown if r.action == "update")
    assert update.changes == [("Korean title", "재난 대응", "새 제목")]
    create = next(r for r in report.shown if r.action == "create")
    assert ("Partner countries", "", "PH, VN") in create.changes
    assert list(CooperativeProject.all_objects.values_list("pk", "title_ko", "version")) == before
    assert not CooperativeProject.all_objects.filter(external_id="NEW-1").exists()


def _rewrite(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def test_update_by_external_id_changes_only_the_changed_fields_and_bumps_the_version(client, administrator):
    _varied_data()
    project = CooperativeProject.objects.get(external_id="EXT-1")
    history = project.history.count()
    content = _csv([["external_id", "title_ko", "priority", "partner_countries", "version"],
                    ["EXT-1", "해양 안보 훈련 2", "2", "VN, PH", str(project.version)]])
    report = _import(content)
    assert report.applied and report.updated == 1
    assert report.shown[0].changes == [("Korean title", "해양 안보 훈련", "해양 안보 훈련 2")]
    project.refresh_from_db()
    assert project.title_ko == "해양 안보 훈련 2" and project.version == 2
    assert project.title == "=HYPERLINK(\"http://x\")" and project.priority == 2
    assert project.history.count() == history + 1


def test_a_stale_version_is_refused_and_nothing_is_written(client, administrator):
    _varied_data()
    project = CooperativeProject.objects.get(external_id="EXT-1")
    services.project_update(project=project, title_ko="다른 사람이 바꿈")
    content = _csv([["External id", "Korean title", "Version"], ["EXT-3", "항만", "1"], ["EXT-1", "내 변경", "1"]])
    report = _import(content)
    assert not report.applied
    assert report.errors == [(3, "Version", "The project changed since this file was exported (version 1, now 2): "
                                            "export again and redo the change.")]
    assert CooperativeProject.objects.get(external_id="EXT-3").title_ko == "＝항만"
    assert CooperativeProject.objects.get(external_id="EXT-1").title_ko == "다른 사람이 바꿈"


@pytest.mark.parametrize("rows, expected", [
    ([["External id", "English title", "Primary priority area", "Lead side"],
      ["A-1", "One", "maritime-security", "us"], ["A-2", "Two", "Space", "us"]],
     [(3, "Primary priority area", "Unknown priority area “Space”: give its code or its name in English or Korean.")]),
    ([["External id", "English title", "Primary priority area", "Lead side", "Partner countries"],
      ["A-1", "One", "maritime-security", "us", "PH, Atlantis"]],
     [(2, "Partner countries", "Unknown partner country: Atlantis (give ISO codes such as PH, or names).")]),
    ([["External id", "English title", "Colour"], ["A-1", "One", "red"]],
     [(1, "column C “Colour”", "Unknown column: use the export's header (labels in English or Korean, or the keys "
                              "of ?headers=keys).")]),
    ([["External id", "English title", "Primary priority area", "Lead side"],
      ["A-1", "One", "maritime-security", "us"], ["A-2", "Two", "maritime-security", "us"],
      ["A-1", "Again", "maritime-security", "us"]],
     [(2, "External id", "“A-1” is also in row 4: each record once per file."),
      (4, "External id", "“A-1” is also in row 2: each record once per file.")]),
    ([["External id", "English title", "Primary priority area", "Lead side", "Status"],
      ["A-1", "One", "maritime-security", "us", "Ready"]],
     [(2, "Status", "The status changes through the project's lifecycle on its page, not by import (a new project "
                    "starts in “Concept”).")]),
], ids=["unknown-area", "unknown-country", "unknown-column", "duplicate-external-id", "status"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_bad_input_is_named_by_row_and_column_and_nothing_is_written(rows, expected, fmt):
    content = _csv(rows) if fmt == "csv" else _xlsx(rows)
    report = _import(content, name=f"bad.{fmt}")
    assert report.errors == expected
    assert not report.applied
    assert not CooperativeProject.all_objects.exists()


def test_a_formula_cell_is_refused():
    book = Workbook()
    book.active.append(["External id", "English title", "Primary priority area", "Lead side", "Priority"])
    book.active.append(["A-1", "One", "maritime-security", "us", 2])
    book.active.append(["A-2", "Two", "maritime-security", "us", "=1+1"])
    out = io.BytesIO()
    book.save(out)
    report = _import(out.getvalue(), name="formula.xlsx")
    assert report.errors == [(3, "Priority", "A formula is not accepted, type its value.")]
    assert not CooperativeProject.all_objects.exists()


def test_too_many_rows_is_refused_with_the_row(settings):
    settings.RCF_IMPORT_MAX_ROWS = 3
    rows = [["External id", "English title", "Primary priority area", "Lead side"]]
    rows += [[f"A-{n}", f"P {n}", "maritime-security", "us"] for n in range(5)]
    report = _import(_csv(rows))
    assert report.errors == [(5, "", "The file has more than 3 rows; split it.")]
    assert not CooperativeProject.all_objects.exists()


def test_a_file_over_the_size_limit_is_refused(settings):
    from rcf.imports import ImportFileError

    settings.RCF_IMPORT_MAX_BYTES = 100
    with pytest.raises(ImportFileError, match="at most"):
        _import(_csv([["External id", "English title"], ["A" * 200, "x"]]))


def test_export_headers_keys_and_import_by_keys_or_korean_labels(client, administrator):
    _varied_data()
    client.force_login(administrator)
    keys = _export(client, query="?headers=keys")
    header = next(csv.reader(io.StringIO(keys.decode("utf-8-sig"))))
    assert header[:4] == ["id", "title", "priority_area", "status"]
    assert {"external_id", "title_en", "title_ko", "version", "us_lead_poc_email", "us_planned_usd"} <= set(header)
    assert _import(keys, dry_run=True).unchanged == 3
    korean = client.get("/projects/export.xlsx", HTTP_ACCEPT_LANGUAGE="ko").content
    assert {"외부 ID", "주 우선 협력 분야", "영어 제목"} <= set(_xlsx_values(korean)[0])
    report = _import(korean, name="k.xlsx", dry_run=True)
    assert report.errors == [] and report.unchanged == 3


def test_the_handling_marking_row_is_skipped(client, administrator, settings):
    settings.RCF_HANDLING_MARKING = "CUI"
    _varied_data()
    client.force_login(administrator)
    for fmt in ("csv", "xlsx"):
        content = _export(client, fmt)
        report = _import(content, name=f"m.{fmt}", dry_run=True)
        assert report.errors == [] and report.unchanged == 3


def test_the_command_prints_the_plan_and_exits_non_zero_on_errors(tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(_csv([["External id", "English title", "Primary priority area", "Lead side"],
                           ["A-1", "One", "maritime-security", "us"]]))
    out = io.StringIO()
    call_command("import_projects", str(good), "--dry-run", stdout=out)
    assert "row 2: create A-1" in out.getvalue() and "Dry run, nothing written" in out.getvalue()
    assert not CooperativeProject.all_objects.exists()
    call_command("import_projects", str(good), stdout=out)
    assert CooperativeProject.objects.filter(external_id="A-1").count() == 1
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([["External id", "English title", "Primary priority area", "Lead side"],
                          ["A-2", "Two", "maritime-security", "us"], ["A-3", "Three", "nowhere", "us"]]))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 errors: nothing was written"):
        call_command("import_projects", str(bad), stdout=out, stderr=err)
    assert "row 3, Primary priority area: Unknown priority area “nowhere”" in err.getvalue()
    assert not CooperativeProject.all_objects.filter(external_id="A-2").exists()


def test_the_command_exit_code(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([["Colour"], ["red"]]))
    done = subprocess.run([sys.executable, "manage.py", "import_projects", str(bad), "--dry-run"],
                          capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "Unknown column" in done.stderr + done.stdout


def test_a_viewer_gets_403(client, viewer):
    client.force_login(viewer)
    assert client.get("/projects/import/").status_code == 403
    assert client.post("/projects/import/", {"file": io.BytesIO(b"x")}).status_code == 403


def test_the_page_checks_then_imports(client, editor):
    """A small file: checked at once on upload (the page shows the run), imported at once."""
    client.force_login(editor)
    page = client.get("/projects/import/")
    assert page.status_code == 200
    upload = io.BytesIO(_csv([["External id", "English title", "Primary priority area", "Lead side"],
                              ["W-1", "Web one", "maritime-security", "us"]]))
    upload.name = "p.csv"
    uploaded = client.post("/projects/import/", {"file": upload})
    assert uploaded.status_code == 302
    run = ImportRun.objects.get()
    assert uploaded["Location"] == f"/projects/import/?run={run.pk}"
    checked = client.get(uploaded["Location"])
    text = checked.content.decode()
    assert "Dry run" in text and "Web one" in text and "Import 1 row" in text
    assert 'data-hx-trigger="every 2s"' not in text  # finished: the page does not poll
    assert not CooperativeProject.all_objects.exists()
    done = client.post("/projects/import/", {"apply": run.pk})
    assert done.status_code == 302 and done["Location"] == "/projects/"
    assert CooperativeProject.objects.get(external_id="W-1").created_by == editor
    again = client.post("/projects/import/", {"apply": run.pk})
    assert again.status_code == 400 and CooperativeProject.objects.count() == 1
    assert "Imported" in client.get(f"/projects/import/?run={run.pk}").content.decode()


def test_another_users_run_is_not_found(client, editor, django_user_model):
    from django.test import Client

    client.force_login(editor)
    upload = io.BytesIO(_csv([["External id", "English title", "Primary priority area", "Lead side"],
                              ["W-1", "Web one", "maritime-security", "us"]]))
    upload.name = "p.csv"
    client.post("/projects/import/", {"file": upload})
    run = ImportRun.objects.get()
    other = Client()
    other.force_login(django_user_model.objects.create_user("other-editor", password="x", is_superuser=True))
    assert other.get(f"/projects/import/?run={run.pk}").status_code == 404
    assert other.post("/projects/import/", {"apply": run.pk}).status_code == 404
    assert other.post("/projects/import/", {"apply": "../../etc/passwd"}).status_code == 404
    assert "Web one" not in other.get("/projects/import/").content.decode()  # not in their recent imports
    assert not CooperativeProject.all_objects.exists()


def test_a_page_error_lists_row_and_column(client, editor):
    client.force_login(editor)
    upload = io.BytesIO(_csv([["External id", "English title", "Primary priority area", "Lead side"],
                              ["W-1", "Web one", "maritime-security", "Martian"]]))
    upload.name = "p.csv"
    page = client.post("/projects/import/", {"file": upload}, follow=True)
    text = page.content.decode()
    assert "Row 2, Lead side: Unknown value “Martian”" in text
    assert "import-apply" not in text
    assert not CooperativeProject.all_objects.exists()


def test_a_new_row_keeps_its_free_id_and_later_projects_do_not_collide():
    content = _csv([["ID", "External id", "English title", "Primary priority area", "Lead side"],
                    ["500", "A-1", "One", "maritime-security", "us"],
                    ["", "A-2", "Two", "maritime-security", "us"]])
    assert _import(content).applied
    assert CooperativeProject.objects.get(external_id="A-1").pk == 500
    assert CooperativeProject.objects.get(external_id="A-2").pk not in (500, None)
    later = services.project_create(title="Later", priority_area=area(), lead_side="us")
    assert later.pk > 500
