"""The API's JSON through orjson (rcf/renderers.py, issue 14) is byte for byte what DRF's
own JSONRenderer writes, so clients parse the same values and ETags (hashes of the
bytes, or of the canonical JSON) stay the same for the same content."""

import datetime
import decimal
import json
import uuid
import zoneinfo

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from rcf import renderers

# Every character of the Basic Multilingual Plane's first part (controls, quotes, backslash,
# Latin, Hangul Jamo, U+2028/U+2029…) and beyond it, surrogates excepted.
TEXT = "".join(chr(c) for c in range(0x3000) if not 0xD800 <= c <= 0xDFFF) + "한국어 \U0001F600 \U0010FFFF"
SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")
VALUES = [
    TEXT, "", "\u2028\u2029", 0, -1, 2**63 - 1, -(2**63), 2**64, 10**30, 1.5, 0.1, 123456.789, True, False, None,
    [], {}, (1, "a"), {"b": 1, "a": [1, {"z": None, "é": "ü"}]},
    datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
    datetime.datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=datetime.UTC),
    datetime.datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=SEOUL), datetime.datetime(2026, 1, 2),
    datetime.date(2026, 1, 2), datetime.time(3, 4, 5), datetime.timedelta(hours=1, microseconds=5),
    decimal.Decimal("1.10"), uuid.UUID("12345678-1234-5678-1234-567812345678"), gettext_lazy("Not found."),
    {1: "an int key"}, {"nested": {2: 3}}, b"bytes",
]


def test_the_renderer_writes_what_drf_writes():
    drf, fast = JSONRenderer(), renderers.FastJSONRenderer()
    for value in [*VALUES, VALUES]:
        assert fast.render(value) == drf.render(value), repr(value)[:80]
        assert renderers.dumps(value) == (drf.render(value) if value is not None else b"null"), repr(value)[:80]
    assert b"\\u2028" in fast.render({"text": "\u2028"})  # escaped, as DRF does: still valid JavaScript
    assert fast.render(None) == b""
    # An indented answer (the browsable API, Accept: …; indent=4) is DRF's own.
    assert fast.render({"a": [1]}, "application/json; indent=4") == drf.render({"a": [1]}, "application/json; indent=4")


def test_canonical_json_is_the_stdlib_json_that_etags_hash():
    for value in [*VALUES, VALUES]:
        expected = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
        assert renderers.canonical(value) == expected.encode(), repr(value)[:80]


def test_the_api_renders_through_it(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"][0] == "rcf.renderers.FastJSONRenderer"
