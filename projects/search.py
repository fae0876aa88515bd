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
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Value,
    When,
    Window,
)
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


class IsTrue(Func):
    """``(condition) IS TRUE``: the same rows as ``condition``, but no index serves it and the planner
    estimates it at a fifth of the rows (pg_trgm's ILIKE estimates are a guess it trusts). A common
    word's condition: the planner walks the sort's index and stops after the page (or scans the table
    and stops at the count's LIMIT) rather than reading every match on the trigram indexes and sorting
    them."""

    template = "(%(expressions)s) IS TRUE"
    output_field = BooleanField()


def _contains(field_name: str, term: str) -> Q:
    if _postgres():
        return Q(ContainsInsensitive(F(field_name), term))
    return Q(**{f"{field_name}__icontains": term})


def match_q(fields: tuple[str, ...], query: SearchQuery, *, exact: tuple[str, ...] = (),
            fuzzy: bool = True, similar: dict | None = None, indexed: bool = True) -> Q:
    """Every word in one of ``fields`` (or the whole query equal, any case,
    to one of ``exact``). On PostgreSQL, with ``fuzzy``, a word of
    ``FUZZY_MIN_LENGTH`` or more characters also matches a field with a word
    similar to it (pg_trgm's ``%>``: word_similarity at least
    pg_trgm.word_similarity_threshold, 0.6 by default): a misspelling still
    finds the record. ``plan`` applies the fuzzy branch only when the exact
    match finds little. ``similar``: words a word also matches by substring
    (the projects' words like it, ``similar_words``). ``indexed=False``: a
    form no index serves (``IsTrue``), for a common word."""
    postgres = _postgres()
    every_word = Q()
    for term in query.terms:
        any_field = Q()
        for name in fields:
            for word in (term, *(similar or {}).get(term, ())):
                any_field |= _contains(name, word)
            if fuzzy and postgres and len(term) >= FUZZY_MIN_LENGTH:
                any_field |= Q(**{f"{name}__trigram_word_similar": term})
        every_word &= any_field
    condition = every_word
    whole = " ".join(query.terms)
    for name in exact:
        condition |= Q(**{f"{name}__iexact": whole})
    if not indexed and postgres:
        return Q(IsTrue(ExpressionWrapper(condition, output_field=BooleanField())))
    return condition


def _has_fuzzy_words(query: SearchQuery) -> bool:
    return any(len(term) >= FUZZY_MIN_LENGTH for term in query.terms)


# --- The plan: a common word on the sort's index, a rare one on the trigram indexes ----------------
#
# A word in most records ("logistics", "maritime") matches tens of thousands of rows: finding them all
# on the trigram indexes, checking each (ILIKE, word similarity) and sorting them costs what the number
# of matches does (700 ms at 100,000 projects, seconds for a misspelling of such a word). A page of them
# is found by walking the list's sort index and stopping after the page; their count stops at
# SEARCH_COUNT_CAP. A rare word ("12345") is the opposite: the walk would read the whole table, the
# trigram indexes give its few rows at once. Which it is, ``plan`` learns from the newest SAMPLE_ROWS
# rows (a walk of the primary key: the same cost at any size), not from the planner's estimates
# (pg_trgm's are the same for any word).

SAMPLE_ROWS = 400
# Matches among SAMPLE_ROWS (10%) from which a word is common: its first page is at most ~260 rows into
# the sort's index, its capped count at most ~10,000 rows into the table, at any size.
COMMON_HITS = 40
# The fuzzy branch (a misspelt word) only when the exact match finds fewer projects than a page: a
# correctly spelt word's results are its substring matches, as they were.
FUZZY_BELOW = 25
# A search's count stops here ("More than 1,000 projects"): counting a common word's 10,001 matches
# would read 13,000 rows and check each (6 µs apiece: 80 ms); 1,001 cost 8.
SEARCH_COUNT_CAP = 1_000
# The header search ranks a common word's matches among this many (the newest): ranking all of them by
# similarity was the cost of the search page (27 s at 100,000 projects for "logistics").
CANDIDATES = 200


@dataclass
class Plan:
    condition: Q  # what a matching record satisfies (with the fuzzy branch or not)
    ids: list | None = None  # few matches: their primary keys (at most ID_LIST_MAX), else None
    common: bool = False  # matches in SAMPLE_ROWS reached COMMON_HITS: walk the sort's index

    @property
    def few(self) -> bool:
        return self.ids is not None


def _sample_hits(base, condition: Q) -> int:
    """How many of ``base``'s newest ``SAMPLE_ROWS`` rows (by primary key: an index walk) match."""
    hits = (base.order_by("-pk").annotate(search_hit=Case(When(condition, then=Value(1)), default=Value(0),
                                                          output_field=IntegerField()))
            .values_list("search_hit", flat=True)[:SAMPLE_ROWS])
    return sum(hits)


