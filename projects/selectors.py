"""Reads on cooperative projects.

The SCM year a project counts for is the readiness rule's business, which
lives in ``scm_reports`` (to the right of this app in the dependency chain).
``scm_reports`` plugs its annotator in at start-up, so pages here can show and
filter by SCM year without a second copy of the rule.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import IntegerField, Prefetch, QuerySet, Value

from .models import CooperativeProject, Engagement, ProjectTransition

_scm_year_annotator: Callable[[QuerySet], QuerySet] | None = None


def register_scm_year_annotator(annotator: Callable[[QuerySet], QuerySet]) -> None:
    global _scm_year_annotator
    _scm_year_annotator = annotator


def annotate_scm_year(queryset: QuerySet) -> QuerySet:
    if _scm_year_annotator is None:
        return queryset.annotate(scm_year=Value(None, output_field=IntegerField()))
    return _scm_year_annotator(queryset)


def project_list(*, include_deleted: bool = False) -> QuerySet:
    """Projects with what a list row shows, in a fixed number of queries."""
    base = CooperativeProject.all_objects if include_deleted else CooperativeProject.objects
    queryset = base.select_related("priority_area", "us_lead_poc", "rok_lead_poc").prefetch_related(
        "partner_countries"
    )
    return annotate_scm_year(queryset)


def project_detail(*, pk: int, include_deleted: bool = False) -> CooperativeProject:
    base = CooperativeProject.all_objects if include_deleted else CooperativeProject.objects
    queryset = annotate_scm_year(
        base.select_related(
            "priority_area", "us_lead_poc__organization", "rok_lead_poc__organization", "created_by", "updated_by"
        ).prefetch_related(
            "additional_areas",
            "partner_countries",
            "industry_partners",
            "complemented_partners",
            Prefetch(
                "engagements",
                queryset=Engagement.objects.prefetch_related("participants").select_related("created_by"),
            ),
            Prefetch("transitions", queryset=ProjectTransition.objects.select_related("by")),
        )
    )
    return queryset.get(pk=pk)
