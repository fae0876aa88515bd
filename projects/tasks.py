"""Background jobs of the projects app."""

import logging

from celery import shared_task

logger = logging.getLogger("projects.counts")


@shared_task(name="projects.tasks.check_dashboard_counts", ignore_result=False)
def check_dashboard_counts() -> int:
    """The weekly check of the dashboard's summary rows (``manage.py
    rebuild_dashboard_counts --check``): logs an error naming the drifting
    rows, if any; writes nothing. Returns how many rows drift."""
    from . import counts

    drift = counts.drift()
    if drift:
        logger.error("Dashboard summary rows drift: %d row(s) differ from a count from scratch (first: %s); "
                     "run manage.py rebuild_dashboard_counts.", len(drift),
                     "; ".join(f"{row['key']} stored {row['stored']} actual {row['actual']}" for row in drift[:5]))
    return len(drift)
