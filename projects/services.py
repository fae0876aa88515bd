"""Writes on cooperative projects: create, edit, the lifecycle, soft delete.

Every page, API view, admin action and command that changes a project calls
these functions, so each rule is written once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.selectors import acting_lead_poc
from rcf.selectors import framework_today
from rcf.services import VersionConflict, claim_version, resolve_codes, restore, soft_delete

from .models import (
    CONCURRENCE_WATCHED_FIELDS,
    FINAL_STATUSES,
    STATUSES_WITHOUT_READY_ON,
    Concurrence,
    ConcurrenceStep,
    CooperativeProject,
    ProjectStatus,
    ProjectTransition,
    ProposingSide,
)
from .signals import project_readiness_changed

S = ProjectStatus

# The forward path and the steps back the framework's review process allows.
_STEPS: dict[str, set[str]] = {
    S.CONCEPT: {S.UNDER_REVIEW},
    S.UNDER_REVIEW: {S.PRIORITIZED, S.CONCEPT},
    S.PRIORITIZED: {S.READY, S.UNDER_REVIEW},
    S.READY: {S.PRESENTED, S.PRIORITIZED},
    # Back after an SCM deferred (prioritized) or declined (under_review) it: see SCM_STEPS.
    S.PRESENTED: {S.IN_IMPLEMENTATION, S.PRIORITIZED, S.UNDER_REVIEW},
    S.IN_IMPLEMENTATION: {S.COMPLETED},
    S.ON_HOLD: set(),  # back to where it was held from; see allowed_transitions()
    S.COMPLETED: set(),
    S.WITHDRAWN: set(),
}

# Steps only a recorded SCM decision takes (scm_reports.services.presentation_record,
# which passes at_scm=True): "presented" says at which SCM, with what outcome, and
# a deferral or a decline there sends the project back. This app cannot import
# scm_reports, so the generic step is refused with a pointer instead.
SCM_STEPS = {(S.READY, S.PRESENTED), (S.PRESENTED, S.PRIORITIZED), (S.PRESENTED, S.UNDER_REVIEW)}
STATUSES_BACK = (S.PRIORITIZED, S.UNDER_REVIEW)  # where a deferral or a decline at an SCM sends a project

# Steps an editor may take; everything else is for lead POCs.
EDITOR_STEPS = {(S.CONCEPT, S.UNDER_REVIEW), (S.UNDER_REVIEW, S.CONCEPT)}

def is_joint_step(*, from_status: str, to_status: str) -> bool:
    """Prioritising a project and declaring it ready are decisions of both
    sides: one lead POC proposes, a lead POC of the other side concurs. A
    step back from ready to prioritised is not a prioritisation."""
    if to_status == S.READY:
        return True
    return to_status == S.PRIORITIZED and from_status in (S.UNDER_REVIEW, S.ON_HOLD)


class ProposalConflict(ValidationError):
    """A proposal that can no longer be answered: already closed, or stale
    (the project moved on). The API answers 409."""

M2M_FIELDS = ("additional_areas", "partner_countries", "industry_partners", "complemented_partners")
EDITABLE_FIELDS = (
    "title",
    "title_ko",
    "summary",
    "summary_ko",
    "channel",
    "priority_area",
    "lead_side",
    "priority",
    "us_lead_poc",
    "rok_lead_poc",
    "complementary_efforts",
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
    anything but ``presented`` (or left ``presented`` back); None if it never did."""
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.db.models import Q

    # Also a deferral or a decline at an SCM (presented -> back): it stopped being ready then.
    left = (Q(from_status=S.READY) & ~Q(to_status=S.PRESENTED)) | Q(from_status=S.PRESENTED,
                                                                    to_status__in=STATUSES_BACK)
    step = project.transitions.filter(left).order_by("-at", "-id").first()
    return step.at.astimezone(ZoneInfo(settings.RCF_TIME_ZONE)).date() if step else None


def allowed_transitions(*, project: CooperativeProject, at_scm: bool = False) -> list[str]:
    """The statuses the project may move to next, in lifecycle order (the
    steps back from ``presented`` only for an SCM's recorded decision)."""
    targets = set(_STEPS[project.status])
    if not at_scm and project.status == S.PRESENTED:
        targets -= set(STATUSES_BACK)
    if project.status == S.ON_HOLD:
        held_from = _held_from(project)
        if held_from:
            targets.add(held_from)
    if project.status not in FINAL_STATUSES:
        if project.status != S.ON_HOLD:
            targets.add(S.ON_HOLD)
        targets.add(S.WITHDRAWN)
    return [s for s in S.values if s in targets]


