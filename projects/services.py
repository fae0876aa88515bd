"""Writes on cooperative projects: create, edit, the lifecycle, soft delete.

Every page, API view, admin action and command that changes a project calls
these functions, so each rule is written once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rcf.selectors import framework_today
from rcf.services import claim_version, resolve_codes, restore, soft_delete

from .models import (
    FINAL_STATUSES,
    CooperativeProject,
    ProjectStatus,
    ProjectTransition,
)
from .signals import project_readiness_changed

S = ProjectStatus

# The forward path and the steps back the framework's review process allows.
_STEPS: dict[str, set[str]] = {
    S.CONCEPT: {S.UNDER_REVIEW},
    S.UNDER_REVIEW: {S.PRIORITIZED, S.CONCEPT},
    S.PRIORITIZED: {S.READY, S.UNDER_REVIEW},
    S.READY: {S.PRESENTED, S.PRIORITIZED},
    S.PRESENTED: {S.IN_IMPLEMENTATION},
    S.IN_IMPLEMENTATION: {S.COMPLETED},
    S.ON_HOLD: set(),  # back to where it was held from; see allowed_transitions()
    S.COMPLETED: set(),
    S.WITHDRAWN: set(),
}

# Steps an editor may take; everything else is for lead POCs.
EDITOR_STEPS = {(S.CONCEPT, S.UNDER_REVIEW), (S.UNDER_REVIEW, S.CONCEPT)}

M2M_FIELDS = ("additional_areas", "partner_countries", "industry_partners", "complemented_partners")
EDITABLE_FIELDS = (
    "title",
    "summary",
    "channel",
    "priority_area",
    "lead_side",
    "priority",
    "us_lead_poc",
    "rok_lead_poc",
    "complementary_efforts",
    "resources_estimate",
    "resources_currency",
    "resources_note",
    "target_year",
    "start_date",
    "end_date",
    "external_id",
)


def _held_from(project: CooperativeProject) -> str | None:
    step = project.transitions.filter(to_status=S.ON_HOLD).order_by("-at", "-id").first()
    return step.from_status if step else None


def _last_left_ready(project: CooperativeProject):
    """The day (framework time zone) the project last left ``ready`` for
    anything but ``presented``; None if it never did."""
    from zoneinfo import ZoneInfo

    from django.conf import settings

    step = (
        project.transitions.filter(from_status=S.READY).exclude(to_status=S.PRESENTED).order_by("-at", "-id").first()
    )
    return step.at.astimezone(ZoneInfo(settings.RCF_TIME_ZONE)).date() if step else None


def allowed_transitions(*, project: CooperativeProject) -> list[str]:
    """The statuses the project may move to next, in lifecycle order."""
    targets = set(_STEPS[project.status])
    if project.status == S.ON_HOLD:
        held_from = _held_from(project)
        if held_from:
            targets.add(held_from)
    if project.status not in FINAL_STATUSES:
        if project.status != S.ON_HOLD:
            targets.add(S.ON_HOLD)
        targets.add(S.WITHDRAWN)
    return [s for s in S.values if s in targets]


def can_take_step(*, user, from_status: str, to_status: str) -> bool:
    if user is None:  # the system itself (migrations, commands run by operators)
        return True
    if not user.has_perm("projects.change_cooperativeproject"):
        return False
    if (from_status, to_status) in EDITOR_STEPS:
        return True
    return user.has_perm("projects.prioritize_cooperativeproject")


def ready_requirements_errors(project: CooperativeProject, partner_country_count: int) -> dict:
    errors: dict[str, list[str]] = {}
    if not (project.summary or "").strip():
        errors["summary"] = [_("A project needs a summary before it can be ready.")]
    if partner_country_count < 1:
        errors["partner_countries"] = [_("A project needs at least one partner country before it can be ready.")]
    if not project.us_lead_poc_id:
        errors["us_lead_poc"] = [_("A project needs a U.S. lead POC before it can be ready.")]
    if not project.rok_lead_poc_id:
        errors["rok_lead_poc"] = [_("A project needs a ROK lead POC before it can be ready.")]
    return errors


@transaction.atomic
def project_transition(
    *,
    project: CooperativeProject,
    to: str,
    by=None,
    note: str = "",
    ready_on: datetime.date | None = None,
    priority: int | None = None,
    expected_version: int | None = None,
    today: datetime.date | None = None,
) -> CooperativeProject:
    """Move ``project`` one step through its lifecycle, or refuse with a
    ``ValidationError`` (``PermissionDenied`` for a step beyond the user's
    role). Nothing is saved when the step is refused."""
    today = today or framework_today()
    if to not in S.values:
        raise ValidationError({"to": [_("Unknown status “%(status)s”.") % {"status": to}]})
    if project.is_deleted:
        raise ValidationError(_("A deleted project cannot change status."))
    from_status = project.status
    if to not in allowed_transitions(project=project):
        raise ValidationError(
            {
                "to": [
                    _("A project cannot move from “%(from)s” to “%(to)s”.")
                    % {"from": S(from_status).label, "to": S(to).label}
                ]
            }
        )
    if not can_take_step(user=by, from_status=from_status, to_status=to):
        raise PermissionDenied(_("Only lead POCs can move a project from “%(from)s” to “%(to)s”.")
                               % {"from": S(from_status).label, "to": S(to).label})
    if ready_on is not None and to != S.READY:
        raise ValidationError({"ready_on": [_("A ready date can only be given when the project becomes ready.")]})

    if priority is not None:
        _check_priority_permission(by, project.priority, int(priority))
        if not (1 <= int(priority) <= 5):
            raise ValidationError({"priority": [_("Priority must be between 1 (highest) and 5.")]})
        project.priority = int(priority)
    if to in (S.PRIORITIZED, S.READY) and project.priority is None:
        raise ValidationError({"priority": [_("Set a priority (1-5) to prioritise the project.")]})

    if to == S.READY:
        errors = ready_requirements_errors(project, project.partner_countries.count())
        if ready_on is None:
            ready_on = today
        elif ready_on > today:
            errors["ready_on"] = [_("The ready date cannot be in the future.")]
        else:
            left = _last_left_ready(project)
            if left is not None and ready_on < left:
                # ready_on means "ready from then on": not before it last stopped being ready.
                errors["ready_on"] = [_("The ready date cannot be before %(date)s, when the project last left "
                                        "“Ready”.") % {"date": left.isoformat()}]
        if errors:
            raise ValidationError(errors)
        project.ready_on = ready_on
    elif from_status == S.READY and to != S.PRESENTED:
        # ready_on means "became ready and stayed ready until presented".
        project.ready_on = None

    claim_version(instance=project, expected_version=expected_version)
    project.status = to
    project.updated_by = by
    project._history_user = by
    project._change_reason = note[:100] if note else f"{from_status} → {to}"
    project.save()
    ProjectTransition.objects.create(
        project=project,
        from_status=from_status,
        to_status=to,
        by=by,
        note=note,
        ready_on=project.ready_on if to == S.READY else None,
    )
    if to == S.READY or from_status == S.READY:
        project_readiness_changed.send(sender=CooperativeProject, project=project)
    return project


def _validate_and_save(project: CooperativeProject, m2m: dict[str, Iterable], by) -> None:
    project.full_clean(exclude=["status", "ready_on"])
    if project.status in (S.PRIORITIZED, S.READY) and project.priority is None:
        # full_clean skips this constraint because it also reads `status`.
        raise ValidationError({"priority": [_("A prioritised or ready project keeps a priority (1-5).")]})
    not_industry = [o.name for o in m2m.get("industry_partners", []) if o.side != "industry"]
    if not_industry:
        raise ValidationError(
            {"industry_partners": [_("Not an industry organisation: %(names)s.") % {"names": ", ".join(not_industry)}]}
        )
    if project.status == S.READY:
        count = len(list(m2m["partner_countries"])) if "partner_countries" in m2m else project.partner_countries.count()
        errors = ready_requirements_errors(project, count)
        if errors:
            raise ValidationError(
                {k: [_("The project is ready: %(reason)s") % {"reason": v[0]}] for k, v in errors.items()}
            )
    project.updated_by = by
    project._history_user = by
    project.save()
    for name, values in m2m.items():
        getattr(project, name).set(values)


def _split(data: dict[str, Any]) -> tuple[dict, dict]:
    from rcf.models import PartnerCountry, PriorityArea

    unknown = set(data) - set(EDITABLE_FIELDS) - set(M2M_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be set.")] for name in sorted(unknown)})
    fields = {k: v for k, v in data.items() if k in EDITABLE_FIELDS}
    if isinstance(fields.get("priority_area"), str):
        fields["priority_area"] = resolve_codes(
            PriorityArea, "code", [fields["priority_area"]], "priority_area", _("priority area code")
        )[0]
    m2m = {}
    for name in M2M_FIELDS:
        if name not in data:
            continue
        if name in ("partner_countries", "complemented_partners"):
            m2m[name] = resolve_codes(PartnerCountry, "iso2", data[name], name, _("country code"))
        elif name == "additional_areas":
            m2m[name] = resolve_codes(PriorityArea, "code", data[name], name, _("priority area code"))
        else:
            m2m[name] = list(data[name])
    return fields, m2m


def _check_priority_permission(by, old, new) -> None:
    if by is not None and old != new and not by.has_perm("projects.prioritize_cooperativeproject"):
        raise PermissionDenied(_("Only lead POCs can set a project's priority."))


@transaction.atomic
def project_create(*, by=None, **data) -> CooperativeProject:
    """Create a project in ``concept``. Raises ``ValidationError`` naming the
    field for anything wrong, including a duplicate ``external_id`` (also
    against deleted projects, which keep theirs)."""
    fields, m2m = _split(data)
    _check_priority_permission(by, None, fields.get("priority"))
    external_id = fields.get("external_id") or ""
    if external_id and CooperativeProject.all_objects.filter(external_id=external_id).exists():
        raise ValidationError({"external_id": [_("A project with this external id already exists.")]})
    project = CooperativeProject(**fields, created_by=by)
    _validate_and_save(project, m2m, by)
    return project


@transaction.atomic
def project_update(
    *, project: CooperativeProject, by=None, expected_version: int | None = None, **data
) -> CooperativeProject:
    """Change a project's fields. The change is refused with
    ``rcf.services.VersionConflict`` when the project moved past
    ``expected_version`` (default: the version the caller loaded)."""
    if project.is_deleted:
        raise ValidationError(_("A deleted project cannot be edited; restore it first."))
    fields, m2m = _split(data)
    _check_priority_permission(by, project.priority, fields.get("priority", project.priority))
    external_id = fields.get("external_id")
    if external_id and (
        CooperativeProject.all_objects.filter(external_id=external_id).exclude(pk=project.pk).exists()
    ):
        raise ValidationError({"external_id": [_("A project with this external id already exists.")]})
    claim_version(instance=project, expected_version=expected_version)
    for name, value in fields.items():
        setattr(project, name, value)
    _validate_and_save(project, m2m, by)
    return project


def project_soft_delete(*, project: CooperativeProject, by=None, expected_version: int | None = None):
    if by is not None and not by.has_perm("projects.delete_cooperativeproject"):
        raise PermissionDenied(_("You cannot delete projects."))
    project.updated_by = by
    with transaction.atomic():
        soft_delete(instance=project, by=by, expected_version=expected_version)
        if project.ready_on:
            project_readiness_changed.send(sender=CooperativeProject, project=project)
    return project


def project_restore(*, project: CooperativeProject, by=None):
    if by is not None and not by.has_perm("projects.restore_cooperativeproject"):
        raise PermissionDenied(_("Only administrators can restore deleted projects."))
    project.updated_by = by
    with transaction.atomic():
        restore(instance=project, by=by)
        if project.ready_on:
            project_readiness_changed.send(sender=CooperativeProject, project=project)
    return project


# --- Engagements ----------------------------------------------------------------

ENGAGEMENT_FIELDS = ("project", "date", "kind", "summary", "location")
ENGAGEMENT_M2M = ("participants",)


def engagement_create(*, by=None, **data):
    from rcf.services import split_fields, tracked_create

    from .models import Engagement

    fields, m2m = split_fields(data, editable=ENGAGEMENT_FIELDS, m2m=ENGAGEMENT_M2M)
    project = fields.get("project")
    if project is not None and project.deleted_at is not None:
        raise ValidationError({"project": [_("The project is deleted.")]})
    return tracked_create(model=Engagement, by=by, fields={**fields, "created_by": by}, m2m=m2m)


def engagement_update(*, engagement, by=None, expected_version=None, **data):
    from rcf.services import split_fields, tracked_update

    fields, m2m = split_fields(data, editable=ENGAGEMENT_FIELDS, m2m=ENGAGEMENT_M2M)
    return tracked_update(instance=engagement, by=by, expected_version=expected_version, fields=fields, m2m=m2m)


def engagement_delete(*, engagement, by=None, expected_version=None):
    return soft_delete(instance=engagement, by=by, expected_version=expected_version)
