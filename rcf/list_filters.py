"""A list page's filter bar (issue 12): chips for the active filters (each a
link that removes one value), sortable column headers, the parts of the bar.
Used by every staff list (projects, engagements, actions, organisations)."""

import django_filters
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django_filters import fields as filter_fields


def query_without(query, name: str, value: str | None = None, *, keep_empty=()) -> str:
    """``query`` (a QueryDict) as a query string without ``name`` (every value,
    or only ``value``) and without ``page``. A name in ``keep_empty`` stays,
    empty, when its last value goes (its absence would mean a default)."""
    query = query.copy()
    query.pop("page", None)
    if value is None:
        query.pop(name, None)
    else:
        query.setlist(name, [v for v in query.getlist(name) if v != value])
    if name in keep_empty and not query.getlist(name):
        query.setlist(name, [""])
    return query.urlencode()


def _choice_labels(field) -> dict:
    labels = {}
    for value, label in field.choices:
        if isinstance(label, (list, tuple)):  # an optgroup
            labels.update({str(v): str(lab) for v, lab in label})
        else:
            labels[str(value)] = str(label)
    return labels


def filter_chips(filterset, query, *, skip=("sort", "page"), keep_empty=()) -> list[dict]:
    """One chip per value of every filter the query sets (valid values only,
    in the form's order): its name, value, label and the link that removes
    just that value."""
    form = filterset.form
    chips = []
    for name, field in form.fields.items():
        if name in skip:
            continue
        values = [v for v in query.getlist(name) if v.strip()]
        if not values:
            continue
        labels = _choice_labels(field) if hasattr(field, "choices") else None
        for value in values:
            if labels is not None:
                if value not in labels:
                    continue
                text = labels[value]
            else:
                if form.is_bound and name in form.errors:
                    continue
                text = f"“{value}”" if name in ("q", "search") else value
            chips.append({"name": name, "value": value, "field": str(field.label), "label": text,
                          "remove": query_without(query, name, value, keep_empty=keep_empty)})
    return chips


def sort_headers(query, current: str, columns) -> dict:
    """For each sortable column (key, label): the link that sorts by it
    (ascending first, or the other way when it is already the sort), and its
    ``aria-sort``."""
    headers = {}
    base = query.copy()
    base.pop("page", None)
    for key, label in columns:
        if current == key:
            aria, target = "ascending", f"-{key}"
        elif current == f"-{key}":
            aria, target = "descending", key
        else:
            aria, target = None, key
        base.setlist("sort", [target])
        headers[key.lstrip("-")] = {"label": label, "aria_sort": aria, "href": "?" + base.urlencode(),
                                    "target": target}
    return headers



def filter_bar(filterset, chips, query, main, more, *, keep_empty=()) -> dict:
    """The filter bar's parts: the fields shown (``main``) and under "More
    filters" (``more``), each with the number of its values in use; how many
    filters are active (all, and under "More"); the query that clears them
    all (keeping the sort)."""
    def entry(name):
        return {"field": filterset.form[name], "count": sum(1 for c in chips if c["name"] == name)}

    keep = query.copy()
    clear = {"sort": keep.getlist("sort")} if keep.get("sort") else {}
    clear_query = QueryDict(mutable=True)
    for key, values in clear.items():
        clear_query.setlist(key, values)
    for key in keep_empty:
        clear_query.setlist(key, [""])
    return {
        "main_filters": [entry(n) for n in main], "more_filters": [entry(n) for n in more],
        "active_count": len(chips), "more_count": sum(1 for c in chips if c["name"] in more),
        "clear_query": clear_query.urlencode(),
    }


# --- Choices by id that never reach the database out of range ----------------------------
# A list's ?owner=99999999999999999999 (or "²", a digit to str.isdigit() but not to int()) is
# "Select a valid choice" like any other unknown id, not an OverflowError (SQLite) or an
# out-of-range error (PostgreSQL's bigint) and a 500.

ID_MAX = 2**63 - 1


def is_id(value) -> bool:
    text = str(value)
    return text.isascii() and text.isdigit() and int(text) <= ID_MAX


class BoundedModelChoiceField(filter_fields.ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values and self.to_field_name is None and not is_id(value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class BoundedModelMultipleChoiceField(filter_fields.ModelMultipleChoiceField):
    def _check_values(self, value):
        if self.to_field_name is None:
            for pk in value:
                if not is_id(pk):
                    raise ValidationError(self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                                          params={"pk": pk})
        return super()._check_values(value)


class ModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = BoundedModelChoiceField


class ModelMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = BoundedModelMultipleChoiceField
