"""``{{ flag|flag_text:today }}``: a readiness flag in the reader's language."""

from django import template

from scm_reports.flag_text import flag_text as _flag_text

register = template.Library()


@register.filter
def flag_text(flag, today):
    return _flag_text(flag, today=today)
