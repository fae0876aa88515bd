"""A project's change history in words people read: who, when, which field,
old → new (from django-simple-history's records)."""

from __future__ import annotations

from django.db.models import Model
from simple_history.models import ModelChange

from contacts.models import Organization, PointOfContact
from rcf.models import PartnerCountry, PriorityArea

from .models import CooperativeProject

# Bookkeeping columns nobody needs to see in a history.
_HIDDEN = {"version", "updated_at", "created_at", "sync_txid", "updated_by", "created_by", "id"}
_M2M_TARGETS = {
    "additional_areas": (PriorityArea, "priorityarea"),
    "partner_countries": (PartnerCountry, "partnercountry"),
    "complemented_partners": (PartnerCountry, "partnercountry"),
    "industry_partners": (Organization, "organization"),
}
_FK_TARGETS = {"priority_area": PriorityArea, "us_lead_poc": PointOfContact, "rok_lead_poc": PointOfContact}
HISTORY_LIMIT = 50


def _label(field_name: str) -> str:
    return str(CooperativeProject._meta.get_field(field_name).verbose_name).capitalize()


def _names(model: type[Model], ids) -> dict:
    manager = getattr(model, "all_objects", model.objects)  # a since-deleted POC keeps its name here
    return {o.pk: str(o) for o in manager.filter(pk__in=ids)}


def _display(field_name: str, value, names: dict) -> str:
    if value in (None, ""):
        return "—"
    if field_name in _M2M_TARGETS:
        _model, key = _M2M_TARGETS[field_name]
        ids = [row[key] for row in value]
        return ", ".join(sorted(names.get((field_name, pk), str(pk)) for pk in ids)) or "—"
    if field_name in _FK_TARGETS:
        return names.get((field_name, value), str(value))
    field = CooperativeProject._meta.get_field(field_name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


# Written only by services, so not editable: simple-history's diff (built on
# model_to_dict) cannot see them, and they matter most in a history.
_SERVICE_FIELDS = ("status", "ready_on", "deleted_at")


def _m2m_sets(records) -> dict:
    """{(field, history_id): set of target ids} for all ``records`` in one
    query per many-to-many field (simple-history's diff asks per record)."""
    sets = {}
    for field, (_model, key) in _M2M_TARGETS.items():
        through = getattr(records[0], field).model
        for history_id, target in through.objects.filter(history__in=records).values_list("history_id", key):
            sets.setdefault((field, history_id), set()).add(target)
    return sets


def _changes(new, old, m2m_sets: dict | None = None) -> list:
    if m2m_sets is None:
        delta = new.diff_against(old, excluded_fields=list(_HIDDEN))
        changes = [change for change in delta.changes if change.field not in _HIDDEN]
    else:
        delta = new.diff_against(old, excluded_fields=[*_HIDDEN, *_M2M_TARGETS])
        changes = [change for change in delta.changes if change.field not in _HIDDEN]
        for field, (_model, key) in _M2M_TARGETS.items():
            before = m2m_sets.get((field, old.pk), set())
            after = m2m_sets.get((field, new.pk), set())
            if before != after:
                changes.append(ModelChange(field, [{key: pk} for pk in sorted(before)],
                                           [{key: pk} for pk in sorted(after)]))
    for name in _SERVICE_FIELDS:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            changes.insert(0, ModelChange(name, before, after))
    return changes


def _resolve_names(changes) -> dict:
    wanted: dict[str, set] = {}
    for change in changes:
        if change.field in _M2M_TARGETS:
            key = _M2M_TARGETS[change.field][1]
            for value in (change.old or []) + (change.new or []):
                wanted.setdefault(change.field, set()).add(value[key])
        elif change.field in _FK_TARGETS:
            wanted.setdefault(change.field, set()).update(v for v in (change.old, change.new) if v is not None)
    names = {}
    for field, ids in wanted.items():
        model = _M2M_TARGETS[field][0] if field in _M2M_TARGETS else _FK_TARGETS[field]
        for pk, name in _names(model, ids).items():
            names[(field, pk)] = name
    return names


def _rows(changes, names: dict | None = None) -> list[dict]:
    names = _resolve_names(changes) if names is None else names
    return [
        {"field": _label(c.field), "old": _display(c.field, c.old, names), "new": _display(c.field, c.new, names)}
        for c in changes
    ]


def history_entries(project: CooperativeProject) -> list[dict]:
    """Newest first: who changed what, and when (the latest HISTORY_LIMIT changes)."""
    fetched = project.history.select_related("history_user").order_by("-history_date", "-history_id")
    # simple-history writes several records for one change (the save, then each
    # many-to-many step, via an empty set); one change is one version, and its
    # last record holds the result.
    records, seen = [], set()
    for record in fetched[: (HISTORY_LIMIT + 1) * 4]:
        if record.version not in seen:
            seen.add(record.version)
            records.append(record)
    records = records[: HISTORY_LIMIT + 1]
    m2m_sets = _m2m_sets(records) if records else {}
    pairs = [(newer, older, _changes(newer, older, m2m_sets) if older else None)
             for newer, older in zip(records, records[1:] + [None], strict=True)]
    names = _resolve_names([c for *_pair, changes in pairs for c in changes or []])  # one query per model
    entries = []
    for newer, older, changes in pairs:
        if older is None:
            if len(records) <= HISTORY_LIMIT:
                entries.append({"when": newer.history_date, "who": newer.history_user, "created": True,
                                "changes": [], "reason": newer.history_change_reason})
        elif changes:
            entries.append({"when": newer.history_date, "who": newer.history_user, "created": False,
                            "changes": _rows(changes, names), "reason": newer.history_change_reason})
    return entries


def changes_since(project: CooperativeProject, version: int) -> dict:
    """What changed since ``version`` (the version a user's form was opened
    at), and who changed it: shown when their save is refused."""
    seen = project.history.filter(version=version).order_by("-history_date").first()
    latest = project.history.select_related("history_user").order_by("-history_date", "-history_id").first()
    if seen is None or latest is None or seen.pk == latest.pk:
        return {"rows": [], "who": [], "when": None}
    who = {
        str(r.history_user) for r in project.history.filter(version__gt=version).select_related("history_user")
        if r.history_user
    }
    return {"rows": _rows(_changes(latest, seen)), "who": sorted(who), "when": latest.history_date}