def can_act_as_lead(user) -> bool:
    """Lead-POC powers: may change projects, and is linked to an active lead
    POC of a side (contacts.selectors.acting_lead_poc). A group alone,
    administrator's included, is not enough."""
    if user is None:  # the system itself (migrations, commands run by operators)
        return True
    return user.has_perm("projects.change_cooperativeproject") and acting_lead_poc(user) is not None


def can_take_step(*, user, from_status: str, to_status: str) -> bool:
    if user is None:  # the system itself (migrations, commands run by operators)
        return True
    if not user.has_perm("projects.change_cooperativeproject"):
        return False
    if (from_status, to_status) in EDITOR_STEPS:
        return True
    return can_act_as_lead(user)


def ready_requirements_errors(project: CooperativeProject, partner_country_count: int) -> dict:
    errors: dict[str, list[str]] = {}
    if not (project.summary or "").strip() and not (project.summary_ko or "").strip():
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
    joint_decision: bool = False,
    at_scm: bool = False,
) -> CooperativeProject | Concurrence:
    """Move ``project`` one step through its lifecycle, or refuse with a
    ``ValidationError`` (``PermissionDenied`` for a step beyond the user's
    role). Nothing is saved when the step is refused.

    Entering ``prioritized`` or ``ready`` is a joint decision
    (``is_joint_step``): with ``settings.RCF_JOINT_CONCURRENCE`` on, a lead
    POC's step is checked exactly as the step itself would be and then
    recorded as a proposal (a ``Concurrence``, returned instead of the
    project) that a lead POC of the other side concurs with
    (``concurrence_concur``) or declines. ``joint_decision=True`` says the
    decision has already been taken by both sides (a concurrence, an SCM
    outcome): the step happens at once without a lead POC's powers (the
    caller has checked who may record it). ``at_scm=True`` (a presentation
    recorded by scm_reports) opens the ``SCM_STEPS``. ``by=None`` is the
    system (commands, migrations)."""
    today = today or framework_today()
    if to not in S.values:
        raise ValidationError({"to": [_("Unknown status “%(status)s”.") % {"status": to}]})
    if project.is_deleted:
        raise ValidationError(_("A deleted project cannot change status."))
    from_status = project.status
    if to not in allowed_transitions(project=project, at_scm=at_scm):
        raise ValidationError(
            {
                "to": [
                    _("A project cannot move from “%(from)s” to “%(to)s”.")
                    % {"from": S(from_status).label, "to": S(to).label}
                ]
            }
        )
    if not joint_decision and not can_take_step(user=by, from_status=from_status, to_status=to):
        raise PermissionDenied(_("Only lead POCs can move a project from “%(from)s” to “%(to)s”: your login is "
                                 "not linked to an active lead POC of the U.S. or ROK side.")
                               % {"from": S(from_status).label, "to": S(to).label})
    if (from_status, to) in SCM_STEPS and not at_scm:
        raise ValidationError({"to": [_(
            "A project is presented at an SCM: record the presentation with the SCM and its outcome (the "
            "project page's “Move to Presented” form, or POST /api/v1/scm-presentations/ with project, scm_cycle "
            "and outcome).")]})
    if ready_on is not None and to != S.READY:
        raise ValidationError({"ready_on": [_("A ready date can only be given when the project becomes ready.")]})

    new_priority = project.priority
    if priority is not None:
        if not joint_decision:
            _check_priority_permission(by, project.priority, int(priority))
        if not (1 <= int(priority) <= 5):
            raise ValidationError({"priority": [_("Priority must be between 1 (highest) and 5.")]})
        new_priority = int(priority)
    if to in (S.PRIORITIZED, S.READY) and new_priority is None:
        raise ValidationError({"priority": [_("Set a priority (1-5) to prioritise the project.")]})

    step_ready_on = None
    if to == S.READY:
        errors = ready_requirements_errors(project, project.partner_countries.count())
        step_ready_on = ready_on if ready_on is not None else today
        if step_ready_on > today:
            errors["ready_on"] = [_("The ready date cannot be in the future.")]
        else:
            left = _last_left_ready(project)
            if left is not None and step_ready_on < left:
                # ready_on means "ready from then on": not before it last stopped being ready.
                errors["ready_on"] = [_("The ready date cannot be before %(date)s, when the project last left "
                                        "“Ready”.") % {"date": left.isoformat()}]
        if errors:
            raise ValidationError(errors)

    if (by is not None and not joint_decision and settings.RCF_JOINT_CONCURRENCE
            and is_joint_step(from_status=from_status, to_status=to)):
        # Checked as the step itself; recorded as a proposal (the backfill date only when one was given).
        return _propose(project=project, step=to, by=by, note=note, priority=new_priority, ready_on=ready_on,
                        expected_version=expected_version)

    had_ready_on = project.ready_on is not None
    claim_version(instance=project, expected_version=expected_version)
    project.priority = new_priority
    if to == S.READY:
        project.ready_on = step_ready_on
    elif to in STATUSES_WITHOUT_READY_ON or (from_status == S.READY and to != S.PRESENTED):
        # ready_on means "became ready and stayed ready until presented".
        project.ready_on = None
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
    _close_open_proposals(project, reason=_("Closed: the project moved from “%(from)s” to “%(to)s”.")
                          % {"from": S(from_status).label, "to": S(to).label})
    if to == S.READY or from_status == S.READY or (had_ready_on and project.ready_on is None):
        project_readiness_changed.send(sender=CooperativeProject, project=project)
    return project


