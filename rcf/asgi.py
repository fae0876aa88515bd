import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcf.settings")
application = get_asgi_application()

# Web requests get the database statement timeout (RCF_DB_STATEMENT_TIMEOUT_MS), as under WSGI.
from rcf import db_timeout  # noqa: E402

db_timeout.install()
