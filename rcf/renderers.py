"""JSON for the API with ``orjson`` (issue 14): the same bytes as DRF's
``JSONRenderer``, several times faster.

A full sync hands out every record; with the stdlib encoder, encoding the
pages (and hashing them for their ETags) cost as much as the queries. Every
function here produces *byte for byte* what the stdlib path produced, so
clients parse the same values and ETags (hashes of those bytes, or of the
canonical JSON) stay what they were for the same content:

* compact separators, non-ASCII as UTF-8 (DRF's ``UNICODE_JSON``), and
  U+2028 / U+2029 escaped as DRF does;
* what JSON has no type for (a lazy translation, a date, a ``Decimal``, a
  UUID…) goes through DRF's own ``JSONEncoder.default``: orjson is told to
  pass datetimes and dataclasses to it instead of formatting them itself;
* anything orjson refuses (an integer beyond 64 bits, a dict with non-string
  keys, nesting deeper than 254 levels) falls back to the stdlib encoder, so
  the answer is the same, only slower.

One difference is left, and no answer of the API has it (no resource has a
float field): a float below 1e-4 is written ``1e-7`` where the stdlib writes
``1e-07`` (the same number to every JSON parser). And ``NaN``, which DRF's
strict JSON refuses with an error, is written ``null``.

``tests/rcf/test_fast_json.py`` compares the two paths on every kind of value
the API answers with.
"""

from __future__ import annotations

import json

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_LINE_SEPARATORS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))
# Datetimes, dates and times through DRF's encoder (orjson would write them its own way); dataclasses too.
_AS_DRF = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_default = JSONEncoder().default


def _escape_line_separators(data: bytes) -> bytes:
    """DRF escapes U+2028 and U+2029 so the JSON is also valid JavaScript."""
    if b"\xe2\x80" in data:
        for raw, escaped in _LINE_SEPARATORS:
            data = data.replace(raw, escaped)
    return data


# Public: JSON written elsewhere (PostgreSQL's, rcf.sync_json) is escaped the same way.
escape_line_separators = _escape_line_separators


def dumps(data) -> bytes:
    """What ``JSONRenderer`` renders for ``data`` (compact, UTF-8), as bytes."""
    try:
        return _escape_line_separators(orjson.dumps(data, default=_default, option=_AS_DRF))
    except orjson.JSONEncodeError:
        return _RENDERER.render(data)


def canonical(value) -> bytes:
    """``json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)``,
    UTF-8 encoded: what ETags of content are hashes of."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS | _AS_DRF)
    except orjson.JSONEncodeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False).encode()


class FastJSONRenderer(JSONRenderer):
    """DRF's ``JSONRenderer`` through orjson; the same bytes (see the module). An indented answer
    (``Accept: application/json; indent=4``, the browsable API) or settings that change the output
    (``COMPACT_JSON``, ``UNICODE_JSON`` off) take DRF's own path."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if (not self.compact or self.ensure_ascii
                or self.get_indent(accepted_media_type, renderer_context or {}) is not None):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            return _escape_line_separators(orjson.dumps(data, default=_default, option=_AS_DRF))
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)


_RENDERER = JSONRenderer()