def _index_probe(base, conditions: list[Q], limit: int) -> list[list]:
    """The primary keys of ``base``'s rows matching each of ``conditions`` (at most ``limit`` each), read
    on the trigram indexes (a BitmapOr, the whole table never scanned): sequential and plain index scans
    are switched off for these queries alone (``SET LOCAL``, put back after: requests run in a
    transaction)."""
    from django.db import transaction

    results = []
    # A savepoint (or the request's own transaction): if a probe fails (the statement timeout cancels it),
    # rolling it back puts the settings back too, and the error (a 503 for a timeout) is the one raised. Put
    # back by a query after a failed one, as in a `finally`, the transaction is already aborted: a second
    # error, a 500, would replace the first.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'), "
                       "set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true)")
        seqscan, indexscan, _off, _off2 = cursor.fetchone()
        for condition in conditions:
            results.append(list(base.filter(condition).order_by().values_list("pk", flat=True)[:limit]))
        cursor.execute("SELECT set_config('enable_seqscan', %s, true), set_config('enable_indexscan', %s, true)",
                       [seqscan, indexscan])
    return results


def _locate(base, condition, terms: list[str]) -> Plan:
    """Common (the sample), few (their ids, on the trigram indexes) or neither. ``condition(indexed)``
    makes the Q."""
    if _sample_hits(base, condition(False)) >= COMMON_HITS:
        return Plan(condition(False), common=True)
    if all(len(term) < 3 for term in terms):
        # Words of one or two characters have no trigram: the indexes cannot narrow them, and the probe
        # (plain scans off) would read them whole. Left to the planner, under the statement timeout.
        return Plan(condition(False))
    condition = condition(True)
    (ids,) = _index_probe(base, [condition], ID_LIST_MAX + 1)
    return Plan(condition, ids=ids if len(ids) <= ID_LIST_MAX else None)


# Queries a kind of the header search at most (``_fetch``): the rows and their total in one on SQLite; on
# PostgreSQL the sample, the probe (its settings put and put back, in a savepoint: two more inside a request's
# transaction), a misspelling's words and their probe, the rows (a common word: the sample, the candidates,
# the capped count, the rows). Never more with more records.
def queries_a_kind() -> int:
    return 14 if _postgres() else 1


# The projects' words (projects/migrations/0016): a misspelt word is looked up there.
WORDS_TABLE = "projects_search_word"
SIMILAR_WORDS = 10  # at most this many words a misspelt word stands for, the most similar first
# A word stands for a misspelt one from this word similarity: "logisitcs" for "logistics" is 0.5 (two
# letters swapped cost 4 of 10 trigrams). Candidates come from the words' trigram index (``%``:
# trigram similarity at least pg_trgm.similarity_threshold, 0.3 by default).
SIMILAR_WORD_THRESHOLD = 0.5


def _looked_up(term: str) -> bool:
    """A word of letters (not a phrase, not a number, no punctuation: the words table is split on spaces
    and punctuation and holds no numbers) long enough to be misspelt."""
    return len(term) >= FUZZY_MIN_LENGTH and term.isalnum() and not term.isdigit()


def similar_words(query: SearchQuery) -> dict[str, list[str]]:
    """For each word of ``FUZZY_MIN_LENGTH`` characters or more, the projects' words similar to it
    (pg_trgm's word similarity at least ``SIMILAR_WORD_THRESHOLD``): one query on the words' trigram
    index, never on the projects."""
    terms = [term for term in query.terms if _looked_up(term)]
    if not terms:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.term, w.word FROM unnest(%s::text[]) AS t(term) CROSS JOIN LATERAL ("  # noqa: S608
            f"SELECT word FROM {WORDS_TABLE} WHERE word %% t.term AND word_similarity(t.term, word) >= %s "
            f"ORDER BY word_similarity(t.term, word) DESC, word LIMIT {SIMILAR_WORDS}) AS w",
            [terms, SIMILAR_WORD_THRESHOLD])
        found: dict[str, list[str]] = {}
        for term, word in cursor.fetchall():
            # A word two concurrent edits added is stored twice (the table has no unique constraint).
            if word != term.casefold() and word not in found.get(term, ()):
                found.setdefault(term, []).append(word)
    return found


def plan(base, fields: tuple[str, ...], query: SearchQuery, *, exact: tuple[str, ...] = (),
         words: bool = False) -> Plan:
    """How to find ``query`` among ``base`` (a kind's live records, unfiltered otherwise). SQLite: the
    substring match, as ever. PostgreSQL: the substring match (every word, any field); a common word
    (``COMMON_HITS`` in the newest ``SAMPLE_ROWS``) is left to the page query, which walks the sort's
    index; otherwise the matching ids are read on the trigram indexes (more than ``ID_LIST_MAX``: the
    condition, left to the planner). When that finds fewer than ``FUZZY_BELOW`` records, a misspelt
    word's: with ``words`` (the projects), the words similar to each (``similar_words``) are searched
    as well, by substring, as above; else pg_trgm's ``%>`` on the trigram indexes."""
    if not _postgres():
        return Plan(match_q(fields, query, exact=exact, fuzzy=False))
    found = _locate(base, lambda indexed: match_q(fields, query, exact=exact, fuzzy=False, indexed=indexed),
                    query.terms)
    if found.common or not found.few or len(found.ids) >= FUZZY_BELOW or not _has_fuzzy_words(query):
        return found
    if words:
        similar = similar_words(query) if any(_looked_up(term) for term in query.terms) else {}
        return _locate(base, lambda indexed: match_q(fields, query, exact=exact, fuzzy=False, similar=similar,
                                                     indexed=indexed), query.terms) if similar else found
    condition = match_q(fields, query, exact=exact, fuzzy=True)
    (ids,) = _index_probe(base, [condition], ID_LIST_MAX + 1)
    return Plan(condition, ids=ids if len(ids) <= ID_LIST_MAX else None)


