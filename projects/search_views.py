"""The header search box's results page (issue 12). Placeholder: the search helper fills it in."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView


class SearchView(LoginRequiredMixin, TemplateView):
    template_name = "projects/search.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["site_search_query"] = self.request.GET.get("q", "")
        return context
