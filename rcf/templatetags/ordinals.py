"""``{{ cycle.number|scm_ordinal }}``: "57th" in English, "제57차" in Korean."""

from django import template

from rcf.ordinals import scm_ordinal as _scm_ordinal

register = template.Library()


@register.filter
def scm_ordinal(number):
    return _scm_ordinal(number)
