"""The header search box (issue 12): one query a kind of record, only what
the user may see.

Searched: projects (title and Korean title, summary and Korean summary, the
external id), points of contact (name, Korean name, e-mail), organisations
(name, Korean name), engagements (summary, location), action items (title)
and documents (title). Deleted records are never found, nor actions and
documents of a deleted project (or a document of a deleted engagement), as
on their pages.

* Every word of the query must appear (in any of a kind's fields, any case);
  a phrase in double quotes is one word. ``%`` and ``_`` are plain characters.
* On PostgreSQL a word matches by ``ILIKE`` or by pg_trgm's word similarity
  (a misspelt word still finds the record), ranked by that similarity; each
  searched column has a GIN trigram index (projects/migrations/0011). Korean
  has no stemmer in PostgreSQL: a Korean fragment is found as a substring.
* On SQLite (development, tests) it is the substring match alone, ranked by
  whether the whole query is in the record's main field.

Each kind is one query, whatever the number of results: the rows (at most
``GROUP_LIMIT``) and the kind's total (a window count) come back together.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, Count, F, FloatField, IntegerField, Q, Value, When, Window
from django.db.models.functions import Greatest
from django.db.models.lookups import Lookup
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

MAX_LENGTH = 200  # the header box's maxlength; a longer query is cut here
MIN_LENGTH = 2
MAX_TERMS = 8
GROUP_LIMIT = 8  # results shown a kind; "see all" for the rest
EXCERPT_LENGTH = 160
# Shorter words must appear as typed; from this length a misspelt word
# matches too on PostgreSQL (match_q).
FUZZY_MIN_LENGTH = 4


@dataclass
class SearchQuery:
    text: str = ""  # cleaned: no control characters, spaces collapsed, at most MAX_LENGTH
    terms: list[str] = field(default_factory=list)
    truncated: bool = False
    too_short: bool = False

    @property
    def searchable(self) -> bool:
        return bool(self.terms) and not self.too_short


_QUOTED = re.compile(r'"([^"]*)"')
_QUOTE_CHARS = "\"'“”‘’«»「」『』"


def clean_query(raw: str | None) -> SearchQuery:
    """The query as typed, made safe to search: control characters (NUL
    included) become spaces, runs of spaces one, at most ``MAX_LENGTH``
    characters; words split on spaces except inside double quotes."""
    raw = raw or ""
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in raw)
    text = " ".join(text.split())
    truncated = len(text) > MAX_LENGTH
    if truncated:
        text = text[:MAX_LENGTH].rstrip()
    terms: list[str] = []
    for phrase in _QUOTED.findall(text):
        terms.append(phrase)
    rest = _QUOTED.sub(" ", text)
    terms.extend(rest.split())
    cleaned = []
    for term in terms:
        term = " ".join(term.strip(_QUOTE_CHARS + " ").split())
        if term and term.casefold() not in {t.casefold() for t in cleaned}:
            cleaned.append(term)
    cleaned = cleaned[:MAX_TERMS]
    too_short = bool(text) and (not cleaned or _too_short(" ".join(cleaned)))
    return SearchQuery(text=text, terms=cleaned, truncated=truncated, too_short=too_short)


def _too_short(text: str) -> bool:
    """Fewer than two characters; one Korean or other CJK character (a
    Korean surname: 김) is enough."""
    if len(text) >= MIN_LENGTH:
        return False
    return not (text and ord(text[0]) >= 0x2E80)


# --- Matching ----------------------------------------------------------------------------


class ContainsInsensitive(Lookup):
    """``field ILIKE '%term%'`` (PostgreSQL): the GIN trigram index serves it,
    where Django's ``icontains`` (``UPPER(field) LIKE UPPER(…)``) would not."""

    lookup_name = "rcf_ilike_contains"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [f"%{connection.ops.prep_for_like_query(value)}%"]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", (*lhs_params, *rhs_params)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _contains(field_name: str, term: str) -> Q:
    if _postgres():
        return Q(ContainsInsensitive(F(field_name), term))
    return Q(**{f"{field_name}__icontains": term})


