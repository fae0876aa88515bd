"""The Celery application, configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcf.settings")

app = Celery("rcf")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # The framework's goal: a project ready before every SCM. Checked daily at
    # 06:00 Seoul time (CELERY_TIMEZONE), before the working day of the ROK
    # side and at the end of the U.S. side's, so a new flag and its e-mails
    # are there when either side starts work.
    "flag-unready-years-daily": {
        "task": "scm_reports.tasks.flag_unready_years",
        "schedule": crontab(hour=6, minute=0),
    },
}
