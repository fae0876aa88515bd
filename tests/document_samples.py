"""Small real files of every allowed type (and a disallowed one), made in
the test run: the document tests upload them."""

from __future__ import annotations

import base64
import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n165\n%%EOF\n"
)
# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
TXT = "Minutes of the working group — 실무그룹 회의록\n".encode()
# The first bytes of a Windows program: "MZ", then the DOS header's zeros.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
)


def jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), (11, 79, 138)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _office(folder: str, part: str, extra: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(f"{folder}/{part}", '<?xml version="1.0"?><root/>')
        for name, text in (extra or {}).items():
            archive.writestr(name, text)
    return buffer.getvalue()


def docx() -> bytes:
    return _office("word", "document.xml")


def pptx() -> bytes:
    return _office("ppt", "presentation.xml")


def xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["Line", "Amount"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


def allowed() -> dict[str, tuple[bytes, str]]:
    """name -> (content, the content type the tracker records)."""
    return {
        "brief.pdf": (PDF, "application/pdf"),
        "photo.png": (PNG, "image/png"),
        "photo.jpg": (jpeg(), "image/jpeg"),
        "minutes.docx": (docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        "budget.xlsx": (xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "slides.pptx": (pptx(), "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        "notes.txt": (TXT, "text/plain"),
    }


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    """As the browser sends it (the Content-Type it claims is ignored)."""
    return SimpleUploadedFile(name, content, content_type=content_type)
