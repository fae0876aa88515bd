"""The site's URLs plus a view that runs as long as asked, for
tests/test_statement_timeout.py (``@pytest.mark.urls("tests.timeout_urls")``)."""

import uuid

from django.db import connection
from django.http import JsonResponse
from django.urls import include, path

from contacts.models import Organization


def slow(request):
    """Saves an organization, then sleeps in the database ``?seconds=`` long:
    a request whose statement is cancelled must leave nothing saved."""
    seconds = float(request.GET.get("seconds", "0"))
    name = request.GET.get("name") or f"Slow shipyard {uuid.uuid4().hex[:8]}"
    Organization.objects.create(name=name, side="industry")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [seconds])
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return JsonResponse({"slept": seconds, "pid": pid})


urlpatterns = [
    path("slow-for-tests/", slow),
    path("api/v1/slow-for-tests/", slow),
    path("", include("rcf.urls")),
]
