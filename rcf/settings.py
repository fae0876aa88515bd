"""Settings for RCF Tracker, read from the environment (see `.env.example`).

One module serves every environment: local runs get safe defaults (SQLite and
Celery's filesystem broker under `var/`), production sets `DJANGO_ENV=production`
and the real `DATABASE_URL`, `REDIS_URL` and `SECRET_KEY`.
"""

import os
from datetime import timedelta
from pathlib import Path

import django_tomselect
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="local")
IS_PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DEBUG", default=not IS_PRODUCTION)
if IS_PRODUCTION:
    # No default in production: a missing key must stop the server, not weaken it.
    SECRET_KEY = env.str("SECRET_KEY")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="local-development-only-not-a-secret")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if IS_PRODUCTION else ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Full-text and trigram search for the header search box on PostgreSQL (issue 12).
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    # CORS for browser-based API clients, off unless CORS_ALLOWED_ORIGINS names origins (issue 13).
    "corsheaders",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_htmx",
    # Login lockout and two-factor sign-in; before the project's apps so their permissions exist
    # when scm_reports' post_migrate builds the roles.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rcf",
    "contacts",
    "projects",
    "scm_reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # As high as possible (django-cors-headers): answers API preflights, before anything that can answer.
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # /api/ only: ETag and 304 for every GET, gzip for JSON answers (rcf.api_http).
    "rcf.api_http.ApiHttpMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything that reads the session, the user or the database: refuses NUL characters,
    # oversized and unmeasurable bodies, and answers 503 when the database is unreachable.
    "rcf.middleware.RequestGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): signed in with a second factor in this session.
    "django_otp.middleware.OTPMiddleware",
    # A user with a device is asked for a code before any page; an administrator who must
    # use two-factor sign-in and has no device is sent to set it up.
    "rcf.accounts.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Messages queued during an htmx request become a toast (HX-Trigger), not a stale banner later.
    "rcf.middleware.HtmxMessagesMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rcf.urls"
WSGI_APPLICATION = "rcf.wsgi.application"
ASGI_APPLICATION = "rcf.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # {{ value|day }} and {{ value|moment }}: dates in <time>, one format per language.
            "builtins": ["rcf.templatetags.rcf_format"],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'rcf.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; the timeout makes a
    # writer wait for the lock instead of failing at once.
    # IMMEDIATE transactions take the write lock at BEGIN, so two writers
    # queue instead of one failing with "database is locked" mid-transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not memory, so a real Celery worker process can share the test
    # database; one per test run, so two runs on one machine do not collide.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database host that drops packets must give a quick 503, not hang every worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
# PostgreSQL, web requests only (rcf/db_timeout.py, installed by rcf/wsgi.py; not Celery, not
# management commands): a statement running longer is cancelled and the request answered 503.
# Under gunicorn's worker timeout (30 s), so the user gets that answer, not a killed worker. 0: no limit.
RCF_DB_STATEMENT_TIMEOUT_MS = env.int("RCF_DB_STATEMENT_TIMEOUT_MS", default=20_000)
# Web connections only, PostgreSQL: a session idle in an open transaction this long is ended (0: never). Only the
# NDJSON export idles so, while its client reads a batch; keep it well above a batch's time (rcf/db_timeout.py).
RCF_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = env.int("RCF_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", default=60_000)
if RCF_DB_STATEMENT_TIMEOUT_MS < 0:
    raise ImproperlyConfigured(
        "RCF_DB_STATEMENT_TIMEOUT_MS must be 0 (no limit) or a number of milliseconds, "
        f"not {RCF_DB_STATEMENT_TIMEOUT_MS}")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
