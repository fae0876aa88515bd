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
"""

from __future__ import annotations

import functools
import json
from urllib.parse import parse_qsl, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest, MockResponse

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


def described(method: str, path: str, content_type: str) -> bool:
    if not path.startswith(API) or path in NOT_DESCRIBED_EXACT or method.upper() in NOT_DESCRIBED_METHODS:
        return False
    if any(path.startswith(prefix) for prefix in NOT_DESCRIBED_PATHS):
        return False
    # The browsable API (?format=api, or a browser's Accept: text/html): HTML for staff in a browser.
    return not content_type.startswith("text/html")


def check(*, method: str, url: str, status: int, headers: dict, body: bytes, host: str = "http://testserver"):
    """Raise ``ContractViolation`` if this answer is not one the schema describes."""
    parts = urlsplit(url)
    content_type = headers.get("Content-Type", "")
    if not described(method, parts.path, content_type):
        return
    request = MockRequest(host, method.lower(), parts.path, args=dict(parse_qsl(parts.query, keep_blank_values=True)))
    response = MockResponse(body, status_code=status, headers=headers,
                            content_type=content_type.split(";")[0].strip() or "application/json")
    try:
        openapi().validate_response(request, response)
    except PathNotFound:
        # Under /api/v1/ but no operation's URL: the catch-all's JSON 404 (rcf/api_urls.py), by design.
        if status != 404:
            raise ContractViolation(f"{method} {parts.path} -> {status}: not a path of the schema") from None
    except OperationNotFound:
        # A method the resource does not have: DRF's 405, by design.
        if status != 405:
            raise ContractViolation(f"{method} {parts.path} -> {status}: not an operation of the schema") from None
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
    check(method=request.method, url=request.get_full_path(), status=response.status_code,
          headers=dict(response.items()), body=body)


def check_requests(response) -> None:
    check(method=response.request.method, url=response.request.url, status=response.status_code,
          headers=dict(response.headers), body=response.content)
