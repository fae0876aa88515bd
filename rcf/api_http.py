"""HTTP for the JSON API (issue 13): conditional GET and gzip, for ``/api/`` only.

* **ETag on every answer to a GET**: a record's is its version and a hash of
  its representation (``"3.5f0c…"``, set by ``rcf.api``; PUT, PATCH and DELETE
  name it, or just ``"3"``, in ``If-Match``), a sync page's is what the page
  holds (``rcf.api.SyncFeed``); any other answer (a list page, the readiness
  years) gets a hash of its body here. A non-JSON answer (the browsable API's
  HTML page) always gets a hash of its own body: it is another byte sequence
  than the JSON of the same record, so it must not share its strong tag.
* **304 Not Modified** when ``If-None-Match`` names the current tag (weak
  comparison, as RFC 9110 13.1.2 says), or, without ``If-None-Match``, when
  ``If-Modified-Since`` is not before ``Last-Modified`` (no API answer sends one
  today: see ``rcf.api.TrackedRecordViewSet.record_response``).
* ``Cache-Control: private, no-cache`` on every answer to a GET (unless the
  view chose its own): without it a browser may reuse an answer for hours
  by heuristic freshness; with it, it revalidates each time (a cheap 304).
* **gzip** when the client accepts it, for JSON answers to GET and HEAD only.
  Never an HTML page (a page with a CSRF token, compressed, is what BREACH
  reads; the browsable API and Swagger UI are HTML and stay plain), and never
  the answer to a write (the one answer that carries a secret, a new webhook
  endpoint's, is a POST). A compressed answer's strong ETag gets ``-gzip``
  appended (a strong tag names one byte sequence); ``If-None-Match`` and
  ``If-Match`` accept either form for the same version.
* ``Vary: Accept-Encoding, Authorization, Cookie``: what an answer holds
  depends on who asks (a role sees more or less), so a shared cache must not
  hand one client's answer to another.
"""

from __future__ import annotations

import hashlib
import re

from django.http import HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags, parse_http_date_safe
from django.utils.text import compress_string

GZIP_ETAG_SUFFIX = "-gzip"  # rcf.api's If-Match reads it too
_QUALITY = re.compile(r";\s*q\s*=\s*([^;,\s]*)", re.IGNORECASE)
_JSON = "application/json"
_COMPRESSIBLE = ("application/json", "application/vnd.oai.openapi")
_CACHE_CONTROL = "private, no-cache"
_MIN_GZIP_BYTES = 200  # below this, gzip's own header and trailer outweigh what it saves
# Copied onto a 304 (RFC 9110 15.4.5), as django.utils.cache does.
_KEPT_ON_304 = ("Cache-Control", "Content-Location", "Date", "ETag", "Expires", "Last-Modified", "Vary",
                "Access-Control-Allow-Origin", "Access-Control-Expose-Headers")


def accepts_gzip(header: str) -> bool:
    """``Accept-Encoding`` names gzip with a quality above zero (``gzip;q=0`` or ``GZIP;Q=0`` refuses
    it; so does a quality that is not a number, ``q=abc``: RFC 9110 12.4.2 allows only 0 to 1)."""
    for part in header.split(","):
        coding, _, parameters = part.partition(";")
        if coding.strip().lower() == "gzip":
            quality = _QUALITY.search(";" + parameters)
            if quality is None:
                return True
            if not re.fullmatch(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)", quality.group(1)):
                return False
            return float(quality.group(1)) > 0
    return False


def _opaque(tag: str) -> str:
    """A tag compared weakly, whatever the coding it was sent for: ``W/"3-gzip"`` -> ``3``."""
    tag = tag.removeprefix("W/").strip('"')
    return tag.removesuffix(GZIP_ETAG_SUFFIX)


def _gzip_tag(tag: str) -> str:
    if tag.startswith("W/") or tag.endswith(f'{GZIP_ETAG_SUFFIX}"'):
        return tag
    return f'{tag[:-1]}{GZIP_ETAG_SUFFIX}"'


class ApiHttpMiddleware:
    """Conditional GET and gzip for ``API_PREFIX`` (``/api/``); nothing else is touched."""

    API_PREFIX = "/api/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(self.API_PREFIX):
            return response
        patch_vary_headers(response, ("Authorization", "Cookie"))
        if request.method not in ("GET", "HEAD"):
            return response
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = _CACHE_CONTROL
        if response.streaming:
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        if response.status_code != 200:
            return response
        content_type = response.get("Content-Type", "")
        if not response.has_header("ETag") or not content_type.startswith(_JSON):
            # A view's tag (a record's) names its JSON; the browsable API's HTML of the same record is
            # other bytes (and holds a fresh CSRF token each time), so it gets a tag of its own body.
            response["ETag"] = f'"{hashlib.blake2b(response.content, digest_size=16).hexdigest()}"'
        compress = (
            content_type.startswith(_COMPRESSIBLE)
            and not response.has_header("Content-Encoding")
            and len(response.content) >= _MIN_GZIP_BYTES
            and accepts_gzip(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        )
        if self._not_modified(request, response):
            if compress:
                response["ETag"] = _gzip_tag(response["ETag"])
            return self._304(response)
        if compress:
            compressed = compress_string(response.content)
            if len(compressed) < len(response.content):
                response.content = compressed
                response["Content-Length"] = str(len(compressed))
                response["Content-Encoding"] = "gzip"
                response["ETag"] = _gzip_tag(response["ETag"])
        return response

    @staticmethod
    def _not_modified(request, response) -> bool:
        if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
        if if_none_match:
            tags = parse_etags(if_none_match)
            return "*" in tags or _opaque(response["ETag"]) in {_opaque(tag) for tag in tags}
        since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
        last_modified = parse_http_date_safe(response.get("Last-Modified", ""))
        return since is not None and last_modified is not None and last_modified <= since

    @staticmethod
    def _304(response):
        not_modified = HttpResponseNotModified()
        for header in _KEPT_ON_304:
            if header in response:
                not_modified[header] = response[header]
        not_modified.cookies = response.cookies
        return not_modified
