from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RcfConfig(AppConfig):
    name = "rcf"
    verbose_name = _("Framework")
