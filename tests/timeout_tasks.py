"""A Celery task that sleeps in the database, loaded into a real worker with
``celery -A rcf worker -I tests.timeout_tasks`` (tests/test_statement_timeout.py)."""

from celery import shared_task
from django.db import connection


@shared_task(name="tests.timeout_tasks.sleep_in_database")
def sleep_in_database(seconds: float) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [seconds])
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]