def match_q(fields: tuple[str, ...], query: SearchQuery, *, exact: tuple[str, ...] = ()) -> Q:
    """Every word in one of ``fields`` (or the whole query equal, any case,
    to one of ``exact``). On PostgreSQL a word of ``FUZZY_MIN_LENGTH`` or more
    characters also matches a field with a word similar to it (pg_trgm's
    ``%>``: word_similarity at least pg_trgm.word_similarity_threshold,
    0.6 by default): a misspelling still finds the record."""
    postgres = _postgres()
    every_word = Q()
    for term in query.terms:
        any_field = Q()
        for name in fields:
            any_field |= _contains(name, term)
            if postgres and len(term) >= FUZZY_MIN_LENGTH:
                any_field |= Q(**{f"{name}__trigram_word_similar": term})
        every_word &= any_field
    condition = every_word
    whole = " ".join(query.terms)
    for name in exact:
        condition |= Q(**{f"{name}__iexact": whole})
    return condition


# The project list's search (projects.filters.ProjectFilter.search): the header search's rule.
LIST_FIELDS = ("title", "title_ko", "summary", "summary_ko")
LIST_EXACT = ("external_id",)
# At most this many matches are fetched as ids first (see filter_projects); more and the page query
# filters by the words itself. The probe reads up to PROBE_LIMIT ids.
ID_LIST_MAX = 500
PROBE_LIMIT = 10_001


def filter_projects(queryset, query: SearchQuery):
    """``queryset`` narrowed to the projects matching every word (the list's
    search, the same rule as the header's: ``match_q``).

    On PostgreSQL the matching ids are read first, by themselves: a query
    with no ORDER BY and a LIMIT far above what the planner expects, so it
    reads the trigram GIN indexes (a BitmapOr, one index a column, 0011 and
    0014) and evaluates the word similarity only on their candidates. A
    rare word (the usual search) matches a few rows: the page then reads
    those by primary key (at most ``ID_LIST_MAX``, a short ``IN`` list),
    whatever its sort. Asked in one query, "these words, newest first,
    25 rows" lets the planner walk the ``updated_at`` index hoping to meet
    25 matches soon, computing the word similarity of every summary on the
    way: the whole table when the word is rare. A common word (more than
    ``ID_LIST_MAX`` matches) is left in the page query, where walking the
    sort's index does find its rows soon."""
    condition = match_q(LIST_FIELDS, query, exact=LIST_EXACT)
    if not _postgres():
        return queryset.filter(condition)
    ids = list(queryset.filter(condition).order_by().values_list("pk", flat=True)[:PROBE_LIMIT])
    if len(ids) <= ID_LIST_MAX:
        return queryset.filter(pk__in=ids)
    return queryset.filter(condition)


def rank_expression(fields: tuple[str, ...], query: SearchQuery):
    """Higher first: pg_trgm's word similarity of the query to the best
    field on PostgreSQL; elsewhere 1 when the whole query is in the main
    field, else 0."""
    whole = " ".join(query.terms)
    if _postgres():
        from django.contrib.postgres.search import TrigramWordSimilarity

        parts = [TrigramWordSimilarity(whole, name) for name in fields]
        return Greatest(*parts, output_field=FloatField()) if len(parts) > 1 else parts[0]
    return Case(When(**{f"{fields[0]}__icontains": whole}, then=Value(1)), default=Value(0),
                output_field=IntegerField())


# --- Highlighting ------------------------------------------------------------------------


def _pattern(terms):
    if not terms:
        return None
    ordered = sorted(terms, key=len, reverse=True)  # the longer of two overlapping words wins
    return re.compile("|".join(re.escape(t) for t in ordered), re.IGNORECASE)


