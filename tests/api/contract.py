"""The contract check: every answer of the API under test, validated against
the API's own OpenAPI schema with openapi-core, strictly (issue 13).

``tests/api/conftest.py`` wraps the clients the API tests use (Django's test
client and DRF's APIClient in process; ``requests`` over real HTTP against the
live server), so each answer they receive is checked here: its status code
must be one the operation documents, its documented headers present and of
their type, its body of the documented shape, with no property the schema
does not name (``additionalProperties`` forbidden unless the schema allows
it). A mismatch fails the test naming the method, path, status and what is
wrong.

* HEAD is checked as the GET it mirrors, without a body: status and headers.
* A gzip-compressed body (the in-process client receives it as sent) is
  decompressed first.
* HTML is skipped only when the request asked for it (the browsable API:
  ``?format=api`` or ``Accept: text/html``); an HTML answer to a JSON client
  (a server error page, say) is a violation.
* A 404 for a URL that is no path of the schema, and a 405 (or 401/403) for a
  method the path does not have, are not operations of the schema; their bodies must
  still be the API's error shape, a JSON object with a string ``detail``.
"""

from __future__ import annotations

import functools
import gzip
import json
from urllib.parse import parse_qsl, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.response.validators import V30ResponseHeadersValidator

API = "/api/v1/"

# Answers the schema rightly does not describe, each with why.
NOT_DESCRIBED_PATHS = (
    "/api/v1/schema/",  # the schema itself (YAML or JSON of its own, not a resource)
    "/api/v1/docs/",  # Swagger UI: HTML and its start-up script
)
NOT_DESCRIBED_EXACT = (
    "/api/v1/",  # the index of resources: excluded from the schema (rcf/api_urls.py), tested in test_api_index
)
NOT_DESCRIBED_METHODS = (
    "OPTIONS",  # CORS preflights (django-cors-headers) and DRF's metadata: no operation of the schema
)


class ContractViolation(AssertionError):
    pass


@functools.cache
def spec() -> dict:
    """The schema as the API serves it (generated once per test run)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema, renderer_context={}))


def validator(schema: dict) -> OpenAPI:
    """Strict: an object property the schema does not name is an error, as a generated client sees it."""
    return OpenAPI.from_dict(schema, config=Config(additional_properties_default_policy="forbid"))


@functools.cache
def openapi() -> OpenAPI:
    return validator(spec())


@functools.cache
def openapi_headers() -> OpenAPI:
    """For HEAD: the GET's status and headers, no body."""
    return OpenAPI.from_dict(spec(), config=Config(additional_properties_default_policy="forbid",
                                                   response_validator_cls=V30ResponseHeadersValidator))


def asked_for_html(query: dict, accept: str) -> bool:
    """The browsable API: ``?format=api``, or a browser's ``Accept: text/html``."""
    return query.get("format") == "api" or "text/html" in accept.lower()


def described(method: str, path: str, content_type: str, *, html_asked: bool = False) -> bool:
    if not path.startswith(API) or path in NOT_DESCRIBED_EXACT or method.upper() in NOT_DESCRIBED_METHODS:
        return False
    if any(path.startswith(prefix) for prefix in NOT_DESCRIBED_PATHS):
        return False
    # The browsable API's HTML for staff in a browser, when (and only when) that is what was asked for.
    return not (html_asked and content_type.startswith("text/html"))


def _check_error_body(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    """A 404/405 outside the schema's operations: still the API's error shape (``Error``)."""
    if method.upper() == "HEAD":
        return
    try:
        payload = json.loads(body) if content_type.startswith("application/json") else None
    except ValueError:
        payload = None
    if not (isinstance(payload, dict) and isinstance(payload.get("detail"), str)):
        raise ContractViolation(
            f"{method} {path} -> {status}: not the API's error shape (a JSON object with detail): {body[:200]!r}"
        )


def check(*, method: str, url: str, status: int, headers: dict, body: bytes, host: str = "http://testserver",
          request_headers: dict | None = None):
    """Raise ``ContractViolation`` if this answer is not one the schema describes."""
    parts = urlsplit(url)
    content_type = headers.get("Content-Type", "")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    accept = {k.lower(): v for k, v in (request_headers or {}).items()}.get("accept", "")
    if not described(method, parts.path, content_type, html_asked=asked_for_html(query, accept)):
        return
    head = method.upper() == "HEAD"
    request = MockRequest(host, "get" if head else method.lower(), parts.path, args=query)
    response = MockResponse(body, status_code=status, headers=headers,
                            content_type=content_type.split(";")[0].strip() or "application/json")
    try:
        (openapi_headers() if head else openapi()).validate_response(request, response)
    except PathNotFound:
        # Under /api/v1/ but no operation's URL: the catch-all's JSON 404 (rcf/api_urls.py), by design.
        if status != 404:
            raise ContractViolation(f"{method} {parts.path} -> {status}: not a path of the schema") from None
        _check_error_body(method, parts.path, status, content_type, body)
    except OperationNotFound:
        # A method the resource does not have: DRF's 405, by design (or 401/403 first: DRF checks the
        # credentials and the role before it looks for the method).
        if status not in (401, 403, 405):
            raise ContractViolation(f"{method} {parts.path} -> {status}: not an operation of the schema") from None
        _check_error_body(method, parts.path, status, content_type, body)
    except Exception as exc:  # noqa: BLE001 - every validation error is reported the same way
        raise ContractViolation(
            f"{method} {parts.path} -> {status} breaks the schema: {_reasons(exc)}\nbody: {body[:300]!r}"
        ) from None


def _reasons(exc) -> str:
    """What is wrong, briefly: each schema error's place and message."""
    reasons, pending = [], [exc]
    while pending:
        error = pending.pop()
        nested = list(getattr(error, "schema_errors", ()) or ()) + ([error.__cause__] if error.__cause__ else [])
        if nested:
            pending.extend(nested)
            continue
        place = "/".join(str(part) for part in getattr(error, "absolute_path", ()) or ())
        reasons.append(f"{type(error).__name__} at {place or '(body)'}: {getattr(error, 'message', error)}"[:300])
    return " | ".join(reasons) or repr(exc)


def check_django(response) -> None:
    request = response.wsgi_request
    if response.streaming:  # a file: read it for the check, and give the test the same bytes
        body = b"".join(response.streaming_content)
        response.streaming_content = [body]
    else:
        body = response.content
    if response.get("Content-Encoding") == "gzip" and body:  # as sent: a client would decompress it
        body = gzip.decompress(body)
    accept = request.META.get("HTTP_ACCEPT", "")
    check(method=request.method, url=request.get_full_path(), status=response.status_code,
          headers=dict(response.items()), body=body, request_headers={"Accept": accept})


def check_requests(response) -> None:
    # requests has already decompressed a gzip body (response.content).
    check(method=response.request.method, url=response.request.url, status=response.status_code,
          headers=dict(response.headers), body=response.content, request_headers=dict(response.request.headers))
