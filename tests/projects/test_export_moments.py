"""The project export's "Updated" column (issue 13): the framework's time zone, with its offset, as the
pages show it, not UTC with the offset dropped (9 hours off)."""

import csv
import datetime
import io

import pytest
from openpyxl import load_workbook

from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_updated_is_in_the_framework_time_zone_with_its_offset(client, viewer):
    project = ProjectFactory(title="Timed")
    type(project).all_objects.filter(pk=project.pk).update(
        updated_at=datetime.datetime(2026, 11, 23, 22, 54, 12, tzinfo=datetime.UTC))
    client.force_login(viewer)
    rows = list(csv.DictReader(io.StringIO(client.get("/projects/export.csv").content.decode("utf-8-sig"))))
    assert rows[0]["Updated"] == "2026-11-24T07:54:12+09:00"
    book = load_workbook(io.BytesIO(client.get("/projects/export.xlsx").content))
    sheet = book.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(row=2, column=header.index("Updated") + 1).value == "2026-11-24T07:54:12+09:00"
