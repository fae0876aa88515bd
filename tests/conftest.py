import contextlib
import importlib
import os

import pytest
from django.contrib.auth.models import Group

from projects import services as project_services
from scm_reports.roles import ADMINISTRATOR, EDITOR, LEAD_POC, VIEWER

from .factories import PointOfContactFactory, UserFactory, area, country

# pytest-django's live_server and Playwright's sync API share a thread with an
# event loop; Django refuses DB access there unless told it is safe (RECIPES).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _broker_folder_of_its_own(tmp_path_factory):
    """Without Redis, the tasks the suite queues go to the embedded broker's folders. `make test` gives
    the run a temporary folder (RCF_CELERY_DIR); pytest run directly (an IDE, one file) gets one here,
    so nothing piles up in the folder `make run`'s worker reads. Worker processes the tests start
    inherit it through the environment."""
    from django.conf import settings

    from rcf.celery import app

    if settings.CELERY_BROKER_URL.startswith("filesystem:") and not os.environ.get("RCF_CELERY_DIR"):
        folder = tmp_path_factory.mktemp("celery")
        options = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS}
        for key, name in (("data_folder_in", "queue"), ("data_folder_out", "queue"),
                          ("processed_folder", "processed"), ("control_folder", "control")):
            (folder / name).mkdir(exist_ok=True)
            options[key] = str(folder / name)
        (folder / "results").mkdir()
        results = f"file://{folder / 'results'}"
        settings.CELERY_BROKER_TRANSPORT_OPTIONS, settings.CELERY_RESULT_BACKEND = options, results
        app.conf.broker_transport_options, app.conf.result_backend = options, results
        os.environ["RCF_CELERY_DIR"] = str(folder)
    yield


@pytest.fixture(autouse=True)
def _reference_data_for_transactional_tests(request):
    """Transactional tests (live server, real worker, concurrency) empty the
    database after each test. Django's flush re-runs post_migrate (content
    types, permissions, our roles); the data migrations' reference data (the
    six areas, the countries, the SCM cycles) is loaded again here, by the
    migrations' own idempotent seed functions."""
    if not _is_transactional(request.node):
        return
    request.getfixturevalue("transactional_db")
    _seed_reference_data()


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool((marker is not None and marker.kwargs.get("transaction"))
                or {"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test's flush (its fixtures are torn down by
    now), put the reference data back: pytest groups tests by parametrised
    session fixtures (the browser tests' ``browser_name``), so an ordinary
    database test can run right after one, and it expects the seeded areas,
    countries, SCM cycles and sync clock like any migrated database."""
    yield
    # After the last test the session's fixtures (the test database among them) are gone: nothing to seed.
    if _is_transactional(item) and nextitem is not None:
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            _seed_reference_data()


def _seed_reference_data():
    from django.apps import apps as global_apps

    for module in ("rcf.migrations.0002_seed_reference_data", "scm_reports.migrations.0002_seed_scm_cycles"):
        importlib.import_module(module).seed(global_apps, None)


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in Korean leaves Korean active on the thread (LocaleMiddleware
    activates, nothing deactivates): later tests would read Korean messages."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, tmp_path_factory):
    """Uploaded documents go to a folder of the test's own, never var/media
    (the default storage reads MEDIA_ROOT when the setting changes)."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage"}}


@pytest.fixture(autouse=True)
def _exports_in_a_temporary_folder(settings, tmp_path_factory):
    """Files of export runs (rcf.export_jobs) go to a folder of the test's own, never var/exports."""
    settings.RCF_EXPORT_DIR = str(tmp_path_factory.mktemp("exports"))


def _user_with_role(username, role, **extra):
    user = UserFactory(username=username, **extra)
    user.groups.set([Group.objects.get(name=role)])
    return user


@pytest.fixture
def viewer(db):
    return _user_with_role("viewer-user", VIEWER)


@pytest.fixture
def editor(db):
    return _user_with_role("editor-user", EDITOR)


@pytest.fixture
def lead(db, us_lead_poc):
    """The U.S. lead POC's login (lead powers come from the link, not the group)."""
    return _linked_lead("lead-user", us_lead_poc)


