"""Template helpers of the engagement pages."""

from django import template

register = template.Library()


@register.filter
def without(records, record):
    """``records`` (e.g. an engagement's projects, prefetched) less ``record``
    (the page's own project): "also about" the others."""
    if record is None:
        return list(records)
    return [r for r in records if r.pk != record.pk]