# django-axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# English and Korean: the two working languages of the framework's staff.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# One unambiguous date format per language ("23 Nov 2026" / "2026년 11월 23일"), times with the
# time zone named: rcf/formats/<lang>/formats.py (issue 12).
FORMAT_MODULE_PATH = ["rcf.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Seoul")

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
# The Tom Select assets that django-tomselect ships (searchable multi-selects, issue 12), served from
# the installed package: the app itself is not installed (its autocomplete views and its model are not
# used; static/js/pickers.js turns plain selects into pickers).
TOMSELECT_STATIC = Path(django_tomselect.__file__).resolve().parent / "static" / "django_tomselect"
STATICFILES_DIRS = [BASE_DIR / "static", ("django_tomselect", TOMSELECT_STATIC)]
# Uploaded documents (projects.Document): never served from a public URL,
# only through the permission-checked download view. The local folder by
# default; S3-compatible storage (django-storages) when RCF_S3_BUCKET is set.
MEDIA_ROOT = env.path("RCF_MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media-not-served/"  # nothing is served here (see projects.views: document download)
RCF_S3_BUCKET = env.str("RCF_S3_BUCKET", default="")
DEFAULT_FILE_STORAGE_SETTINGS = (
    {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": RCF_S3_BUCKET,
        "endpoint_url": env.str("RCF_S3_ENDPOINT_URL", default="") or None,
        "region_name": env.str("RCF_S3_REGION", default="") or None,
        "access_key": env.str("RCF_S3_ACCESS_KEY_ID", default="") or None,
        "secret_key": env.str("RCF_S3_SECRET_ACCESS_KEY", default="") or None,
        "location": env.str("RCF_S3_PREFIX", default="rcf-media"),
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": False,
    }}
    if RCF_S3_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
)
STORAGES = {
    "default": DEFAULT_FILE_STORAGE_SETTINGS,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- E-mail (notices to lead POCs) ---
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="RCF Tracker <rcf-tracker@localhost>")
# Absolute address used in e-mails and calendar feeds, where no request is at hand.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Celery ---
REDIS_URL = env.str("REDIS_URL", default="")
# The embedded broker's folders; `make test` gives each run a temporary one (RCF_CELERY_DIR) and removes
# it afterwards, so the tasks the suite sends do not pile up under var/celery.
CELERY_DATA_DIR = Path(env.str("RCF_CELERY_DIR", default=str(VAR_DIR / "celery")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # With late acknowledgement, a message whose worker died unacknowledged
    # goes back to the queue after this long: a lost run is redone within
    # 5 minutes. Every task must finish well within it (CELERY_TASK_TIME_LIMIT),
    # and no countdown may exceed it (Redis would deliver the task twice).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
else:
    # Embedded default for one host (see README): no Redis to install. The
    # worker polls the folder once a second; fine for development, not production.
    CELERY_BROKER_URL = "filesystem://localhost//"  # a host, or kombu warns "No hostname was supplied"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_DATA_DIR / 'results'}"
CELERY_TIMEZONE = "Asia/Seoul"
# One queue per deployment; tests give their worker a queue of its own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 60 * 60 * 24
# No task's result is read except the readiness job's (by hand or in tests):
# storing none means nothing ever waits on the result backend.
CELERY_TASK_IGNORE_RESULT = True
# Below the visibility timeout (300 s), so a task still running is never
# handed to a second worker; the longest legitimate run is a notice task
# (one e-mail per lead POC, EMAIL_TIMEOUT each).
CELERY_TASK_SOFT_TIME_LIMIT = 200
CELERY_TASK_TIME_LIMIT = 240
# Web requests never talk to the broker (they use the outbox); what still
# does outside a worker (/healthz, the management command) gives up quickly.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The outbox (rcf.outbox): how often beat drains it, how long a claimed
# message is held before another drain takes it over (a worker that died),
# how long one drain runs at most, and how long done messages are kept.
RCF_OUTBOX_DRAIN_SECONDS = env.float("RCF_OUTBOX_DRAIN_SECONDS", default=5)
RCF_OUTBOX_LEASE_SECONDS = env.int("RCF_OUTBOX_LEASE_SECONDS", default=300)
RCF_OUTBOX_DRAIN_BUDGET_SECONDS = env.float("RCF_OUTBOX_DRAIN_BUDGET_SECONDS", default=60)
RCF_OUTBOX_KEEP_DAYS = env.int("RCF_OUTBOX_KEEP_DAYS", default=7)
# Webhooks (rcf.webhooks): a failing delivery is retried with exponential back-off for this many hours
# after its first attempt, then the endpoint is disabled and its administrator e-mailed; each attempt waits
# this many seconds at most. Beat looks for deliveries due every RCF_WEBHOOK_POLL_SECONDS (a change wakes
# delivery at once through the outbox). Delivered ones are kept RCF_WEBHOOK_KEEP_DAYS in the log.
RCF_WEBHOOK_RETRY_HOURS = env.float("RCF_WEBHOOK_RETRY_HOURS", default=24)
RCF_WEBHOOK_TIMEOUT_SECONDS = env.float("RCF_WEBHOOK_TIMEOUT_SECONDS", default=10)
RCF_WEBHOOK_POLL_SECONDS = env.float("RCF_WEBHOOK_POLL_SECONDS", default=15)
RCF_WEBHOOK_KEEP_DAYS = env.int("RCF_WEBHOOK_KEEP_DAYS", default=90)
# After a secret rotation the previous secret signs too, for this many hours.
RCF_WEBHOOK_ROTATION_OVERLAP_HOURS = env.float("RCF_WEBHOOK_ROTATION_OVERLAP_HOURS", default=24)
# Outbound safety (SSRF): https only, and no host resolving to a loopback, private, link-local or other
# non-public address (checked when an endpoint is saved and again before every attempt). On by default in
# production (DEBUG off). RCF_WEBHOOK_ALLOW_PRIVATE names hosts or networks allowed all the same,
# e.g. "hooks.internal.example,10.20.0.0/16".
RCF_WEBHOOK_REQUIRE_PUBLIC = env.bool("RCF_WEBHOOK_REQUIRE_PUBLIC", default=not DEBUG)
RCF_WEBHOOK_ALLOW_PRIVATE = env.list("RCF_WEBHOOK_ALLOW_PRIVATE", default=[])
# Old versions in the admin history are for reading: a revert would write an
# old version over the record outside the services (and its version back).
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- The framework's own settings ---
# The framework was launched at the 56th SCM (30 Oct 2024); the readiness goal
# applies from the next SCM on.
RCF_LAUNCH_DATE = env.str("RCF_LAUNCH_DATE", default="2024-10-30")
RCF_FIRST_YEAR = env.int("RCF_FIRST_YEAR", default=2025)
RCF_TIME_ZONE = env.str("RCF_TIME_ZONE", default="Asia/Seoul")
RCF_AT_RISK_DAYS = env.int("RCF_AT_RISK_DAYS", default=90)
# Prioritising and declaring ready are joint decisions: one side's lead POC
# proposes, the other's concurs. Off for deployments run by one side alone.
RCF_JOINT_CONCURRENCE = env.bool("RCF_JOINT_CONCURRENCE", default=True)
# Spreadsheet import (issue 13, rcf.imports): the largest file and the most rows one import takes, and where
# an uploaded file waits between the dry run and "Import" (under a random name kept on the uploader's run).
RCF_IMPORT_MAX_BYTES = env.int("RCF_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
RCF_IMPORT_MAX_ROWS = env.int("RCF_IMPORT_MAX_ROWS", default=50_000)
RCF_IMPORT_DIR = env.str("RCF_IMPORT_DIR", default=str(VAR_DIR / "imports"))
# The pages run an import in the background (rcf.import_jobs): a file of at most RCF_IMPORT_INLINE_ROWS rows
# runs at once in the request instead; a run may take RCF_IMPORT_TIME_LIMIT_SECONDS (its Celery time limit);
# a run without a sign of life for RCF_IMPORT_STALE_SECONDS (its worker died) is shown as failed. The web
# and the worker must share RCF_IMPORT_DIR (progress is written there too).
RCF_IMPORT_INLINE_ROWS = env.int("RCF_IMPORT_INLINE_ROWS", default=200)
RCF_IMPORT_TIME_LIMIT_SECONDS = env.int("RCF_IMPORT_TIME_LIMIT_SECONDS", default=7200)
RCF_IMPORT_STALE_SECONDS = env.int("RCF_IMPORT_STALE_SECONDS", default=120)
# Exports (rcf.export_jobs, issue 14): a CSV of more than RCF_EXPORT_INLINE_CSV_ROWS rows (streamed), an XLSX of
# more than RCF_EXPORT_INLINE_ROWS, or the SCM report PDF of a year with more than RCF_EXPORT_INLINE_PDF_PROJECTS
# projects is made by the Celery worker, the page showing its progress and then a download link (e-mailed when the
# user left the page: no poll for RCF_EXPORT_LEFT_SECONDS). Records are read RCF_EXPORT_CHUNK_ROWS at a time. The
# web and the worker share RCF_EXPORT_DIR; files go after RCF_EXPORT_KEEP_HOURS.
RCF_EXPORT_DIR = env.str("RCF_EXPORT_DIR", default=str(VAR_DIR / "exports"))
RCF_EXPORT_INLINE_ROWS = env.int("RCF_EXPORT_INLINE_ROWS", default=5_000)
RCF_EXPORT_INLINE_CSV_ROWS = env.int("RCF_EXPORT_INLINE_CSV_ROWS", default=10_000)
RCF_EXPORT_INLINE_PDF_PROJECTS = env.int("RCF_EXPORT_INLINE_PDF_PROJECTS", default=200)
RCF_EXPORT_CHUNK_ROWS = env.int("RCF_EXPORT_CHUNK_ROWS", default=2_000)
RCF_EXPORT_KEEP_HOURS = env.float("RCF_EXPORT_KEEP_HOURS", default=24.0)
RCF_EXPORT_LEFT_SECONDS = env.float("RCF_EXPORT_LEFT_SECONDS", default=20.0)
RCF_EXPORT_STALE_SECONDS = env.int("RCF_EXPORT_STALE_SECONDS", default=120)
RCF_EXPORT_TIME_LIMIT_SECONDS = env.int("RCF_EXPORT_TIME_LIMIT_SECONDS", default=3600)
# Runs one user may have queued or running at once (a run is started only by the CSRF-checked POST).
RCF_EXPORT_MAX_ACTIVE_PER_USER = env.int("RCF_EXPORT_MAX_ACTIVE_PER_USER", default=3)
# --- Implementation tracking (issue 11) ---
# The handling marking printed on every page, PDF, export sheet and e-mail
# (rcf.marking); empty: none.
RCF_HANDLING_MARKING = env.str("RCF_HANDLING_MARKING", default="")
# The handling markings a document may carry (the deployment sets the list).
RCF_MARKINGS = env.list("RCF_MARKINGS", default=["UNCLASSIFIED", "CUI"])
# Largest document upload, in megabytes.
RCF_MAX_UPLOAD_MB = env.int("RCF_MAX_UPLOAD_MB", default=25)
# A project in implementation with no progress update for this many days is stale.
RCF_PROGRESS_STALE_DAYS = env.int("RCF_PROGRESS_STALE_DAYS", default=90)
# Action reminders list actions overdue or due within this many days.
RCF_ACTION_DUE_SOON_DAYS = env.int("RCF_ACTION_DUE_SOON_DAYS", default=7)
# The weekly digest to lead POCs: day of week (crontab: 0 = Sunday, 1 = Monday)
# and time, in CELERY_TIMEZONE (Seoul).
RCF_DIGEST_WEEKDAY = env.str("RCF_DIGEST_WEEKDAY", default="1")
RCF_DIGEST_HOUR = env.int("RCF_DIGEST_HOUR", default=8)
RCF_DIGEST_MINUTE = env.int("RCF_DIGEST_MINUTE", default=0)
# The readiness job reminds the other side of a proposal waiting longer than
# this, once, when the year's deadline is within RCF_AT_RISK_DAYS.
RCF_CONCURRENCE_REMINDER_DAYS = env.int("RCF_CONCURRENCE_REMINDER_DAYS", default=7)

# --- Django REST framework ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Sync clients: Authorization: Token <key> (rcf.ApiToken); staff: the browsable API.
        "rcf.api_policies.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rcf.api_policies.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rcf.api_policies.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": ["rcf.api_policies.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        # DRF's JSONRenderer through orjson: the same bytes, several times faster (rcf/renderers.py).
        "rcf.renderers.FastJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # Counted in CACHES (below): Redis when REDIS_URL is set, so all web processes share the counts.
    "DEFAULT_THROTTLE_CLASSES": ["rcf.api_policies.UserRateThrottle", "rcf.api_policies.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_RATE_USER", default="1200/minute"),
        "anon": env.str("API_RATE_ANON", default="60/minute"),
    },
    # Proxies in front of the app that append the client's address to X-Forwarded-For (1 behind
    # docker-compose.yml's Caddy). 0: the connecting address is the client's; the header is ignored,
    # since any client can write it (and would dodge every per-address limit).
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0),
    "EXCEPTION_HANDLER": "rcf.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "RCF Tracker API",
    "DESCRIPTION": (
        "Sync API for the U.S.-ROK Regional Cooperation Framework tracker.\n\n"
        "**Authentication**: `Authorization: Token <key>` (`manage.py create_api_token`).\n\n"
        "**Incremental sync**: `GET /api/v1/<resource>/?since=` (empty) pages through every record; follow "
        "`next`, keep the last page's `cursor` and send it as `since=` next time to receive every record "
        "created, changed or deleted since (deleted ones as tombstones), in change order. A cursor older than "
        "the tombstone retention answers 410: sync in full again.\n\n"
        "**Full export**: `GET /api/v1/<resource>/?since=&format=ndjson` (or `Accept: application/x-ndjson`) "
        "streams the same feed in one answer, one JSON record a line, then a line `{\"cursor\": \"…\"}` to "
        "continue the incremental sync from.\n\n"
        "**Conflicts**: every record has a strong `ETag`, its version and a hash of its content "
        "(`\"3.5f0c9a1e2b7d4c6a\"`). PUT, PATCH and DELETE need `If-Match` with it (or just `\"3\"`: only the "
        "version part is compared); a stale one answers 412 with the record as it is now. `If-None-Match` on a "
        "write that names the record as it is (or `*`) answers 412 too. POST with an `external_id` that exists "
        "answers 409 naming the record, so a create can be retried safely.\n\n"
        "**Caching**: every answer to a GET carries an `ETag` and `Cache-Control: private, no-cache`; send the "
        "tag back as `If-None-Match` to hear 304 with no body while nothing changed, lists and sync pages "
        "included (records carry no `Last-Modified`: the tag covers related data a date would miss). JSON "
        "answers are gzip-compressed when the client accepts it; a compressed answer's ETag ends in `-gzip` and "
        "names the same version in `If-Match`.\n\n"
        "**CORS**: off unless the server's `CORS_ALLOWED_ORIGINS` names the client's origin."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SideEnum": "rcf.models.Side",
        "OrganizationSideEnum": "contacts.models.OrganizationSide",
        "LeadSideEnum": "projects.models.LeadSide",
        "CountryGroupEnum": "rcf.models.CountryGroup",
        "ProjectStatusEnum": "projects.models.ProjectStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "rcf.api.refuse_unknown_properties",
        "rcf.api.http_contract",
    ],
}

# --- CORS (django-cors-headers): browser-based API clients on other origins ---
# Off by default: no origin is allowed until CORS_ALLOWED_ORIGINS names some
# (comma-separated, e.g. "https://dashboard.example.org"). Only the API, never
# the staff pages; no cookies across origins (clients send their API token).
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
CORS_ALLOW_HEADERS = (
    "accept", "accept-language", "authorization", "content-type", "if-match", "if-modified-since",
    "if-none-match",
)
CORS_EXPOSE_HEADERS = ("Content-Disposition", "ETag", "Last-Modified", "Link", "Location", "Retry-After")
CORS_PREFLIGHT_MAX_AGE = 3600

# --- Content-Security-Policy: nothing is loaded from outside the site ---
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Security ---
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# X-Forwarded-Proto says whether the client used HTTPS; any client can send it, so it is believed
# only when a proxy that sets it itself stands in front (docker-compose.yml's Caddy does) and the
# deployment says so. Never on by default: gunicorn published directly would let anyone claim HTTPS.
TRUST_X_FORWARDED_PROTO = env.bool("TRUST_X_FORWARDED_PROTO", default=False)
if TRUST_X_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
if IS_PRODUCTION:
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Sign-in: lockout (django-axes) and two-factor sign-in (django-otp) ---
# Failed sign-ins (wrong password, wrong two-factor code) are counted in the database (works the
# same on SQLite and PostgreSQL and across web processes) within a sliding window of
# AXES_COOLOFF_MINUTES. A username from one address is locked after AXES_FAILURE_LIMIT failures;
# an address after RCF_LOGIN_FAILURE_LIMIT_PER_ADDRESS failures whatever usernames it tried
# (rcf.lockout.LoginLockoutHandler). Not per username alone: anyone could then lock an
# administrator out from anywhere.
AXES_HANDLER = "rcf.lockout.LoginLockoutHandler"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
RCF_LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.int("RCF_LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_LOCKOUT_CALLABLE = "rcf.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "rcf.lockout.client_address"
AXES_USERNAME_CALLABLE = "rcf.lockout.client_username"  # cut to the column: a long one is no 500
# A successful password must not wipe the count: the two-factor code comes after it, and wrong
# codes count too. The count ends with the window or an administrator's unlock.
AXES_RESET_ON_SUCCESS = False
# Quiet at start-up (axes prints its version and settings for every command otherwise).
AXES_VERBOSE = False
# Masked in the attempt records and logs (passwords always are): the codes, and axes' defaults.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code", "otp_token", "csrfmiddlewaretoken"]
# Required for administrators (staff, superusers) when true; optional for everyone else.
RCF_REQUIRE_2FA_FOR_ADMINS = env.bool("RCF_REQUIRE_2FA_FOR_ADMINS", default=IS_PRODUCTION)
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="RCF Tracker")
# The device admin never shows a secret key or its QR code (it would let the viewer copy the device).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Sync API ---
# Throttle counts (and any other cache use). Redis when CACHE_URL or REDIS_URL is set: a
# per-process memory cache would let each web process grant the full rate.
CACHE_URL = env.str("CACHE_URL", default="") or REDIS_URL
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "rcf",
            # Fail fast when Redis is down (the API throttles then let requests through).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
        # The dashboard's rendered panels (scm_reports/templatetags/dashboard_panels.py): apart from the
        # rate-limit counts above, so drawings can never push a counter out (Redis does not evict by default).
        "panels": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "rcf-panels",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rcf"},
        # A cache of its own for the dashboard's panels: a full local-memory cache evicts entries (culls a
        # third at MAX_ENTRIES), and the login and API rate-limit counts in "default" must never be the ones.
        "panels": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rcf-panels",
                   "OPTIONS": {"MAX_ENTRIES": 2000}},
    }