@pytest.fixture
def rok_lead(db, rok_lead_poc):
    """The ROK lead POC's login."""
    return _linked_lead("rok-lead-user", rok_lead_poc)


def _linked_lead(username, poc):
    user = _user_with_role(username, LEAD_POC)
    poc.user = user
    poc.save()
    return user


@pytest.fixture
def administrator(db):
    return _user_with_role("admin-user", ADMINISTRATOR, is_staff=True)


@pytest.fixture
def us_lead_poc(db):
    return PointOfContactFactory(side="us", is_lead=True, full_name="Jordan Lee")


@pytest.fixture
def rok_lead_poc(db):
    return PointOfContactFactory(side="rok", is_lead=True, full_name="Kim Min-jun")


@pytest.fixture
def make_project(db, lead, us_lead_poc, rok_lead_poc):
    """Create a project through the service, complete enough to become ready."""

    def make(**overrides):
        data = {
            "title": "Coast guard training",
            "summary": "Maritime domain awareness training.",
            "priority_area": area("maritime-security"),
            "lead_side": "joint",
            "us_lead_poc": us_lead_poc,
            "rok_lead_poc": rok_lead_poc,
            "partner_countries": [country("PH")],
        }
        data.update(overrides)
        return project_services.project_create(by=lead, **data)

    return make


@pytest.fixture
def advance(lead, rok_lead):
    """Walk a project forward along the lifecycle as a lead POC; a joint step
    (prioritise, ready) is proposed by the U.S. lead and concurred with by the
    ROK lead."""
    from projects.models import Concurrence

    def walk(project, *statuses, today=None, ready_on=None):
        for status in statuses:
            result = project_services.project_transition(
                project=project,
                to=status,
                by=lead,
                priority=3 if status == "prioritized" and project.priority is None else None,
                ready_on=ready_on if status == "ready" else None,
                today=today,
                # A shortcut: recording the SCM and its outcome is scm_reports'
                # (tests/scm_reports/test_presentations.py).
                at_scm=status == "presented",
            )
            if isinstance(result, Concurrence):
                project_services.concurrence_concur(concurrence=result, by=rok_lead, today=today)
                result = type(project).objects.get(pk=project.pk)
            project = result
        return project

    return walk


def pytest_sessionstart(session):
    """In CI the suite must run against the real services, not the fallbacks."""
    if os.environ.get("RCF_REQUIRE_REAL_SERVICES") != "1":
        return
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(f"RCF_REQUIRE_REAL_SERVICES=1 but the database is {engine}")
    if not settings.REDIS_URL:
        raise pytest.UsageError("RCF_REQUIRE_REAL_SERVICES=1 but REDIS_URL is not set")


@contextlib.contextmanager
def broker_unreachable():
    """Point Celery at a port where no broker listens (as when Redis is down)."""
    from rcf.celery import app

    def reset_pool():
        # Celery and kombu cache connection and producer pools per broker URL.
        from kombu import pools

        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    old = app.conf.broker_url
    reset_pool()
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        yield app
    finally:
        reset_pool()
        app.conf.broker_url = old


@pytest.fixture
def broker_down():
    with broker_unreachable() as app:
        yield app


@pytest.fixture(autouse=True, scope="session")
def _test_task_queue():
    """Tasks the suite sends go to a queue of their own, which no
    development worker consumes."""
    from rcf.celery import app

    app.conf.task_default_queue = "rcf-test-suite"


@pytest.fixture(scope="session")
def live_server(live_server, django_db_setup, django_db_blocker):
    """pytest-django's live server, which lets the test database be dropped only once the server's request
    threads have let go of it. A thread serving a keep-alive HTTP connection (a browser's, a requests
    session's) keeps its database connection until the client hangs up; the client goes at the end of the
    run too, but a moment later than the test database is dropped, which then fails with "database
    test_rcf is being accessed by other users" and is left behind. Waits (10 s at most) for those sessions
    to end; nothing is ended by force."""
    import time

    from django.db import connection

    yield live_server
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
                if cursor.fetchone()[0] == 0:
                    break
            time.sleep(0.1)
        connection.close()
