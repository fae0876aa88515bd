"""Re-check the readiness goal soon after a change that can move it, rather
than waiting for the daily run (a late-logged ready project resolves its
year's flag within seconds).

The request is written to the outbox inside the change's own transaction
(rcf.outbox): it commits or rolls back with the change, and the web request
never waits on the broker. A worker drains the outbox every few seconds.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from projects.signals import project_readiness_changed
from rcf.outbox import outbox_register

from .models import SCMCycle
from .tasks import READINESS_CHECK, readiness_check_handle, request_readiness_check

# This module is imported by SCMReportsConfig.ready, in web and worker processes alike.
outbox_register(topic=READINESS_CHECK, handler=readiness_check_handle)


@receiver(project_readiness_changed, dispatch_uid="scm_reports_project_readiness_changed")
def project_readiness_changed_receiver(sender, project, **kwargs):
    request_readiness_check()


@receiver(post_save, sender=SCMCycle, dispatch_uid="scm_reports_cycle_saved")
def cycle_saved(sender, instance, raw=False, **kwargs):
    # Fixtures (raw) are loaded data, not a change: the daily run covers them.
    if not raw:
        request_readiness_check()
