"""/projects/import/: the spreadsheet import's page (rcf.import_views has the
two steps; projects.imports the rows)."""

from django.urls import reverse_lazy

from rcf.import_views import ImportView


class ProjectImportView(ImportView):
    # Whoever may create and edit projects (ProjectCreateView, ProjectUpdateView); each row is checked again
    # by the services (e.g. a priority only by a lead POC).
    permission_required = ("projects.add_cooperativeproject", "projects.change_cooperativeproject")
    kind = "projects"
    template_name = "projects/import.html"
    done_url = reverse_lazy("projects:list")
