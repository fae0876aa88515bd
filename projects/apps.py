from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

SUMMARY_ROWS_MIGRATION = ("projects", "0012_dashboard_counts")


def count_existing_projects(sender, plan=None, verbosity=1, **kwargs):
    """The migration that creates the dashboard's summary rows creates them
    empty; the projects already there are counted here, once, after every
    migration of the run has been applied: the count is the current code's
    (projects.counts) and reads the current schema, which a data migration in
    the middle of the chain would not have."""
    if not any((m.app_label, m.name) == SUMMARY_ROWS_MIGRATION and not backwards for m, backwards in plan or ()):
        return
    from . import counts
    from .models import CooperativeProject

    if not CooperativeProject.all_objects.exists():
        return
    if verbosity:
        print("  Counting the existing projects for the dashboard's summary rows...")  # noqa: T201
    counts.rebuild()


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Cooperative projects")

    def ready(self):
        post_migrate.connect(count_existing_projects, sender=self, dispatch_uid="projects.count_existing_projects")
        from .signals import connect_reference_deletes

        connect_reference_deletes()  # a hard-deleted priority area or partner country: recount its projects
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
