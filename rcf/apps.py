from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RcfConfig(AppConfig):
    name = "rcf"
    verbose_name = _("Framework")

    def ready(self):
        from . import (
            accounts,  # noqa: F401  (connects the two-factor check to every sign-in)
            export_jobs,  # noqa: F401  (registers the outbox handlers of export runs and their e-mails)
            fixture_loading,  # noqa: F401  (loaddata writes no history of its own)
            import_jobs,  # noqa: F401  (registers the outbox handler that starts import runs)
        )
