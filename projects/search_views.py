"""The header search box's results page (issue 12): ``/search/?q=``.
The search itself is projects.search."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from . import search


class SearchView(LoginRequiredMixin, TemplateView):
    """Results grouped by kind, only what the signed-in user may see. Any
    ``q`` is answered with results or a message, never an error."""

    template_name = "projects/search.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        raw = self.request.GET.get("q", "")
        query = search.clean_query(raw)
        groups = search.search(query, self.request.user)
        context.update({
            # The header box keeps what was searched (cleaned and cut to its maxlength).
            "site_search_query": query.text,
            "query": query,
            "asked": bool(raw.strip()),
            "groups": groups,
            # A common word's kinds count to search.SEARCH_COUNT_CAP: "more than" their sum.
            "total": sum(group.shown_total for group in groups),
            "capped": any(group.capped for group in groups),
            "max_length": search.MAX_LENGTH,
            "min_length": search.MIN_LENGTH,
        })
        return context