# --- Joint concurrence ------------------------------------------------------------


def _open(queryset):
    return queryset.filter(concurred_at__isnull=True, declined_at__isnull=True, withdrawn_at__isnull=True)


def open_proposal(*, project: CooperativeProject, step: str | None = None) -> Concurrence | None:
    queryset = _open(Concurrence.objects.filter(project=project))
    if step:
        queryset = queryset.filter(step=step)
    return queryset.select_related("proposer_poc", "proposed_by").order_by("-proposed_at", "-id").first()


def _side_label(side: str) -> str:
    return str(ProposingSide(side).label)


def _propose(*, project, step, by, note, priority, ready_on, expected_version) -> Concurrence:
    poc = acting_lead_poc(by)
    if poc is None:  # can_take_step let them through; a proposal must still name a side
        raise PermissionDenied(_("Only a lead POC of the U.S. or ROK side can propose this step."))
    if expected_version is not None and expected_version != project.version:
        raise VersionConflict(CooperativeProject.all_objects.get(pk=project.pk))
    existing = open_proposal(project=project, step=step)
    if existing is not None:
        raise _already_proposed(existing, poc)
    proposal = Concurrence(
        project=project,
        step=step,
        from_status=project.status,
        project_version=project.version,
        priority=priority,
        ready_on=ready_on if step == ConcurrenceStep.READY else None,
        side=poc.side,
        proposed_by=by,
        proposer_poc=poc,
        note=note,
    )
    proposal.full_clean(validate_constraints=False)  # the database's unique constraint decides a race
    proposal._history_user = by
    try:
        with transaction.atomic():  # a savepoint: the loser of a race gets the 409 below, not a broken transaction
            proposal.save()
    except IntegrityError:
        winner = open_proposal(project=project, step=step)
        if winner is None:
            raise
        raise _already_proposed(winner, poc) from None
    return proposal


def _already_proposed(existing: Concurrence, poc) -> ProposalConflict:
    message = (
        _("The %(side)s side already proposed this on %(date)s; concur with or decline that proposal instead.")
        if existing.side != poc.side else
        _("Your side already proposed this on %(date)s; it is awaiting the other side's concurrence.")
    ) % {"side": _side_label(existing.side), "date": existing.proposed_at.date().isoformat()}
    return ProposalConflict({"to": [message]})


def _close_open_proposals(project, *, reason: str) -> None:
    """A real step closes what was proposed from the earlier status: the other
    side would otherwise be asked to concur with a project that moved on."""
    now = timezone.now()
    for proposal in _open(Concurrence.objects.filter(project=project)):
        proposal.withdrawn_at = now
        proposal.response_note = reason
        proposal.save()


