from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Cooperative projects")

    def ready(self):
        # Webhook payloads show each record as the API does (rcf cannot import this app's serializers).
        from rcf.webhooks import webhook_register

        from .models import ActionItem, Concurrence, CooperativeProject, Engagement

        webhook_register(model=CooperativeProject, resource="project",
                         serializer="projects.serializers.ProjectSerializer")
        webhook_register(model=Concurrence, resource="concurrence",
                         serializer="projects.serializers.ConcurrenceSerializer")
        webhook_register(model=Engagement, resource="engagement",
                         serializer="projects.serializers.EngagementSerializer")
        webhook_register(model=ActionItem, resource="action", serializer="projects.serializers.ActionItemSerializer")
