"""``{% panel "name" %}…{% endpanel %}``: a dashboard panel rendered once and
reused while what it shows is the same (issue 14: the page's time was its
templates, ≈ 35 ms of a 111 KB page, whatever the figures).

The view (``scm_reports.views.DashboardView``) puts a :class:`CachedPanels`
in the context as ``dashboard_panels``: one cache key per panel, built from a
digest of the panel's data (``scm_reports.dashboard.fingerprint``: the
figures, names and dates the selectors already read), the language, today,
the reader's permissions that change the panel, the URL prefix and the
code that draws it (templates, translations, template tags: :func:`build_id`).
A change of any of them is a new key, so a panel is never stale; old keys
simply expire (``PANEL_SECONDS``). All keys are read in one round trip
(``get_many``); a panel missing is rendered and stored. The CSRF token of
the pipeline's priority forms (lead POCs) is put in after the cache, never
stored. Without ``dashboard_panels`` (other views rendering the same
template) the panels render as usual. The cache is ``CACHES["panels"]``
(Redis when ``REDIS_URL`` is set, else the process's memory); when it fails
the page renders without it.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path

from django import template
from django.conf import settings
from django.core.cache import caches
from django.template.defaulttags import CsrfTokenNode
from django.utils.safestring import mark_safe

register = template.Library()
logger = logging.getLogger(__name__)

PANEL_SECONDS = 600  # a key unused this long is dropped; a changed panel has a new key anyway
KEY_PREFIX = "dash-panel:1"
_CSRF_STAND_IN = "dash-panel-csrf-token"  # rendered in place of the token, replaced when served


@functools.cache
def build_id() -> str:
    """A digest of the code that draws the panels: every template, translation
    catalogue and template tag module of the project (read once a process),
    so a deploy that changes how a panel looks never serves the old one."""
    base = Path(settings.BASE_DIR)
    files = [*base.glob("templates/**/*.html"), *base.glob("locale/*/LC_MESSAGES/*.mo"),
             *base.glob("*/templatetags/*.py"), *base.glob("*/formats/**/*.py")]
    digest = hashlib.blake2b(digest_size=12)
    for path in sorted(files):
        digest.update(str(path.relative_to(base)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class CachedPanels:
    """The panels of one dashboard request: ``keys`` (panel name → cache key,
    or None: not cached) and the rendered panels already in the cache."""

    def __init__(self, keys: dict[str, str | None]):
        self.keys = keys
        self.rendered = 0  # panels rendered by this request (the rest came from the cache)
        wanted = [k for k in keys.values() if k]
        try:
            self.found = caches["panels"].get_many(wanted) if wanted else {}
            self.available = True
        except Exception:  # a cache down must not take the page with it
            logger.warning("Dashboard panels: the cache is unavailable; rendering every panel", exc_info=True)
            self.found, self.available = {}, False

    def render(self, name: str, nodelist, context) -> str:
        key = self.keys.get(name)
        if not key:
            return nodelist.render(context)
        html = self.found.get(key)
        if html is None:
            self.rendered += 1
            with context.push(csrf_token=_CSRF_STAND_IN):
                html = str(nodelist.render(context))
            if self.available:
                try:
                    caches["panels"].set(key, html, PANEL_SECONDS)
                except Exception:
                    logger.warning("Dashboard panels: could not store panel %s", name, exc_info=True)
                    self.available = False
        if _CSRF_STAND_IN in html:
            with context.push(csrf_token=_CSRF_STAND_IN):
                stand_in = CsrfTokenNode().render(context)
            html = html.replace(stand_in, CsrfTokenNode().render(context))
        return mark_safe(html)  # noqa: S308 - the template engine rendered (and escaped) it


def dashboard_panels(board, *, request, can_prioritize: bool, query: str, at_risk_days: int) -> CachedPanels:
    """The panels of ``board`` (``scm_reports.dashboard.dashboard``) as ``request``'s reader sees them: one
    key per panel, from the digest of what that panel shows and of what else changes it."""
    from django.urls import get_script_prefix
    from django.utils.translation import get_language

    from scm_reports.dashboard import fingerprint

    common = (build_id(), get_language(), get_script_prefix(), settings.ROOT_URLCONF, settings.TIME_ZONE, board.today)
    shows = {
        "filters": (board.years, board.filters, board.areas),
        "timeline": (board.timeline, board.open_flags, at_risk_days,
                     request.user.has_perm("scm_reports.add_scmcycle")),
        "matrix": (board.matrix, board.filters),
        # The priority forms carry the page's filters (`query`: made from board.filters, never the raw query
        # string, so made-up parameters cannot multiply the copies): only a lead POC's pipeline has them.
        "pipeline": (board.pipeline, can_prioritize, query if can_prioritize else ""),
        "coverage": (board.coverage,),
        "implementation": (board.implementation,),
        "resources": (board.resource_totals,),
    }
    return CachedPanels({name: f"{KEY_PREFIX}:{name}:{fingerprint(*common, *data)}" for name, data in shows.items()})


class PanelNode(template.Node):
    def __init__(self, name: str, nodelist):
        self.name, self.nodelist = name, nodelist

    def render(self, context):
        panels = context.get("dashboard_panels")
        if panels is None:
            return self.nodelist.render(context)
        return panels.render(self.name, self.nodelist, context)


@register.tag
def panel(parser, token):
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError("{% panel \"name\" %} takes one quoted panel name")
    nodelist = parser.parse(("endpanel",))
    parser.delete_first_token()
    return PanelNode(bits[1][1:-1], nodelist)