def _answerable(concurrence: Concurrence, by, expected_version: int | None) -> tuple[Concurrence, Any]:
    """Lock and re-read the proposal; refuse one that is closed (409). Returns
    it with the answering lead POC (PermissionDenied for anyone else)."""
    current = Concurrence.all_objects.select_for_update().select_related("project").get(pk=concurrence.pk)
    if current.deleted_at is not None:
        raise ProposalConflict(_("This proposal has been deleted."))
    if not current.is_open:
        when = (current.concurred_at or current.declined_at or current.withdrawn_at).date().isoformat()
        message = {
            "concurred": _("This proposal is closed: it was concurred with on %(date)s."),
            "declined": _("This proposal is closed: it was declined on %(date)s."),
            "withdrawn": _("This proposal is closed: it was withdrawn on %(date)s."),
        }[current.state] % {"date": when}
        raise ProposalConflict(message)
    if expected_version is not None and expected_version != current.version:
        raise VersionConflict(current)
    poc = acting_lead_poc(by) if by is not None else None
    return current, poc


def _check_project_current(proposal: Concurrence, project_version: int | None) -> CooperativeProject:
    project = CooperativeProject.all_objects.select_for_update().get(pk=proposal.project_id)
    if project.deleted_at is not None:
        raise ProposalConflict(_("The project has been deleted since it was proposed."))
    if project.status != proposal.from_status:
        raise ProposalConflict(
            _("The proposal is stale: it was made when the project was “%(then)s”; it is now “%(now)s”.")
            % {"then": S(proposal.from_status).label, "now": S(project.status).label}
        )
    if project_version is not None and project_version != project.version:
        raise ProposalConflict(
            _("The project changed after you opened it (version %(seen)s, now %(now)s): review the changes "
              "shown on the proposal and answer again.") % {"seen": project_version, "now": project.version}
        )
    return project


@transaction.atomic
def concurrence_concur(
    *,
    concurrence: Concurrence,
    by,
    note: str = "",
    expected_version: int | None = None,
    project_version: int | None = None,
    today: datetime.date | None = None,
) -> Concurrence:
    """A lead POC of the other side concurs: the step happens through the
    lifecycle (every rule checked again), dated the day of the concurrence
    unless the proposal named a backfill date. Refused: by anyone but a lead
    POC of the other side (PermissionDenied), a closed or stale proposal or
    a project changed since ``project_version`` (``ProposalConflict``), a
    proposal changed since ``expected_version`` (``VersionConflict``)."""
    proposal, poc = _answerable(concurrence, by, expected_version)
    if by is not None:
        if poc is None or not by.has_perm("projects.change_cooperativeproject"):
            raise PermissionDenied(_("Only a lead POC of the %(side)s side can concur with this proposal.")
                                   % {"side": _side_label(proposal.awaited_side)})
        if poc.side == proposal.side:
            raise PermissionDenied(_("The %(side)s side proposed this step: a lead POC of the %(other)s side must "
                                     "concur with it.") % {"side": _side_label(proposal.side),
                                                          "other": _side_label(proposal.awaited_side)})
        if by.pk == proposal.proposed_by_id or poc.pk == proposal.proposer_poc_id:
            # The same login or person, relinked or moved to the other side since (administrators can): still one side.
            raise PermissionDenied(_("You proposed this step: a lead POC of the %(other)s side must concur with it.")
                                   % {"other": _side_label(proposal.awaited_side)})
    project = _check_project_current(proposal, project_version)
    now = timezone.now()
    proposal.concurred_by = by
    proposal.concurred_at = now
    proposal.response_note = note
    proposal._history_user = by
    proposal.full_clean(validate_constraints=False)
    proposal.save()  # closed first: the step's own clean-up leaves it alone
    proposer = proposal.proposer_poc.full_name if proposal.proposer_poc_id else _side_label(proposal.side)
    step_note = _("Proposed by %(proposer)s (%(side)s) on %(date)s; concurred by the %(other)s side.") % {
        "proposer": proposer, "side": _side_label(proposal.side),
        "date": proposal.proposed_at.date().isoformat(), "other": _side_label(proposal.awaited_side)}
    step_note = "\n".join(part for part in (proposal.note, note, step_note) if part)
    project_transition(
        project=project, to=proposal.step, by=by, note=step_note, priority=proposal.priority,
        ready_on=proposal.ready_on, today=today, joint_decision=True,
    )
    return proposal


