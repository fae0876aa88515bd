"""Re-check the readiness goal soon after a change that can move it, rather
than waiting for the daily run (a late-logged ready project resolves its
year's flag within seconds)."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from projects.signals import project_readiness_changed

from .models import SCMCycle


def _check_after_commit():
    from .tasks import request_readiness_check

    transaction.on_commit(request_readiness_check, robust=True)


@receiver(project_readiness_changed, dispatch_uid="scm_reports_project_readiness_changed")
def project_readiness_changed_receiver(sender, project, **kwargs):
    _check_after_commit()


@receiver(post_save, sender=SCMCycle, dispatch_uid="scm_reports_cycle_saved")
def cycle_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _check_after_commit()