def highlight(text: str, terms: list[str], *, excerpt: int | None = None) -> str:
    """``text`` escaped, with each occurrence of a word of the query in
    ``<mark>``. With ``excerpt``, at most that many characters around the
    first occurrence, with "…" where it was cut."""
    text = text or ""
    pattern = _pattern(terms)
    if excerpt and len(text) > excerpt:
        text = " ".join(text.split())
        found = pattern.search(text) if pattern else None
        start = max(0, (found.start() if found else 0) - excerpt // 3)
        end = min(len(text), start + excerpt)
        start = max(0, end - excerpt)
        text = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    if pattern is None:
        return escape(text)
    out, position = [], 0
    for found in pattern.finditer(text):
        if found.start() == found.end():
            continue
        out.append(escape(text[position:found.start()]))
        out.append(f"<mark>{escape(found.group())}</mark>")
        position = found.end()
    out.append(escape(text[position:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped above


def _korean() -> bool:
    return (get_language() or "").startswith("ko")


def _in_reader_language(english: str, korean: str) -> tuple[str, str]:
    """(the reader's language's text, the other language's, if different)."""
    first, second = (korean, english) if _korean() else (english, korean)
    if not first:
        return second, ""
    return first, second if second and second != first else ""


# --- The kinds ---------------------------------------------------------------------------


@dataclass
class Result:
    url: str
    title: str  # safe HTML (escaped, with <mark>)
    other_title: str = ""  # the other language's title, safe HTML
    meta: list = field(default_factory=list)  # plain strings / lazy strings (escaped by the template)
    excerpt: str = ""  # safe HTML
    lang: str = ""  # the title's language when it is not the page's ("ko"/"en")
    other_lang: str = ""
    date: object = None  # a date or datetime the page shows with |day


@dataclass
class Group:
    kind: str
    label: str
    results: list[Result]
    total: int
    see_all_url: str = ""

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.results))


def _title_langs(first: str, english: str, korean: str) -> tuple[str, str]:
    page = "ko" if _korean() else "en"
    first_lang = "ko" if first == korean and first != english else "en"
    other_lang = "en" if first_lang == "ko" else "ko"
    return ("" if first_lang == page else first_lang), ("" if other_lang == page else other_lang)


def _named(english: str, korean: str, query) -> dict:
    """A result's name in the reader's language first, the other below, both highlighted, each
    marked with its language when it is not the page's."""
    first, second = _in_reader_language(english, korean)
    lang, other_lang = _title_langs(first, english, korean)
    return {"title": highlight(first, query.terms), "other_title": highlight(second, query.terms) if second else "",
            "lang": lang, "other_lang": other_lang}


def _projects(query, user):
    from .models import CooperativeProject

    fields = ("title", "title_ko", "summary", "summary_ko")
    rows = (CooperativeProject.objects.filter(match_q(fields, query, exact=("external_id",)))
            .only("id", "title", "title_ko", "summary", "summary_ko", "status", "external_id"))
    results = []
    rows, total = _fetch(rows, fields, query)
    for project in rows:
        summary, _other = _in_reader_language(project.summary, project.summary_ko)
        meta = [project.get_status_display()]
        if project.external_id:
            meta.append(project.external_id)
        results.append(Result(
            url=reverse("projects:detail", args=[project.pk]), **_named(project.title, project.title_ko, query),
            excerpt=highlight(summary, query.terms, excerpt=EXCERPT_LENGTH) if summary else "", meta=meta))
    return results, total


def _pocs(query, user):
    from contacts.models import PointOfContact

    fields = ("full_name", "full_name_ko", "email")
    rows = PointOfContact.objects.filter(match_q(fields, query)).select_related("organization")
    results = []
    rows, total = _fetch(rows, fields, query)
    for poc in rows:
        meta = [poc.get_side_display()]
        if poc.is_lead:
            meta.append(_("Lead POC"))
        if poc.title:
            meta.append(poc.title)
        meta.append(poc.organization.name_ko if _korean() and poc.organization.name_ko else poc.organization.name)
        if not poc.active:
            meta.append(_("Inactive"))
        results.append(Result(
            url=reverse("contacts:poc_detail", args=[poc.pk]), **_named(poc.full_name, poc.full_name_ko, query),
            excerpt=highlight(poc.email, query.terms) if poc.email else "", meta=meta))
    return results, total


def _organizations(query, user):
    from contacts.models import Organization

    fields = ("name", "name_ko")
    rows = Organization.objects.filter(match_q(fields, query)).select_related("country")
    results = []
    rows, total = _fetch(rows, fields, query)
    for organization in rows:
        meta = [organization.get_side_display()]
        if organization.country_id:
            meta.append(str(organization.country))
        results.append(Result(
            url=reverse("contacts:organization_list") + f"#organization-{organization.pk}",
            **_named(organization.name, organization.name_ko, query), meta=meta))
    return results, total


def _engagements(query, user):
    from .models import Engagement

    fields = ("summary", "location")
    rows = Engagement.objects.filter(match_q(fields, query))
    results = []
    rows, total = _fetch(rows, fields, query)
    for engagement in rows:
        meta = [engagement.get_kind_display()]
        if engagement.location:
            meta.append(engagement.location)
        results.append(Result(
            url=reverse("engagements:detail", args=[engagement.pk]),
            title=highlight(engagement.summary, query.terms, excerpt=EXCERPT_LENGTH),
            meta=meta, date=engagement.date))
    return results, total


def _actions(query, user):
    from .models import ActionItem

    fields = ("title",)
    rows = (ActionItem.objects.filter(Q(project__isnull=True) | Q(project__deleted_at__isnull=True))
            .filter(match_q(fields, query)).select_related("owner", "project", "engagement"))
    can_change = user.has_perm("projects.change_actionitem")
    results = []
    rows, total = _fetch(rows, fields, query)
    for action in rows:
        if action.project_id and action.status != "open":
            # The project page lists only open actions: a done or cancelled one is on the actions list.
            url = reverse("actions:list") + "?" + urlencode(
                {"project": action.project_id, "status": action.status, "owner": ""})
        elif action.project_id:
            url = reverse("projects:detail", args=[action.project_id]) + f"#action-{action.pk}"
        elif action.engagement_id and action.engagement.deleted_at is None:
            url = reverse("engagements:detail", args=[action.engagement_id]) + f"#action-{action.pk}"
        elif can_change:
            url = reverse("actions:edit", args=[action.pk])
        else:
            url = reverse("actions:list") + "?" + urlencode({"owner": action.owner_id, "status": ""})
        meta = [action.get_status_display(), _in_reader_language(action.owner.full_name, action.owner.full_name_ko)[0]]
        if action.project_id:
            meta.append(action.project.localized_title)
        results.append(Result(url=url, title=highlight(action.title, query.terms), meta=meta, date=action.due_on))
    return results, total


def _documents(query, user):
    from .models import Document

    fields = ("title",)
    rows = (Document.objects.filter(
        Q(project__isnull=False, project__deleted_at__isnull=True)
        | Q(engagement__isnull=False, engagement__deleted_at__isnull=True))
        .filter(match_q(fields, query)).select_related("project", "engagement"))
    results = []
    rows, total = _fetch(rows, fields, query)
    for document in rows:
        if document.project_id:
            url = reverse("projects:detail", args=[document.project_id]) + "#documents"
            parent = document.project.localized_title
        else:
            url = reverse("engagements:detail", args=[document.engagement_id]) + "#documents"
            parent = str(document.engagement)
        meta = [document.marking, parent]
        results.append(Result(url=url, title=highlight(document.title, query.terms), meta=meta,
                              date=document.created_at,
                              excerpt=escape(document.original_name) if document.original_name else ""))
    return results, total


def _fetch(queryset, fields, query):
    """The first ``GROUP_LIMIT`` rows, best first, each with the kind's total:
    one query. Returns (records, total)."""
    ordering = [F("search_rank").desc(), *queryset.model._meta.ordering]
    rows = list(
        queryset.annotate(search_rank=rank_expression(fields, query), search_total=Window(Count("pk")))
        .order_by(*ordering)[:GROUP_LIMIT]
    )
    return rows, (rows[0].search_total if rows else 0)


def _see_all(list_name: str, filter_class, query) -> str:
    """The list filtered by the query, when the list has a ``q`` filter."""
    if filter_class is None or "q" not in getattr(filter_class, "base_filters", {}):
        return ""
    return reverse(list_name) + "?" + urlencode({"q": query.text})


def _filter_class(dotted: str):
    module_name, _dot, name = dotted.rpartition(".")
    try:
        from importlib import import_module

        return getattr(import_module(module_name), name)
    except (ImportError, AttributeError):
        return None


# (kind, label, permission, selector, list URL name, the list's FilterSet)
KINDS = (
    ("projects", _("Projects"), "projects.view_cooperativeproject", _projects, "projects:list",
     "projects.filters.ProjectFilter"),
    ("pocs", _("Points of contact"), "contacts.view_pointofcontact", _pocs, "contacts:directory", None),
    ("organizations", _("Organisations"), "contacts.view_organization", _organizations,
     "contacts:organization_list", None),
    ("engagements", _("Engagements"), "projects.view_engagement", _engagements, "engagements:list",
     "projects.engagement_filters.EngagementFilter"),
    ("actions", _("Action items"), "projects.view_actionitem", _actions, "actions:list",
     "projects.action_filters.ActionFilter"),
    ("documents", _("Documents"), "projects.view_document", _documents, "", None),
)


def search(query: SearchQuery, user) -> list[Group]:
    """The groups the user may see that have results, in a fixed order. One
    query a kind the user may see (none when the query is not searchable)."""
    if not query.searchable:
        return []
    groups = []
    for kind, label, permission, selector, list_name, filter_path in KINDS:
        if not user.has_perm(permission):
            continue
        results, total = selector(query, user)
        if not results:
            continue
        see_all = ""
        if total > len(results) and list_name:
            see_all = _see_all(list_name, _filter_class(filter_path) if filter_path else None, query)
        groups.append(Group(kind=kind, label=label, results=results, total=total, see_all_url=see_all))
    return groups