# The project list's search (projects.filters.ProjectFilter.search): the header search's rule.
LIST_FIELDS = ("title", "title_ko", "summary", "summary_ko")
LIST_EXACT = ("external_id",)
# At most this many matches are read as ids (on the trigram indexes) and the page asked by primary key.
ID_LIST_MAX = 500
# Issue 14's first probe limit (tests/projects/test_list_scale.py plans a probe with it).
PROBE_LIMIT = 10_001


def project_plan(query: SearchQuery) -> Plan:
    from .models import CooperativeProject

    return plan(CooperativeProject.objects.all(), LIST_FIELDS, query, exact=LIST_EXACT, words=True)


def filter_projects(queryset, query: SearchQuery):
    """``queryset`` narrowed to the projects matching every word (the list's
    search, the same rule as the header's: ``plan``).

    A rare word: the ids read on the trigram indexes (at most
    ``ID_LIST_MAX``), the page by primary key whatever its sort. A common
    word: the substring condition in the page query, which walks the sort's
    index (``updated_at``, ``(title, id)``) and stops after the page; the
    count stops at ``SEARCH_COUNT_CAP`` (the list view asks
    ``search_count_cap``). Sorts no index orders (status, area, SCM year,
    priority) sort every match, as the list without a search sorts every
    project."""
    found = project_plan(query)
    if found.few:
        return queryset.filter(pk__in=found.ids)
    return queryset.filter(found.condition)


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
    total: int  # at most SEARCH_COUNT_CAP + 1
    see_all_url: str = ""

    @property
    def capped(self) -> bool:
        """More than ``SEARCH_COUNT_CAP`` matches: ``total`` is a floor."""
        return self.total > SEARCH_COUNT_CAP

    @property
    def shown_total(self) -> int:
        return min(self.total, SEARCH_COUNT_CAP)

    @property
    def more(self) -> int:
        return max(0, self.shown_total - len(self.results))


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
    rows = CooperativeProject.objects.only("id", "title", "title_ko", "summary", "summary_ko", "status",
                                           "external_id")
    results = []
    rows, total = _fetch(rows, fields, query, exact=("external_id",), words=True, walk=("-updated_at", "-id"))
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
    rows = PointOfContact.objects.select_related("organization")
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
    rows = Organization.objects.select_related("country")
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
    rows = Engagement.objects.all()
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
            .select_related("owner", "project", "engagement"))
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
        .select_related("project", "engagement"))
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


def _fetch(base, fields, query, *, exact=(), words=False, walk=("-pk",)):
    """The first ``GROUP_LIMIT`` records of ``base`` matching ``query``, best first, and the kind's total:
    returns (records, total). A fixed number of queries, whatever the number of matches.

    SQLite: one query, the rows and the total (a window count) together. PostgreSQL (``plan``): a rare
    word's ids (at most ``ID_LIST_MAX``) are ranked, the total is their number; a common word is ranked
    among its newest ``CANDIDATES`` matches (the kind's own order, e.g. most recently changed: ranking
    every match by similarity was the cost), its total counted to ``SEARCH_COUNT_CAP`` + 1 (more: the
    page says "more than"). ``walk``: the order the candidates are taken in, an index's (the newest by
    primary key; the projects by their list's "most recently changed", which has one)."""
    from rcf.keyset import capped_count

    ordering = [F("search_rank").desc(), *base.model._meta.ordering]
    if not _postgres():
        rows = list(
            base.filter(match_q(fields, query, exact=exact))
            .annotate(search_rank=rank_expression(fields, query), search_total=Window(Count("pk")))
            .order_by(*ordering)[:GROUP_LIMIT]
        )
        return rows, (rows[0].search_total if rows else 0)
    found = plan(base, fields, query, exact=exact, words=words)
    if found.few:
        candidates, total = found.ids, len(found.ids)
    else:
        matches = base.filter(found.condition)
        candidates = list(matches.order_by(*walk).values_list("pk", flat=True)[:CANDIDATES])
        total = capped_count(matches, SEARCH_COUNT_CAP)
    if not candidates:
        return [], 0
    rows = list(base.filter(pk__in=candidates).annotate(search_rank=rank_expression(fields, query))
                .order_by(*ordering)[:GROUP_LIMIT])
    return rows, total


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