@transaction.atomic
def concurrence_decline(
    *, concurrence: Concurrence, by, note: str, expected_version: int | None = None
) -> Concurrence:
    """A lead POC of the other side declines, with a note (required); the
    proposal closes and the project stays where it is."""
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say why the proposal is declined.")]})
    proposal, poc = _answerable(concurrence, by, expected_version)
    if by is not None:
        if poc is None or not by.has_perm("projects.change_cooperativeproject"):
            raise PermissionDenied(_("Only a lead POC of the %(side)s side can decline this proposal.")
                                   % {"side": _side_label(proposal.awaited_side)})
        if poc.side == proposal.side:
            raise PermissionDenied(_("Your side made this proposal: withdraw it instead of declining it."))
    proposal.declined_by = by
    proposal.declined_at = timezone.now()
    proposal.response_note = note
    proposal._history_user = by
    proposal.full_clean(validate_constraints=False)
    proposal.save()
    return proposal


@transaction.atomic
def concurrence_withdraw(*, concurrence: Concurrence, by, note: str = "",
                         expected_version: int | None = None) -> Concurrence:
    """The proposing side takes its proposal back."""
    proposal, poc = _answerable(concurrence, by, expected_version)
    if by is not None and (poc is None or poc.side != proposal.side
                           or not by.has_perm("projects.change_cooperativeproject")):
        raise PermissionDenied(_("Only a lead POC of the %(side)s side can withdraw this proposal.")
                               % {"side": _side_label(proposal.side)})
    proposal.withdrawn_at = timezone.now()
    proposal.response_note = note
    proposal._history_user = by
    proposal.full_clean(validate_constraints=False)
    proposal.save()
    return proposal


def _watched_values(project: CooperativeProject, m2m: dict | None = None) -> dict[str, str]:
    values = {}
    for name in CONCURRENCE_WATCHED_FIELDS:
        if name == "partner_countries":
            countries = m2m["partner_countries"] if m2m and "partner_countries" in m2m else (
                project.partner_countries.all() if project.pk else [])
            values[name] = ", ".join(sorted(c.iso2 for c in countries))
        elif name in ("us_lead_poc", "rok_lead_poc"):
            poc = getattr(project, name) if getattr(project, f"{name}_id") else None
            values[name] = poc.full_name if poc else ""
        else:
            values[name] = getattr(project, name) or ""
    return values


def _record_changes_on_proposals(project, before: dict[str, str], after: dict[str, str], by) -> None:
    """Show the other side what changed in what they are asked to concur with."""
    changed = [name for name in CONCURRENCE_WATCHED_FIELDS if before[name] != after[name]]
    if not changed:
        return
    proposals = list(_open(Concurrence.objects.filter(project=project)))
    if not proposals:
        return
    at = timezone.now().isoformat()
    who = (by.get_full_name() or by.get_username()) if by is not None else ""
    entries = [{"at": at, "by": who, "field": name, "old": before[name], "new": after[name]} for name in changed]
    for proposal in proposals:
        proposal.changes = [*(proposal.changes or []), *entries]
        proposal._history_user = by
        proposal.save()


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
    if by is not None and old != new and not can_act_as_lead(by):
        raise PermissionDenied(_("Only lead POCs can set a project's priority: your login is not linked to an "
                                 "active lead POC of the U.S. or ROK side."))


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
    watched = _open(Concurrence.objects.filter(project=project)).exists()
    before = _watched_values(project) if watched else None
    for name, value in fields.items():
        setattr(project, name, value)
    _validate_and_save(project, m2m, by)
    if watched:
        _record_changes_on_proposals(project, before, _watched_values(project, m2m), by)
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

ENGAGEMENT_FIELDS = ("date", "kind", "summary", "location", "other_participants", "external_id")
ENGAGEMENT_M2M = ("projects", "participants", "industry_organizations", "partner_countries")


def engagement_create(*, by=None, **data):
    from rcf.services import split_fields, tracked_create

    from .models import Engagement

    fields, m2m = split_fields(data, editable=ENGAGEMENT_FIELDS, m2m=ENGAGEMENT_M2M)
    if any(project.deleted_at is not None for project in m2m.get("projects") or []):
        raise ValidationError({"projects": [_("The project is deleted.")]})
    return tracked_create(model=Engagement, by=by, fields={**fields, "created_by": by}, m2m=m2m)


def engagement_update(*, engagement, by=None, expected_version=None, **data):
    from rcf.services import split_fields, tracked_update

    fields, m2m = split_fields(data, editable=ENGAGEMENT_FIELDS, m2m=ENGAGEMENT_M2M)
    return tracked_update(instance=engagement, by=by, expected_version=expected_version, fields=fields, m2m=m2m)


def engagement_delete(*, engagement, by=None, expected_version=None):
    return soft_delete(instance=engagement, by=by, expected_version=expected_version)
