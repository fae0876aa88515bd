"""Dates on pages, one way per language (issue 12): ``{{ value|day }}`` and
``{{ value|moment }}`` render a ``<time>`` element in the language's format
(rcf/formats/<lang>/formats.py): "23 Nov 2026" / "2026년 11월 23일", and
"23 Nov 2026, 21:05 KST" for a moment, the framework's time zone named. The
``<time>`` carries the machine-readable value and never wraps (CSS), so a
date does not break over two lines in a narrow Korean column.

Registered as template builtins (settings.TEMPLATES): no ``{% load %}``.
Not for ``<title>`` or e-mail text: there, ``|date:"DATE_FORMAT"``."""

import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

register = template.Library()


@register.filter(is_safe=True)
def day(value):
    if not isinstance(value, datetime.date):
        return value if value not in (None, "") else ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), date_format(value, "DATE_FORMAT"))


@register.filter(is_safe=True)
def moment(value):
    if not isinstance(value, datetime.datetime):
        return day(value)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_html('<time datetime="{}">{}</time>', local.isoformat(timespec="minutes"),
                       date_format(local, "SHORT_DATETIME_FORMAT"))
