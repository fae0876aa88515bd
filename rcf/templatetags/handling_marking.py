"""The deployment's handling marking in templates (issue 11, rcf.marking):
``{% marking_banner "top" %}`` / ``{% marking_banner "bottom" %}`` on every
page (base.html and the plain error pages, which render without a request),
``{% handling_marking_css %}``, a CSS string for the PDF's page margins.
Nothing at all when ``RCF_HANDLING_MARKING`` is empty."""

import re

from django import template
from django.utils.safestring import mark_safe

from ..marking import handling_marking

register = template.Library()


@register.inclusion_tag("includes/marking_banner.html")
def marking_banner(position: str = "top") -> dict:
    return {"marking": handling_marking(), "position": position}


@register.simple_tag
def current_handling_marking() -> str:
    return handling_marking()


_CSS_UNSAFE = re.compile(r'[\\"\'<>&\x00-\x1f\x7f]')


@register.simple_tag
def handling_marking_css() -> str:
    """The marking as a quoted CSS string (for ``content:`` in ``@page``
    margin boxes), every character that could end the string or the
    ``<style>`` element escaped; ``none`` when no marking is set."""
    marking = handling_marking()
    if not marking:
        return "none"
    # Safe inside <style>: quotes, backslashes, < > & and controls are CSS escapes.
    return mark_safe('"' + _CSS_UNSAFE.sub(lambda m: f"\\{ord(m.group()):x} ", marking) + '"')  # noqa: S308
