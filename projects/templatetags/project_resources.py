"""Resource lines and totals on the pages (issue 11).

``{% load project_resources %}`` then:

- ``{% project_resources project %}``: the project page's card (lines, totals
  per side × kind in each currency, the add form and edit/delete for editors);
  a refused add comes back from projects.resource_views in the page's context
  (``resource_form``) with its messages and the input;
- ``{% resource_totals_table rows %}``: the totals tables of
  ``projects.selectors.resource_totals`` rows (also the dashboard's and the
  SCM report's);
- ``{{ amount|money:currency }}``: an amount in the reader's locale (Babel):
  "$1,250,000.50" / "₩1,500,000,000" in English, "US$1,250,000.50" in Korean;
  KRW without decimals (the won has no minor unit).
"""

from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_currency
from django import template
from django.utils.translation import get_language

from ..selectors import project_resource_lines, project_resource_totals, resource_side_label, resource_tables

register = template.Library()


def reader_locale() -> Locale:
    """The Babel locale of the active language ("en", "ko", "en-us"…); English when unknown."""
    try:
        return Locale.parse((get_language() or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def format_amount(amount, currency: str) -> str:
    """``amount`` in ``currency``, formatted for the reader (see the module docstring)."""
    if amount is None:
        return ""
    try:
        return format_currency(amount, currency, locale=reader_locale())
    except (ValueError, TypeError, ArithmeticError):  # a value Babel cannot format: show it as stored
        return f"{amount} {currency}"


@register.filter
def money(amount, currency) -> str:
    return format_amount(amount, str(currency or ""))


@register.filter
def side_label(side) -> str:
    """A line's side ("Side not given" for a line migrated without one)."""
    return resource_side_label(str(side or ""))


@register.inclusion_tag("projects/_resource_totals_table.html")
def resource_totals_table(rows):
    return {"tables": resource_tables(list(rows or []))}


@register.inclusion_tag("projects/_resource_card.html", takes_context=True)
def project_resources(context, project):
    from ..resource_views import ResourceLineForm

    user = context.get("user")
    live = not project.is_deleted

    def may(perm):
        return bool(live and user is not None and user.has_perm(perm))

    lines = list(project_resource_lines(project=project))
    resource_form = context.get("resource_form")
    return {
        "project": project,
        "lines": lines,
        "totals": project_resource_totals(project),
        "can_add": may("projects.add_resourceline"),
        "can_change": may("projects.change_resourceline"),
        "can_delete": may("projects.delete_resourceline"),
        "resource_form": resource_form or ResourceLineForm(),
        "resource_refused": resource_form is not None,
        "csrf_token": context.get("csrf_token"),
    }

