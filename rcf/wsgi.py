import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcf.settings")
application = get_wsgi_application()

# Web requests only: a statement over RCF_DB_STATEMENT_TIMEOUT_MS is cancelled and
# answered 503 (rcf/db_timeout.py). Celery and management commands never import this.
from rcf import db_timeout  # noqa: E402

db_timeout.install()
