from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_roles(sender, **kwargs):
    from .services import roles_ensure

    roles_ensure()


class SCMReportsConfig(AppConfig):
    name = "scm_reports"
    verbose_name = _("SCM readiness")

    def ready(self):
        from projects.selectors import register_scm_year_annotator

        from . import receivers  # noqa: F401  (connects the signal receivers)
        from .selectors import annotate_scm_year

        register_scm_year_annotator(annotate_scm_year)

        # Webhook payloads show each record as the API does.
        from rcf.webhooks import webhook_register

        from .models import ReadinessFlag, SCMPresentation

        webhook_register(model=SCMPresentation, resource="presentation",
                         serializer="scm_reports.serializers.SCMPresentationSerializer", basename="scm-presentation")
        webhook_register(model=ReadinessFlag, resource="readiness_flag",
                         serializer="scm_reports.serializers.ReadinessFlagSerializer", basename="flag")

        # After the permissions exist (they are created by post_migrate too,
        # by django.contrib.auth, which is earlier in INSTALLED_APPS).
        post_migrate.connect(_ensure_roles, sender=self, dispatch_uid="scm_reports_roles")
