"""What an uploaded document really is, read from its content (issue 11).

The allow-list is PDF, Word (.docx), Excel (.xlsx), PowerPoint (.pptx), PNG,
JPEG and plain text. The type is decided by the bytes, never by the name or
the browser's Content-Type: puremagic reads the signature; the three Office
formats share the ZIP signature, so the archive's members tell them apart
(``[Content_Types].xml`` and ``word/``, ``xl/`` or ``ppt/``); plain text is
valid UTF-8 without NUL characters. The name's extension must then agree
with the content, so an executable renamed ``.pdf`` is refused, and the
message says what the file is.
"""

from __future__ import annotations

import codecs
import hashlib
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass

import puremagic
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# kind -> (content type, extensions the name may end in, what to call it)
KINDS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "pdf": ("application/pdf", (".pdf",), "PDF"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",),
             gettext_lazy("Word (.docx)")),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",),
             gettext_lazy("Excel (.xlsx)")),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",),
             gettext_lazy("PowerPoint (.pptx)")),
    "png": ("image/png", (".png",), "PNG"),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg"), "JPEG"),
    "txt": ("text/plain", (".txt",), gettext_lazy("plain text (.txt)")),
}
_OFFICE_FOLDERS = (("docx", "word/"), ("xlsx", "xl/"), ("pptx", "ppt/"))
_PNG = b"\x89PNG\r\n\x1a\n"
_HEAD = 8192
_MB = 1024 * 1024


@dataclass(frozen=True)
class FileFacts:
    name: str  # the sanitised original name
    kind: str
    content_type: str
    size: int
    sha256: str


def max_upload_bytes() -> int:
    return int(settings.RCF_MAX_UPLOAD_MB) * _MB


def human_size(size: int) -> str:
    """Rounded up, so a file just over a limit never reads as the limit itself."""
    if size >= _MB:
        return _("%(size).1f MB") % {"size": math.ceil(size * 10 / _MB) / 10}
    if size >= 1024:
        return _("%(size).1f KB") % {"size": size / 1024}
    return _("%(size)d bytes") % {"size": size}


def allowed_types_text() -> str:
    return ", ".join(str(label) for _ct, _ext, label in KINDS.values())


_UNSAFE_NAME = re.compile(r"[\ufffe\uffff]")


def clean_file_name(name: str | None) -> str:
    """The name the user's file had, safe to store and to send back: no
    folders, no control or formatting characters (a right-to-left override
    can make ``exe.pdf`` read as ``fdp.exe``), no leading dots, at most 255
    characters with the extension kept."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    name = _UNSAFE_NAME.sub("", name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 255 - len(ext) - 1] + "." + ext) if dot and len(ext) < 20 else name[:255]
    return name


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot and stem else ""


def _read_facts(upload) -> tuple[bytes, int, str, bool]:
    """First bytes, size, SHA-256, and whether the whole file is UTF-8 text
    without NUL, in one pass over the file."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    head = b""
    size = 0
    text = True
    for chunk in upload.chunks():
        if len(head) < _HEAD:
            head += chunk[: _HEAD - len(head)]
        size += len(chunk)
        digest.update(chunk)
        if text:
            if b"\x00" in chunk:
                text = False
            else:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    text = False
    if text:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            text = False
    return head, size, digest.hexdigest(), text


def _office_kind(upload, wanted: str) -> tuple[str | None, str]:
    """docx/xlsx/pptx from a ZIP archive's members, or (None, what it is)."""
    try:
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None, _("a damaged ZIP archive")
    finally:
        upload.seek(0)
    if "[Content_Types].xml" not in names:
        return None, _("a ZIP archive")
    found = [kind for kind, folder in _OFFICE_FOLDERS if any(n.startswith(folder) for n in names)]
    if not found:
        return None, _("a ZIP archive")
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        return None, _("an Office file with macros")
    return (wanted if wanted in found else found[0]), ""


def _describe(head: bytes) -> str:
    """What puremagic takes the content for, e.g. "a Windows Executable file (.exe)"."""
    try:
        candidates = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        candidates = []
    if not candidates:
        return _("a file of an unknown type")
    # puremagic ranks by the length of the match: a program's standard DOS header also matches
    # obscure formats with longer signatures; the candidates with a MIME type are the common ones.
    best = next((c for c in candidates if c.mime_type), candidates[0])
    return _("a %(name)s (%(ext)s)") % {"name": best.name, "ext": best.extension} if best.extension else best.name


def _kind_from_signature(head: bytes) -> str | None:
    try:
        extensions = {c.extension.lower() for c in puremagic.magic_string(head)}
    except (puremagic.PureError, ValueError):
        extensions = set()
    if head.startswith(b"%PDF-") and ".pdf" in extensions:
        return "pdf"
    if head.startswith(_PNG) and ".png" in extensions:
        return "png"
    if head.startswith(b"\xff\xd8\xff") and extensions & {".jpg", ".jpeg", ".jfif", ".jpe"}:
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


def inspect_upload(upload) -> FileFacts:
    """Check an uploaded file against the size limit and the allow-list;
    ``ValidationError({"file": …})`` naming the problem, or its facts."""
    name = clean_file_name(getattr(upload, "name", ""))
    limit = max_upload_bytes()
    declared = getattr(upload, "size", None)
    too_big = _("The file is %(size)s; a document can be at most %(limit)d MB.")
    if declared is not None and declared > limit:
        raise ValidationError({"file": [too_big % {"size": human_size(declared), "limit": settings.RCF_MAX_UPLOAD_MB}]})
    head, size, sha256, is_text = _read_facts(upload)
    upload.seek(0)
    if size > limit:
        raise ValidationError({"file": [too_big % {"size": human_size(size), "limit": settings.RCF_MAX_UPLOAD_MB}]})
    if size == 0:
        raise ValidationError({"file": [_("The file “%(name)s” is empty.") % {"name": name}]})
    extension = _extension(name)
    kind = _kind_from_signature(head)
    what = ""
    if kind == "zip":
        wanted = next((k for k, (_ct, exts, _label) in KINDS.items() if extension in exts), "")
        kind, what = _office_kind(upload, wanted)
    elif kind is None:
        if is_text:
            kind = "txt"
        else:
            what = _describe(head)
    if kind is None:
        raise ValidationError({"file": [
            _("“%(name)s” is %(what)s, which cannot be uploaded. Allowed: %(allowed)s.")
            % {"name": name, "what": what, "allowed": allowed_types_text()}]})
    content_type, extensions, label = KINDS[kind]
    if extension not in extensions:
        raise ValidationError({"file": [
            _("“%(name)s” is %(what)s by its content, but its name does not end in %(expected)s: rename it, "
              "or upload the right file.") % {"name": name or "?", "what": label, "expected": " / ".join(extensions)}]})
    return FileFacts(name=name, kind=kind, content_type=content_type, size=size, sha256=sha256)
