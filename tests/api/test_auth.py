"""Who may do what through the API: tokens, read-only tokens, roles, the
token command and the admin, and rate limits."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from projects.models import CooperativeProject
from rcf.api_policies import UserRateThrottle
from rcf.models import ApiToken

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/"
NEW = {"title": "Patrol boat MRO", "priority_area": "maritime-security", "lead_side": "joint"}


def test_no_token_is_401_and_a_wrong_one_too():
    response = APIClient().get(URL)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    assert client.get(URL).status_code == 401


def test_a_viewer_reads_but_cannot_write(api_client, viewer, make_project):
    project = make_project()
    client = api_client(viewer)
    assert client.get(URL).status_code == 200
    assert client.get(f"{URL}{project.pk}/").status_code == 200
    assert client.post(URL, NEW).status_code == 403
    assert client.patch(f"{URL}{project.pk}/", {"title": "x"}, HTTP_IF_MATCH='"1"').status_code == 403
    assert client.delete(f"{URL}{project.pk}/", HTTP_IF_MATCH='"1"').status_code == 403
    assert client.post(f"{URL}{project.pk}/transition/", {"to": "under_review"}).status_code == 403
    assert CooperativeProject.objects.get(pk=project.pk).version == 1


def test_a_read_only_token_never_writes_whatever_the_role(api_client, administrator, make_project):
    project = make_project()
    client = api_client(administrator, read_only=True)
    assert client.get(f"{URL}{project.pk}/").status_code == 200
    response = client.post(URL, NEW)
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    assert client.delete(f"{URL}{project.pk}/", HTTP_IF_MATCH='"1"').status_code == 403
    assert CooperativeProject.objects.count() == 1


def test_a_user_without_a_role_sees_nothing(api_client, django_user_model):
    client = api_client(django_user_model.objects.create_user("nobody", password="pw-for-tests-1"))
    assert client.get(URL).status_code == 403
    assert client.get("/api/v1/readiness/").status_code == 403


def test_scm_cycles_are_written_by_administrators_only(api_client, lead, administrator):
    cycle = {"number": 60, "meeting_date": "2028-11-02", "location": "Seoul"}
    assert api_client(lead).post("/api/v1/scm-cycles/", cycle).status_code == 403
    response = api_client(administrator).post("/api/v1/scm-cycles/", cycle)
    assert response.status_code == 201, response.json()
    assert response.json()["year"] == 2028


def test_an_inactive_users_token_stops_working(api_client, lead):
    client = api_client(lead)
    lead.is_active = False
    lead.save()
    assert client.get(URL).status_code == 401


def test_the_command_issues_a_token_that_works(lead):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", lead.username, "--name", "MND sync", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert "read-write" in err.getvalue()
    token = ApiToken.objects.get(user=lead)
    assert (token.name, token.read_only, token.key_prefix) == ("MND sync", False, key[:8])
    assert key not in (token.key_digest, token.key_prefix)  # the key itself is not stored
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post(URL, NEW).status_code == 201


def test_the_command_issues_read_only_tokens(lead):
    out = io.StringIO()
    call_command("create_api_token", lead.username, "--read-only", stdout=out, stderr=io.StringIO())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {out.getvalue().strip()}")
    assert client.get(URL).status_code == 200
    assert client.post(URL, NEW).status_code == 403


def test_the_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named"):
        call_command("create_api_token", "ghost", stdout=io.StringIO(), stderr=io.StringIO())


def test_tokens_are_listed_and_revoked_in_the_admin(client, lead):
    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests-1")
    token, key = ApiToken.issue(user=lead, name="KIDA mirror")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(URL).status_code == 200
    client.force_login(root)
    listing = client.get("/admin/rcf/apitoken/")
    assert listing.status_code == 200
    assert "KIDA mirror" in listing.content.decode() and key[:8] in listing.content.decode()
    assert key not in listing.content.decode()
    client.post(f"/admin/rcf/apitoken/{token.pk}/delete/", {"post": "yes"})
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert api.get(URL).status_code == 401


def test_a_token_added_in_the_admin_shows_its_key_once(client, lead):
    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests-1")
    client.force_login(root)
    # The add form makes tokens for the signed-in user only (tests/test_admin_access.py).
    response = client.post("/admin/rcf/apitoken/add/", {"user": lead.pk, "name": "Mirror", "read_only": "on"},
                           follow=True)
    assert not ApiToken.objects.filter(user=lead).exists()
    token = ApiToken.objects.get(user=root)
    shown = [str(m) for m in response.context["messages"]]
    key = re.search(r"\b([0-9a-f]{64})\b", next(m for m in shown if "Copy it now" in m)).group(1)
    assert ApiToken.digest(key) == token.key_digest and token.read_only


def test_rate_limits_answer_429_with_retry_after(api_client, viewer, settings):
    client = api_client(viewer)
    # Throttle counts live in the shared cache (Redis when configured): start this user afresh.
    cache.delete(UserRateThrottle.cache_format % {"scope": "user", "ident": viewer.pk})
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "3/minute",
                                                                                     "anon": "3/minute"}}
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(URL)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert "detail" in response.json()


def test_with_the_cache_down_the_api_still_answers(api_client, viewer, settings, caplog):
    """Throttle counts live in Redis; Redis down must not take the API down."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "3/minute",
                                                                                     "anon": "3/minute"}}
    client = api_client(viewer)
    assert [client.get(URL).status_code for _ in range(4)] == [200, 200, 200, 200]
    assert "the cache is unreachable" in caplog.text