# How long a sync cursor stays valid: a client that has not synced for longer gets 410 Gone and
# syncs in full again. Tombstones (soft-deleted rows) must be kept at least this long.
RCF_SYNC_TOMBSTONE_RETENTION_DAYS = env.int("RCF_SYNC_TOMBSTONE_RETENTION_DAYS", default=365)
# Records per page of the sync feed (a client may ask for up to RCF_API_MAX_PAGE_SIZE).
RCF_SYNC_PAGE_SIZE = env.int("RCF_SYNC_PAGE_SIZE", default=500)
RCF_API_MAX_PAGE_SIZE = env.int("RCF_API_MAX_PAGE_SIZE", default=1000)
# Rows per keyset batch of the streamed NDJSON export (GET …/?since=&format=ndjson): its memory bound.
RCF_SYNC_EXPORT_BATCH = env.int("RCF_SYNC_EXPORT_BATCH", default=1000)
# The longest an NDJSON export may stream (checked between batches): it then ends with a last line
# {"detail": …, "cursor": …} to continue from. It holds a snapshot (VACUUM waits), a web thread and a connection.
RCF_SYNC_EXPORT_MAX_SECONDS = env.int("RCF_SYNC_EXPORT_MAX_SECONDS", default=600)
# Larger request bodies are refused with 413.
RCF_API_MAX_BODY_BYTES = env.int("RCF_API_MAX_BODY_BYTES", default=1024 * 1024)
# Larger form bodies (pages, the admin; files excluded) are refused with 413 (Django's default).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=int(2.5 * 1024 * 1024))
# Wrong API keys from one client address: after this many in the window, every token request
# from that address answers 429 until the window ends (counted in CACHES).
RCF_API_BAD_TOKEN_RATE = env.str("API_RATE_BAD_TOKEN", default="30/hour")
