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
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from contacts.selectors import acting_lead_poc
from rcf.selectors import framework_today
from rcf.services import VersionConflict, claim_version, resolve_codes, restore, soft_delete
from rcf.webhooks import webhook_before, webhook_emit

from . import counts
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


def transition_problems(
    *,
    project: CooperativeProject,
    to: str,
    by=None,
    ready_on: datetime.date | None = None,
    priority: int | None = None,
    today: datetime.date | None = None,
    joint_decision: bool = False,
    at_scm: bool = False,
) -> list[ValidationError | PermissionDenied]:
    """Every reason ``project_transition`` refuses this step, in the order it
    checks them: a list of the exceptions it would raise (it raises the
    first). Empty: the step may be taken. The one place the lifecycle's rules
    live; the project page's stepper (projects.selectors.step_requirements)
    shows them before anyone submits."""
    today = today or framework_today()
    if to not in S.values:
        return [ValidationError({"to": [_("Unknown status “%(status)s”.") % {"status": to}]})]
    if project.is_deleted:
        return [ValidationError(_("A deleted project cannot change status."))]
    from_status = project.status
    if to not in allowed_transitions(project=project, at_scm=at_scm):
        return [ValidationError({"to": [_("A project cannot move from “%(from)s” to “%(to)s”.")
                                        % {"from": S(from_status).label, "to": S(to).label}]})]
    problems: list[ValidationError | PermissionDenied] = []
    if not joint_decision and not can_take_step(user=by, from_status=from_status, to_status=to):
        problems.append(PermissionDenied(
            _("Only lead POCs can move a project from “%(from)s” to “%(to)s”: your login is not linked to an "
              "active lead POC of the U.S. or ROK side.") % {"from": S(from_status).label, "to": S(to).label}))
    if (from_status, to) in SCM_STEPS and not at_scm:
        problems.append(ValidationError({"to": [_(
            "A project is presented at an SCM: record the presentation with the SCM and its outcome (the "
            "project page's “Move to Presented” form, or POST /api/v1/scm-presentations/ with project, scm_cycle "
            "and outcome).")]}))
    if ready_on is not None and to != S.READY:
        problems.append(ValidationError(
            {"ready_on": [_("A ready date can only be given when the project becomes ready.")]}))

    new_priority = project.priority
    if priority is not None:
        if not joint_decision:
            try:
                _check_priority_permission(by, project.priority, int(priority))
            except PermissionDenied as refusal:
                problems.append(refusal)
        if not (1 <= int(priority) <= 5):
            problems.append(ValidationError({"priority": [_("Priority must be between 1 (highest) and 5.")]}))
        else:
            new_priority = int(priority)
    if to in (S.PRIORITIZED, S.READY) and new_priority is None:
        problems.append(ValidationError({"priority": [_("Set a priority (1-5) to prioritise the project.")]}))

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
            problems.append(ValidationError(errors))
    return problems


@counts.moves_figures("project")
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
    problems = transition_problems(project=project, to=to, by=by, ready_on=ready_on, priority=priority,
                                   today=today, joint_decision=joint_decision, at_scm=at_scm)
    if problems:
        raise problems[0]
    from_status = project.status
    new_priority = int(priority) if priority is not None else project.priority
    step_ready_on = (ready_on if ready_on is not None else today) if to == S.READY else None

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
    webhook_emit(event="project.transitioned", instance=project,
                 extra={"transition": {"from": from_status, "to": to}})
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
    conflict = proposal_conflict(project=project, step=step, poc=poc)
    if conflict is not None:
        raise conflict
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
    webhook_emit(event="concurrence.proposed", instance=proposal)
    return proposal


def proposal_conflict(*, project: CooperativeProject, step: str, poc) -> ProposalConflict | None:
    """Why ``poc`` cannot propose ``step`` now (a proposal for it is open), or None."""
    existing = open_proposal(project=project, step=step)
    return _already_proposed(existing, poc) if existing is not None else None


def _already_proposed(existing: Concurrence, poc) -> ProposalConflict:
    message = (
        _("The %(side)s side already proposed this on %(date)s; concur with or decline that proposal instead.")
        if existing.side != poc.side else
        _("Your side already proposed this on %(date)s; it is awaiting the other side's concurrence.")
    ) % {"side": _side_label(existing.side),
         "date": date_format(timezone.localdate(existing.proposed_at), "DATE_FORMAT")}
    return ProposalConflict({"to": [message]})


def _close_open_proposals(project, *, reason: str) -> None:
    """A real step closes what was proposed from the earlier status: the other
    side would otherwise be asked to concur with a project that moved on."""
    now = timezone.now()
    for proposal in _open(Concurrence.objects.filter(project=project)):
        proposal.withdrawn_at = now
        proposal.response_note = reason
        proposal.save()
        webhook_emit(event="concurrence.resolved", instance=proposal)


def _answerable(concurrence: Concurrence, by, expected_version: int | None) -> tuple[Concurrence, Any]:
    """Lock and re-read the proposal; refuse one that is closed (409). Returns
    it with the answering lead POC (PermissionDenied for anyone else)."""
    current = Concurrence.all_objects.select_for_update().select_related("project").get(pk=concurrence.pk)
    if current.deleted_at is not None:
        raise ProposalConflict(_("This proposal has been deleted."))
    if not current.is_open:
        when = date_format(timezone.localdate(current.concurred_at or current.declined_at or current.withdrawn_at),
                           "DATE_FORMAT")
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
    webhook_emit(event="concurrence.resolved", instance=proposal)
    proposer = proposal.proposer_poc.full_name if proposal.proposer_poc_id else _side_label(proposal.side)
    step_note = _("Proposed by %(proposer)s (%(side)s) on %(date)s; concurred by the %(other)s side.") % {
        "proposer": proposer, "side": _side_label(proposal.side),
        "date": timezone.localdate(proposal.proposed_at).isoformat(), "other": _side_label(proposal.awaited_side)}
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
    webhook_emit(event="concurrence.resolved", instance=proposal)
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
    webhook_emit(event="concurrence.resolved", instance=proposal)
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


# Never set by project_create/project_update (the lifecycle's; validated by project_transition).
_LIFECYCLE_FIELDS = frozenset({"status", "ready_on"})


def _constraint_fields(model) -> list[frozenset[str]]:
    """The fields each of ``model``'s constraints reads (its fields and those of its condition); a
    constraint on expressions reads every field, as far as we know."""
    from django.db.models import Q

    every = frozenset(f.name for f in model._meta.concrete_fields)
    groups = []
    for constraint in model._meta.constraints:
        if getattr(constraint, "expressions", None):
            groups.append(every)
            continue
        names = set(getattr(constraint, "fields", ()) or ())
        condition = getattr(constraint, "condition", None)
        if condition is not None:
            names |= Q(condition).referenced_base_fields
        groups.append(frozenset(model._meta.pk.name if name == "pk" else name for name in names))
    return groups


_PROJECT_CONSTRAINT_FIELDS: list[frozenset[str]] = []


def _clean_exclude(project: CooperativeProject, changed: set[str] | None) -> set[str]:
    """What ``full_clean`` leaves out: the lifecycle fields always; on an edit (``changed``: the names of
    the fields it sets), every field it does not set, unless a constraint reads it together with one it
    sets (a new end date is checked against the kept start date). The values kept were valid when written,
    and the database's constraints still back every one: validating them again cost a query per constraint
    and per foreign key on every save (issue 14). The model's clean() (the lead POCs) runs as before."""
    if changed is None:
        return set(_LIFECYCLE_FIELDS)
    if not _PROJECT_CONSTRAINT_FIELDS:
        _PROJECT_CONSTRAINT_FIELDS.extend(_constraint_fields(CooperativeProject))
    checked = set(changed)
    for names in _PROJECT_CONSTRAINT_FIELDS:
        if names & changed:
            checked |= names
    return {f.name for f in project._meta.concrete_fields} - (checked - _LIFECYCLE_FIELDS)


def _project_full_clean(project: CooperativeProject, changed: set[str] | None) -> None:
    """``full_clean``, leaving out what ``_clean_exclude`` says; on an edit, only the constraints that
    read a changed field are tried (Django would try each of the others and give up on it with a
    FieldError: Python work for nothing on every save)."""
    exclude = _clean_exclude(project, changed)
    if changed is None:
        project.full_clean(exclude=exclude)
        return
    from django.core.exceptions import NON_FIELD_ERRORS
    from django.db import router

    errors: dict = {}
    try:
        project.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    # As full_clean: a field already in error is not checked again by a constraint.
    exclude |= {name for name in errors if name != NON_FIELD_ERRORS}
    using = router.db_for_write(CooperativeProject, instance=project)
    for constraint, names in zip(CooperativeProject._meta.constraints, _PROJECT_CONSTRAINT_FIELDS, strict=True):
        if not names & changed or names & exclude:
            continue
        try:
            constraint.validate(CooperativeProject, project, exclude=exclude, using=using)
        except ValidationError as exc:
            if getattr(exc, "code", None) == "unique" and len(getattr(constraint, "fields", ())) == 1:
                errors.setdefault(constraint.fields[0], []).append(exc)
            else:
                errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _validate_and_save(project: CooperativeProject, m2m: dict[str, Iterable], by,
                       changed: set[str] | None = None) -> None:
    _project_full_clean(project, changed)
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


@counts.moves_figures()
@transaction.atomic
def project_create(*, by=None, **data) -> CooperativeProject:
    """Create a project in ``concept``. Raises ``ValidationError`` naming the
    field for anything wrong, including a duplicate ``external_id`` (also
    against deleted projects, which keep theirs). ``id``: the spreadsheet
    import recreating a project under the ID it had (it checks the ID is free)."""
    pk = data.pop("id", None)
    fields, m2m = _split(data)
    _check_priority_permission(by, None, fields.get("priority"))
    external_id = fields.get("external_id") or ""
    if external_id and CooperativeProject.all_objects.filter(external_id=external_id).exists():
        raise ValidationError({"external_id": [_("A project with this external id already exists.")]})
    project = CooperativeProject(**fields, created_by=by)
    if pk is not None:
        project.pk = pk
    _validate_and_save(project, m2m, by)
    webhook_emit(event="project.created", instance=project)
    return project


# The fields of a project the dashboard's summary rows read (projects.counts: its primary area, lead side,
# target year, other areas and partner countries; status and ready_on move through the lifecycle, never
# here). An edit of none of them moves no figure and skips the counts' bookkeeping (a lock, a snapshot before
# and after: ten queries). tests/api/test_patch_cost.py checks that every other field moves no figure.
COUNTED_FIELDS = frozenset({"priority_area", "lead_side", "target_year", "additional_areas", "partner_countries"})


def project_update(
    *, project: CooperativeProject, by=None, expected_version: int | None = None, **data
) -> CooperativeProject:
    """Change a project's fields. The change is refused with
    ``rcf.services.VersionConflict`` when the project moved past
    ``expected_version`` (default: the version the caller loaded)."""
    service = _project_update_counted if COUNTED_FIELDS.intersection(data) else _project_update
    return service(project=project, by=by, expected_version=expected_version, **data)


@transaction.atomic
def _project_update(
    *, project: CooperativeProject, by=None, expected_version: int | None = None, **data
) -> CooperativeProject:
    if project.is_deleted:
        raise ValidationError(_("A deleted project cannot be edited; restore it first."))
    fields, m2m = _split(data)
    _check_priority_permission(by, project.priority, fields.get("priority", project.priority))
    # What the edit sets (changed or not: a caller such as the admin may hand over the instance with its
    # form's values already in it, so comparing with it would say "unchanged").
    changed = set(fields) | set(m2m)
    external_id = fields.get("external_id")
    if external_id and (
        CooperativeProject.all_objects.filter(external_id=external_id).exclude(pk=project.pk).exists()
    ):
        raise ValidationError({"external_id": [_("A project with this external id already exists.")]})
    before = webhook_before("project.updated", project)  # an update that changes nothing sends nothing
    claim_version(instance=project, expected_version=expected_version)
    watched = _open(Concurrence.objects.filter(project=project)).exists()
    watched_before = _watched_values(project) if watched else None
    for name, value in fields.items():
        setattr(project, name, value)
    _validate_and_save(project, m2m, by, changed)
    if watched:
        _record_changes_on_proposals(project, watched_before, _watched_values(project, m2m), by)
    if before is not None:  # None: no active endpoint receives the event (webhook_before asked): none to queue
        webhook_emit(event="project.updated", instance=project, before=before)
    return project


_project_update_counted = counts.moves_figures("project")(_project_update)


# --- A project's history: its many-to-many rows, written lean -------------------------------------------
# simple_history copies a project's four many-to-many fields into its history on every save. Its own copy
# costs two queries per field, reads each link row joined to the whole project and the linked record, and
# reads the project's fields the history leaves out (current_health) once per field: a third of a PATCH's
# Python time and 12 of its queries (issue 14). The same rows (the link's id, its two ids, the history row)
# are written here from one read of the four link tables, one insert per table with links. simple_history
# sends its pre/post_create_historical_m2m_records signals no more for projects (nothing here listens).


def _project_m2m_history_tables() -> list[tuple]:
    """Per field the history copies: ``(link table, its id column, project column, other column, the
    history's model of the field, its project attname, its other attname)``."""
    history = CooperativeProject.history.model
    tables = []
    for field in history._history_m2m_fields:
        through = field.remote_field.through
        source = through._meta.get_field(field.m2m_field_name())
        target = through._meta.get_field(field.m2m_reverse_field_name())
        tables.append((through._meta.db_table, through._meta.pk.column, source.column, target.column,
                       getattr(history, field.name).model, source.attname, target.attname))
    return tables


_M2M_HISTORY_TABLES: list[tuple] = []


def _project_history_without_m2m(sender, history_instance, **kwargs):
    # The library's own copy (create_historical_record_m2ms) then has nothing to do: see below.
    history_instance._history_m2m_fields = ()


def _project_history_m2m_rows(sender, instance, history_instance, **kwargs):
    from django.db import connections, router

    if not _M2M_HISTORY_TABLES:
        _M2M_HISTORY_TABLES.extend(_project_m2m_history_tables())
    db = connections[router.db_for_write(CooperativeProject)]
    quote = db.ops.quote_name
    # Names from the models' own metadata, quoted; the project id is a parameter.
    sql = " UNION ALL ".join(
        f"SELECT {n}, {quote(pk)}, {quote(target)} FROM {quote(table)} WHERE {quote(source)} = %s"  # noqa: S608
        for n, (table, pk, source, target, *_rest) in enumerate(_M2M_HISTORY_TABLES))
    rows: dict[int, list] = {}
    with db.cursor() as cursor:
        cursor.execute(sql, [instance.pk] * len(_M2M_HISTORY_TABLES))
        for n, link_id, other_id in cursor.fetchall():
            rows.setdefault(n, []).append((link_id, other_id))
    for n, links in sorted(rows.items()):
        *_names, model, source, target = _M2M_HISTORY_TABLES[n]
        model.objects.bulk_create(model(id=link_id, history=history_instance, **{source: instance.pk, target: other})
                                  for link_id, other in links)


pre_create_historical_record.connect(
    _project_history_without_m2m, sender=CooperativeProject.history.model,
    dispatch_uid="projects.services.project_history_without_m2m",
)
post_create_historical_record.connect(
    _project_history_m2m_rows, sender=CooperativeProject.history.model,
    dispatch_uid="projects.services.project_history_m2m_rows",
)


@counts.moves_figures("project")
def project_soft_delete(*, project: CooperativeProject, by=None, expected_version: int | None = None):
    if by is not None and not by.has_perm("projects.delete_cooperativeproject"):
        raise PermissionDenied(_("You cannot delete projects."))
    project.updated_by = by
    with transaction.atomic():
        soft_delete(instance=project, by=by, expected_version=expected_version)
        if project.ready_on:
            project_readiness_changed.send(sender=CooperativeProject, project=project)
        webhook_emit(event="project.deleted", instance=project)
    return project


@counts.moves_figures("project")
def project_restore(*, project: CooperativeProject, by=None):
    if by is not None and not by.has_perm("projects.restore_cooperativeproject"):
        raise PermissionDenied(_("Only administrators can restore deleted projects."))
    project.updated_by = by
    with transaction.atomic():
        restore(instance=project, by=by)
        if project.ready_on:
            project_readiness_changed.send(sender=CooperativeProject, project=project)
        webhook_emit(event="project.restored", instance=project)
    return project


# --- Engagements ----------------------------------------------------------------
# An engagement concerns zero or more projects; its participants come from the
# POC directory plus free-text people outside it (other_participants); a B2B
# meeting lists the industry organisations it connected. Pages, the API and
# the admin write through these functions.

ENGAGEMENT_FIELDS = ("date", "kind", "summary", "location", "other_participants", "external_id")
ENGAGEMENT_M2M = ("projects", "participants", "industry_organizations", "partner_countries")
FOLLOW_UP_FIELDS = ("title", "owner", "due_on", "description", "project")


class FollowUpActionsInvalid(ValidationError):
    """One or more follow-up actions of a new engagement were refused (nothing
    was saved). ``rows`` maps each refused row (1-based) to its
    ``{field: [messages]}``, so a form can show them beside the row's fields;
    the messages name the row and the field for everyone else (the API)."""

    def __init__(self, rows: dict[int, dict[str, list[str]]]):
        self.rows = rows
        messages = []
        for row, errors in sorted(rows.items()):
            for field, texts in errors.items():
                label = _follow_up_label(field)
                for text in texts:
                    messages.append(
                        _("Follow-up action %(row)s, %(field)s: %(message)s") % {"row": row, "field": label,
                                                                                 "message": text}
                        if label else _("Follow-up action %(row)s: %(message)s") % {"row": row, "message": text})
        super().__init__({"follow_up_actions": messages})


def _follow_up_label(field: str) -> str:
    from .models import ActionItem

    if field in ("__all__", ""):
        return ""
    try:
        return str(ActionItem._meta.get_field(field).verbose_name)
    except Exception:  # noqa: BLE001 - a key the actions service added that is not a field: show it as is
        return field


def _resolve_ids(model, values, field: str) -> list:
    """Instances or ids (sync clients and tests may give either), deleted
    records included: the rules below say what is refused, by name."""
    values = list(values or [])
    ids = [v for v in values if not isinstance(v, model)]
    found = {o.pk: o for o in model.all_objects.filter(pk__in=ids)} if ids else {}
    resolved, unknown = [], []
    for value in values:
        if isinstance(value, model):
            resolved.append(value)
        elif value in found:
            resolved.append(found[value])
        else:
            unknown.append(str(value))
    if unknown:
        raise ValidationError({field: [_("Unknown id: %(ids)s.") % {"ids": ", ".join(unknown)}]})
    return list({o.pk: o for o in resolved}.values())  # each once, in the order given


def _engagement_m2m(data: dict) -> dict:
    from contacts.models import Organization, PointOfContact
    from rcf.models import PartnerCountry

    m2m = {}
    if "projects" in data:
        m2m["projects"] = _resolve_ids(CooperativeProject, data["projects"], "projects")
    if "participants" in data:
        m2m["participants"] = _resolve_ids(PointOfContact, data["participants"], "participants")
    if "industry_organizations" in data:
        m2m["industry_organizations"] = _resolve_ids(Organization, data["industry_organizations"],
                                                     "industry_organizations")
    if "partner_countries" in data:
        m2m["partner_countries"] = resolve_codes(PartnerCountry, "iso2", data["partner_countries"],
                                                 "partner_countries", _("country code"))
    return m2m


def _engagement_errors(*, kind: str, m2m: dict, linked: dict[str, set[int]]) -> dict:
    """The rules on what an engagement links to. ``linked`` holds the ids
    already linked (an edit): a project deleted or a POC gone inactive since
    stays on a past engagement (they did take part); only new links are
    checked."""
    errors: dict[str, list[str]] = {}

    def new(name):
        return [o for o in m2m.get(name, []) if o.pk not in linked.get(name, set())]

    deleted = [p.localized_title for p in new("projects") if p.deleted_at is not None]
    if deleted:
        errors["projects"] = [_("Deleted project: %(titles)s. Choose live projects only.")
                              % {"titles": ", ".join(deleted)}]
    inactive = [p.full_name for p in new("participants") if p.deleted_at is not None or not p.active]
    if inactive:
        errors["participants"] = [_("No longer an active point of contact: %(names)s.")
                                  % {"names": ", ".join(inactive)}]
    organizations = new("industry_organizations")
    not_industry = [o.name for o in organizations if o.side != "industry" or o.deleted_at is not None]
    if not_industry:
        errors["industry_organizations"] = [_("Not a live industry organisation: %(names)s.")
                                            % {"names": ", ".join(not_industry)}]
    elif m2m.get("industry_organizations") and kind != "b2b":
        errors["industry_organizations"] = [_(
            "Only a business-to-business meeting lists the industry organisations it connected: choose that "
            "kind, or remove the organisations.")]
    return errors


def engagement_link_errors(*, engagement=None, kind: str, data: dict) -> dict[str, list[str]]:
    """The link rules' messages by field, for a form that shows them before
    saving (the admin); the services check the same rules when they save."""
    m2m = _engagement_m2m({name: value for name, value in data.items() if name in ENGAGEMENT_M2M})
    linked = _linked_ids(engagement) if engagement is not None and engagement.pk else {}
    return _engagement_errors(kind=kind, m2m=m2m, linked=linked)


def _check_engagement(engagement, m2m: dict, linked: dict[str, set[int]]) -> None:
    """Field validation (dates in bounds, other participants, texts) and the
    link rules together, so the user sees every message at once."""
    errors: dict[str, list[str]] = {}
    try:
        engagement.full_clean(exclude=["created_by", "updated_by"])
    except ValidationError as error:
        errors.update(error.message_dict)
    if "industry_organizations" not in m2m and engagement.kind != "b2b" and engagement.pk \
            and engagement.industry_organizations.exists():
        # The kind changed away from B2B with organisations still listed.
        errors.setdefault("kind", []).append(_(
            "This engagement lists industry organisations: only a business-to-business meeting can; remove "
            "them or keep that kind."))
    for name, messages in _engagement_errors(kind=engagement.kind, m2m=m2m, linked=linked).items():
        errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _check_engagement_external_id(external_id: str, exclude_pk=None) -> None:
    from .models import Engagement

    if external_id and Engagement.all_objects.filter(external_id=external_id).exclude(pk=exclude_pk).exists():
        raise ValidationError({"external_id": [_("An engagement with this external id already exists.")]})


def _save_engagement(engagement, m2m: dict, by) -> None:
    engagement.updated_by = by
    engagement._history_user = by
    engagement.save()
    for name, values in m2m.items():
        getattr(engagement, name).set(values)


@transaction.atomic
def engagement_create(*, by=None, follow_up_actions: Iterable[dict] | None = None, **data):
    """Log an engagement. Refused with a ``ValidationError`` naming each field
    (a deleted project, a participant who is no longer an active POC, an
    industry organisation on anything but a B2B meeting, a bad other
    participant, a date out of bounds); nothing is saved.

    ``follow_up_actions``: ``[{title, owner, due_on, description, project}]``,
    the meeting's follow-ups, created in the same transaction through
    ``action_create`` (which gives each the engagement's project when it has
    exactly one). An invalid one refuses everything
    (``FollowUpActionsInvalid``, naming the row and the field)."""
    from rcf.services import split_fields

    from .models import Engagement

    fields, _m2m = split_fields(data, editable=ENGAGEMENT_FIELDS, m2m=ENGAGEMENT_M2M)
    m2m = _engagement_m2m(data)
    _check_engagement_external_id(fields.get("external_id") or "")
    engagement = Engagement(**fields, created_by=by)
    _check_engagement(engagement, m2m, linked={})
    _save_engagement(engagement, m2m, by)
    webhook_emit(event="engagement.created", instance=engagement)
    rows = [row for row in (follow_up_actions or []) if row]
    if rows:
        _create_follow_ups(engagement=engagement, rows=rows, by=by)
    return engagement


def _create_follow_ups(*, engagement, rows: list[dict], by) -> None:
    if by is not None and not by.has_perm("projects.add_actionitem"):
        raise PermissionDenied(_("Your role does not allow adding action items."))
    refused: dict[int, dict[str, list[str]]] = {}
    for number, row in enumerate(rows, start=1):
        unknown = set(row) - set(FOLLOW_UP_FIELDS)
        if unknown:
            refused[number] = {name: [_("This field cannot be set.")] for name in sorted(unknown)}
            continue
        values = {"title": "", "description": "", "owner": None, "due_on": None, **row}
        try:
            with transaction.atomic():  # a savepoint: a refused row leaves the transaction usable for the next
                action_create(by=by, engagement=engagement, **values)
        except ValidationError as error:
            refused[number] = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    if refused:
        raise FollowUpActionsInvalid(refused)


def _linked_ids(engagement) -> dict[str, set[int]]:
    return {name: set(getattr(engagement, name).through.objects.filter(
        **{getattr(engagement, name).source_field_name: engagement.pk}).values_list(
        f"{getattr(engagement, name).target_field_name}_id", flat=True)) for name in ENGAGEMENT_M2M}


@transaction.atomic
def engagement_update(*, engagement, by=None, expected_version=None, **data):
    """Change an engagement; ``rcf.services.VersionConflict`` when it moved
    past ``expected_version`` (default: the version the caller loaded).
    Links kept from before (a project deleted since, a POC gone inactive)
    stay; new ones follow the rules of ``engagement_create``."""
    if engagement.is_deleted:
        raise ValidationError(_("A deleted engagement cannot be edited; restore it first."))
    from rcf.services import split_fields

    fields, _m2m = split_fields(data, editable=ENGAGEMENT_FIELDS, m2m=ENGAGEMENT_M2M)
    m2m = _engagement_m2m(data)
    if "external_id" in fields:
        _check_engagement_external_id(fields["external_id"] or "", exclude_pk=engagement.pk)
    linked = _linked_ids(engagement)
    before = webhook_before("engagement.updated", engagement)  # an update that changes nothing sends nothing
    claim_version(instance=engagement, expected_version=expected_version)
    for name, value in fields.items():
        setattr(engagement, name, value)
    _check_engagement(engagement, m2m, linked=linked)
    _save_engagement(engagement, m2m, by)
    webhook_emit(event="engagement.updated", instance=engagement, before=before)
    return engagement


def engagement_delete(*, engagement, by=None, expected_version=None):
    """Soft delete: the engagement leaves the pages and the calendar, sync
    clients get a tombstone, an administrator can restore it. Its follow-up
    actions stay (they are still to be done)."""
    if by is not None and not by.has_perm("projects.delete_engagement"):
        raise PermissionDenied(_("Your role does not allow deleting engagements."))
    engagement.updated_by = by
    with transaction.atomic():
        soft_delete(instance=engagement, by=by, expected_version=expected_version)
        webhook_emit(event="engagement.deleted", instance=engagement)
    return engagement


def engagement_restore(*, engagement, by=None):
    engagement.updated_by = by
    with transaction.atomic():
        restore(instance=engagement, by=by)
        webhook_emit(event="engagement.restored", instance=engagement)
    return engagement


# --- Action items -----------------------------------------------------------------

ACTION_FIELDS = (
    "title", "description", "owner", "project", "engagement", "due_on", "status", "done_on", "external_id",
)


def _action_rules(action, *, changed: set[str], today: datetime.date | None = None) -> None:
    """The rules of an action beyond its fields' own validation, each refused
    naming the field. ``changed`` names the fields the caller set: a rule on a
    related record (an active owner, a live project) is checked when it is
    set, so an old action of a POC who has since left can still be closed."""
    from .models import ActionStatus

    errors: dict[str, list[str]] = {}
    owner = action.owner if action.owner_id else None
    if "owner" in changed and owner is not None and (not owner.active or owner.deleted_at is not None):
        errors["owner"] = [_("The owner must be an active point of contact.")]
    engagement = action.engagement if action.engagement_id else None
    if "engagement" in changed and engagement is not None and engagement.deleted_at is not None:
        errors["engagement"] = [_("The engagement is deleted.")]
    if engagement is not None and action.project_id is None and "project" not in errors:
        # A meeting's follow-up belongs to the meeting's project when there is only one.
        projects = list(engagement.projects.filter(deleted_at__isnull=True)[:2])
        if len(projects) == 1:
            action.project = projects[0]
            changed = {*changed, "project"}
    project = action.project if action.project_id else None
    if "project" in changed and project is not None and project.deleted_at is not None:
        errors["project"] = [_("The project is deleted.")]
    if (
        project is not None and action.due_on and project.start_date
        and action.due_on < project.start_date and {"due_on", "project"} & changed
    ):
        errors["due_on"] = [_("The due date cannot be before the project's start (%(date)s).")
                            % {"date": project.start_date.isoformat()}]
    if action.status == ActionStatus.DONE:
        if action.done_on is None:
            action.done_on = today or framework_today()
    else:
        action.done_on = None
    external_id = action.external_id
    if external_id and type(action).all_objects.filter(external_id=external_id).exclude(pk=action.pk).exists():
        errors["external_id"] = [_("An action with this external id already exists.")]
    if errors:
        raise ValidationError(errors)


def action_check(*, action, changed: set[str]) -> None:
    """The rules ``action_create``/``action_update`` apply, for a form that
    shows them beside its fields before saving (the admin's)."""
    _action_rules(action, changed=changed)


def _action_save(action, *, by, changed: set[str], today=None):
    from rcf.services import validate_and_save

    _action_rules(action, changed=changed, today=today)
    action.updated_by = by
    validate_and_save(instance=action, by=by)
    return action


def action_create(
    *, by=None, title, owner, due_on, project=None, engagement=None, description="", external_id="",
    status="open", done_on=None,
):
    """Create an action item. ``ValidationError`` naming the field for an
    inactive owner, a due date before the project's start, a deleted project
    or engagement, a duplicate ``external_id``; nothing is saved then. An
    engagement's follow-up gets the engagement's project when it has one."""
    from .models import ActionItem

    action = ActionItem(
        title=title, owner=owner, due_on=due_on, project=project, engagement=engagement,
        description=description, external_id=external_id or "", status=status, done_on=done_on,
        created_by=by,
    )
    with transaction.atomic():
        _action_save(action, by=by, changed=set(ACTION_FIELDS))
        webhook_emit(event="action.created", instance=action)
    return action


def action_update(*, action, by=None, expected_version=None, today=None, **data):
    """Change an action's fields with the optimistic lock (``VersionConflict``
    when it moved past ``expected_version``). Setting the status to done sets
    ``done_on`` (default today); any other status clears it."""
    from rcf.services import split_fields

    if action.deleted_at is not None:
        raise ValidationError(_("A deleted action cannot be edited; restore it first."))
    fields, _m2m = split_fields(data, editable=ACTION_FIELDS)
    if fields.get("status", action.status) == "done" and "done_on" not in fields and action.status != "done":
        fields["done_on"] = None  # becomes done now: done today unless the caller says otherwise
    if "external_id" in fields and fields["external_id"] is None:
        fields["external_id"] = ""
    with transaction.atomic():
        before = webhook_before("action.updated", action)  # an update that changes nothing sends nothing
        claim_version(instance=action, expected_version=expected_version)
        for name, value in fields.items():
            setattr(action, name, value)
        _action_save(action, by=by, changed=set(fields), today=today)
        webhook_emit(event="action.updated", instance=action, before=before)
    return action


def action_mark_done(*, action, by=None, expected_version=None, today):
    """One click "Done": status done, done on ``today``; version-checked."""
    if action.status == "done":
        raise ValidationError({"status": [_("This action is already done.")]})
    if action.status == "cancelled":
        raise ValidationError({"status": [_("A cancelled action cannot be marked done; reopen it first.")]})
    return action_update(action=action, by=by, expected_version=expected_version, today=today,
                         status="done", done_on=today)


def action_reopen(*, action, by=None, expected_version=None):
    if action.status == "open":
        raise ValidationError({"status": [_("This action is already open.")]})
    return action_update(action=action, by=by, expected_version=expected_version, status="open")


def action_cancel(*, action, by=None, expected_version=None):
    if action.status == "cancelled":
        raise ValidationError({"status": [_("This action is already cancelled.")]})
    return action_update(action=action, by=by, expected_version=expected_version, status="cancelled")


@counts.moves_figures("record")
def record_soft_delete(*, record, by=None, expected_version=None):
    """Soft delete of a project's record (action, progress update, milestone,
    resource line): sync clients get a tombstone; an administrator can restore it."""
    record.updated_by = by
    return soft_delete(instance=record, by=by, expected_version=expected_version)


@counts.moves_figures("record")
def record_restore(*, record, by=None):
    """Restore a project's record, never under a deleted project (it would
    show nowhere and count in no total)."""
    project = record.project if record.project_id else None
    if project is not None and project.deleted_at is not None:
        raise ValidationError(_("Restore its project first: the project is deleted."))
    record.updated_by = by
    return restore(instance=record, by=by)


def action_delete(*, action, by=None, expected_version=None):
    with transaction.atomic():
        record_soft_delete(record=action, by=by, expected_version=expected_version)
        webhook_emit(event="action.deleted", instance=action)
    return action


def action_restore(*, action, by=None):
    with transaction.atomic():
        record_restore(record=action, by=by)
        webhook_emit(event="action.restored", instance=action)
    return action


# --- Documents ---------------------------------------------------------------------
# Files attached to a project or an engagement, with their handling marking.
# The type is checked on the content (projects.document_files); the file goes
# to Django's default storage (var/media or S3) under a random name; the row
# is written in the same step, and a failed write removes the file again.

DOCUMENT_EDITABLE_FIELDS = ("title", "marking")


def _document_marking_errors(marking) -> dict:
    allowed = list(settings.RCF_MARKINGS)
    if marking not in allowed:
        return {"marking": [_("Choose one of the handling markings: %(markings)s.") % {
            "markings": ", ".join(allowed)}]}
    return {}


def _document_parent_errors(project, engagement) -> dict:
    if (project is None) == (engagement is None):
        return {"project": [_("Attach the document to one project or to one engagement (not both, not "
                              "neither).")]}
    if project is not None and project.deleted_at is not None:
        return {"project": [_("The project is deleted.")]}
    if engagement is not None and engagement.deleted_at is not None:
        return {"engagement": [_("The engagement is deleted.")]}
    return {}


def document_upload(*, by, file, title, marking, project=None, engagement=None, external_id=""):
    """Store ``file`` and record it on ``project`` or ``engagement``.

    Refused with a ``ValidationError`` naming the field, before anything is
    stored: no file, a file over ``RCF_MAX_UPLOAD_MB``, a type outside the
    allow-list or a name that disagrees with the content (``file``), a
    marking outside ``RCF_MARKINGS`` (``marking``), no live project or
    engagement, or both (``project``/``engagement``), a blank title, a
    duplicate ``external_id``. Nothing half-saved: if the database refuses
    the row after the file was written, the file is deleted again."""
    from .document_files import inspect_upload
    from .models import Document

    errors: dict[str, list[str]] = {}
    errors.update(_document_parent_errors(project, engagement))
    errors.update(_document_marking_errors(marking))
    external_id = external_id or ""
    if external_id and Document.all_objects.filter(external_id=external_id).exists():
        errors["external_id"] = [_("A document with this external id already exists.")]
    facts = None
    if file is None:
        errors["file"] = [_("Choose a file to upload.")]
    else:
        try:
            facts = inspect_upload(file)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    document = Document(
        project=project, engagement=engagement, title=(title or "").strip(), marking=marking or "",
        external_id=external_id, uploaded_by=by, updated_by=by,
        original_name=facts.name if facts else "", content_type=facts.content_type if facts else "",
        size=facts.size if facts else 0, sha256=facts.sha256 if facts else "",
    )
    try:
        unknown_file = [] if facts else ["original_name", "content_type", "size", "sha256"]
        document.full_clean(exclude=["file", *unknown_file, *errors])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    storage = Document._meta.get_field("file").storage
    stored_name = None
    try:
        with transaction.atomic():
            document.file.save(facts.name, file, save=False)  # upload_to gives a random name
            stored_name = document.file.name
            document._history_user = by
            document.save()
    except BaseException:
        if stored_name:
            storage.delete(stored_name)
        raise
    return document


def document_update(*, document, by=None, expected_version=None, **data):
    """Change a document's title or marking (the file itself never changes:
    upload a new document instead). ``VersionConflict`` when it moved past
    ``expected_version``."""
    from rcf.services import split_fields, tracked_update

    fields, _m2m = split_fields(data, editable=DOCUMENT_EDITABLE_FIELDS)
    if "marking" in fields:
        errors = _document_marking_errors(fields["marking"])
        if errors:
            raise ValidationError(errors)
    if "title" in fields:
        fields["title"] = (fields["title"] or "").strip()
    document.updated_by = by
    return tracked_update(instance=document, by=by, expected_version=expected_version, fields=fields)


def document_delete(*, document, by=None, expected_version=None):
    """Soft delete: the file stays in storage (an administrator can restore
    the document); it is no longer listed or served."""
    document.updated_by = by
    return soft_delete(instance=document, by=by, expected_version=expected_version)


def document_restore(*, document, by=None):
    errors = _document_parent_errors(
        document.project if document.project_id else None, document.engagement if document.engagement_id else None)
    if errors:
        raise ValidationError(_("Restore its project or engagement first: %(reason)s") % {
            "reason": " ".join(m for ms in errors.values() for m in ms)})
    document.updated_by = by
    return restore(instance=document, by=by)


# --- Action reminders (the daily job) ------------------------------------------------

def reminder_language(poc) -> str:
    """The language a POC reads e-mails in: their preference, else the site's
    (the same choice as scm_reports' notices, which this app cannot import)."""
    return getattr(poc, "preferred_language", "") or settings.LANGUAGE_CODE


def _action_reminder_message(*, poc, overdue, due_soon, milestones, today) -> tuple[str, str]:
    """Subject and body (marked) of one owner's reminder, in the active language."""
    from urllib.parse import urljoin

    from django.urls import reverse
    from django.utils.translation import ngettext

    from rcf.marking import marked_email_body

    from .selectors import due_soon_until

    def day(value):
        return date_format(value, "DATE_FORMAT")

    def line(item):
        text = _("%(title)s (due %(date)s)") % {"title": item.title, "date": day(item.due_on)}
        project = item.project if item.project_id else None
        return f"- {text} · {project.localized_title}" if project is not None else f"- {text}"

    days = (due_soon_until(today=today) - today).days
    subject = _("[RCF Tracker] Your actions: %(overdue)d overdue, %(soon)d due soon") % {
        "overdue": len(overdue) + len(milestones), "soon": len(due_soon)}
    lines = [_("Dear %(name)s,") % {"name": poc.full_name}, "",
             _("This is your daily reminder of %(date)s.") % {"date": day(today)}]
    sections = [
        (_("Overdue actions (%(count)d)") % {"count": len(overdue)}, overdue),
        (ngettext("Due in the next %(days)d day (%(count)d)", "Due in the next %(days)d days (%(count)d)", days)
         % {"days": days, "count": len(due_soon)}, due_soon),
        (_("Overdue milestones of projects you lead (%(count)d)") % {"count": len(milestones)}, milestones),
    ]
    for title, items in sections:
        if items:
            lines += ["", title, "-" * min(len(title), 60), *(line(item) for item in items)]
    link = urljoin(settings.SITE_URL.rstrip("/") + "/", reverse("actions:list").lstrip("/"))
    lines += ["", _("Mark them done or change their dates at:"), link, "",
              _("You receive one reminder a day while you have overdue or upcoming actions.")]
    return subject, marked_email_body("\n".join(lines))


def _action_reminder_claim(*, poc, today, email, action_ids, milestone_ids):
    """Take today's reminder of ``poc`` for this run, or None when it is sent
    or another run is sending it. The row is committed before the e-mail
    goes out: its unique (POC, day) is what keeps a second run, even one at
    the same moment, from sending it again. A row whose send failed
    (``error``), or that a crashed run left unsent for longer than a send can
    take, is taken again by exactly one run."""
    from .models import ActionReminder

    values = {"email": email, "action_ids": action_ids, "milestone_ids": milestone_ids}
    try:
        with transaction.atomic():
            return ActionReminder.objects.create(poc=poc, day=today, **values)
    except IntegrityError:
        pass
    mine = ActionReminder.objects.filter(poc=poc, day=today, sent_at__isnull=True)
    # A failed send: the conditional UPDATE lets one run retry it.
    if mine.exclude(error="").update(error="", **values):
        return ActionReminder.objects.get(poc=poc, day=today)
    stale = timezone.now() - datetime.timedelta(seconds=3 * settings.EMAIL_TIMEOUT + 30)
    if mine.filter(error="", created_at__lt=stale).delete()[0]:
        try:
            with transaction.atomic():
                return ActionReminder.objects.create(poc=poc, day=today, **values)
        except IntegrityError:
            return None
    return None


def action_reminders_send(*, today, dry_run: bool = False) -> list[dict]:
    """E-mail each owner ONE reminder a day listing all their open actions
    overdue or due within ``RCF_ACTION_DUE_SOON_DAYS``, plus (lead POCs) the
    overdue milestones of the projects they lead; in their language, with
    the handling marking. Never twice a day (``ActionReminder``). A mail
    server failure is recorded and logged, and the next run retries it.

    Returns what was sent (with ``dry_run``: what would be), one dict per
    e-mail: ``poc_id``, ``email``, ``action_ids``, ``milestone_ids``."""
    import logging
    import smtplib
    from urllib.parse import urlsplit

    from django.core.mail import EmailMessage
    from django.utils import translation

    from .models import ActionReminder
    from .selectors import action_reminder_pocs, actions_due_for, overdue_milestones_for

    logger = logging.getLogger(__name__)
    host = urlsplit(settings.SITE_URL).hostname or "rcf-tracker.invalid"
    sent_today = set(ActionReminder.objects.filter(day=today, sent_at__isnull=False).values_list("poc_id", flat=True))
    report = []
    for poc in action_reminder_pocs(today=today):
        if poc.pk in sent_today:
            continue
        overdue, due_soon = (list(q) for q in actions_due_for(poc=poc, today=today))
        milestones = list(overdue_milestones_for(poc=poc, today=today))
        if not (overdue or due_soon or milestones):
            continue
        row = {"poc_id": poc.pk, "email": poc.email, "action_ids": [a.pk for a in (*overdue, *due_soon)],
               "milestone_ids": [m.pk for m in milestones]}
        if dry_run:
            report.append(row)
            continue
        reminder = _action_reminder_claim(poc=poc, today=today, email=poc.email, action_ids=row["action_ids"],
                                          milestone_ids=row["milestone_ids"])
        if reminder is None:
            continue
        this = ActionReminder.objects.filter(pk=reminder.pk)
        with translation.override(reminder_language(poc)):
            subject, body = _action_reminder_message(poc=poc, overdue=overdue, due_soon=due_soon,
                                                     milestones=milestones, today=today)
        message = EmailMessage(subject, body, None, [poc.email], headers={
            "Message-ID": f"<action-reminder-{poc.pk}-{today.isoformat()}@{host}>"})
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            logger.warning("Action reminder to %s for %s not sent (%s); the next run retries.", poc.email,
                           today.isoformat(), exc)
            this.update(error=str(exc) or type(exc).__name__)
            continue
        this.update(sent_at=timezone.now())
        report.append(row)
    return report


def actions_overdue_announce(*, today) -> int:
    """Send ``action.overdue`` (webhooks) for each open action past its due
    date, once per action and due date (a new due date that passes is
    announced again). Run by the daily job; returns the deliveries queued."""
    from rcf.webhooks import webhook_subscribed

    from .selectors import _live_actions

    if not webhook_subscribed("action.overdue"):
        return 0
    queued = 0
    for action in _live_actions().filter(status="open", due_on__lt=today).order_by("due_on", "id"):
        with transaction.atomic():
            queued += webhook_emit(event="action.overdue", instance=action,
                                   dedupe_key=f"{action.pk}:{action.due_on.isoformat()}")
    return queued


# --- Progress and milestones ---
# A progress update is a dated report on a project being implemented (its
# health and what happened); milestones are the dated steps of that work.
# Pages, the API and the admin write through these functions.

PROGRESS_FIELDS = ("project", "date", "health", "narrative", "next_steps", "external_id")
MILESTONE_FIELDS = ("project", "title", "due_on", "done_on", "external_id")


def may_report_progress(project: CooperativeProject) -> bool:
    """Whether ``project`` takes a new progress update: while it is in
    implementation, and after it — completed (the closing report) or on hold
    when it was held from implementation (why the work stopped). Before
    implementation there is nothing implemented to report on (and "latest
    health" would mean nothing on the dashboard); a withdrawn project reports
    nothing more."""
    if project.deleted_at is not None:
        return False
    if project.status in (S.IN_IMPLEMENTATION, S.COMPLETED):  # completed is only reached from implementation
        return True
    return project.status == S.ON_HOLD and _held_from(project) == S.IN_IMPLEMENTATION


def may_plan_milestones(project: CooperativeProject) -> bool:
    """Milestones are planned ahead of implementation too (a presented project
    plans its first steps); a withdrawn or deleted project plans nothing."""
    return project.deleted_at is None and project.status != S.WITHDRAWN


def _field_errors(instance) -> dict[str, list[str]]:
    """The fields' own validation (required, choices, date bounds, control
    characters), per field. The CHECK constraints are left to the database:
    the rules below give their messages with the field's name."""
    try:
        instance.full_clean(exclude=["created_by", "updated_by"], validate_constraints=False)
    except ValidationError as error:
        return dict(error.message_dict)
    return {}


def _merge(errors: dict, name: str, message: str) -> None:
    if name not in errors:  # one message per field: the first reason is the one to fix
        errors[name] = [message]


def _external_id_taken(instance, message: str, errors: dict) -> None:
    external_id = instance.external_id or ""
    if external_id and type(instance).all_objects.filter(external_id=external_id).exclude(pk=instance.pk).exists():
        _merge(errors, "external_id", message)


def _same_project(instance, fields: dict, message: str) -> None:
    project = fields.get("project")
    if project is not None and getattr(project, "pk", project) != instance.project_id:
        raise ValidationError({"project": [message]})
    fields.pop("project", None)


def _save_tracked(instance, *, by) -> None:
    instance.updated_by = by
    instance._history_user = by
    instance.save()


def progress_update_check(update, *, changed: set[str], today: datetime.date) -> None:
    """Every rule of a progress update, each message under its field
    (``ValidationError``); ``changed`` names the fields being set. Also the
    admin form's check, so the admin shows the messages beside the fields."""
    from .models import Health

    errors = _field_errors(update)
    if update.health and update.health not in Health.values:
        errors["health"] = [_("Choose the health: %(choices)s.") % {
            "choices": ", ".join(str(label) for label in Health.labels)}]
    project = update.project if update.project_id else None
    if project is not None and "project" in changed:
        if project.deleted_at is not None:
            _merge(errors, "project", _("The project is deleted."))
        elif not may_report_progress(project):
            _merge(errors, "project", _(
                "Progress is reported on a project in implementation (or completed, or on hold from "
                "implementation); this one is “%(status)s”.") % {"status": S(project.status).label})
    if "date" not in errors and isinstance(update.date, datetime.date) and "date" in changed and update.date > today:
        _merge(errors, "date", _("The date cannot be after today (%(today)s): an update reports what has "
                                 "happened.") % {"today": today.isoformat()})
    _external_id_taken(update, _("A progress update with this external id already exists."), errors)
    if errors:
        raise ValidationError(errors)


@counts.moves_figures("project")
@transaction.atomic
def progress_update_create(
    *, by=None, project, date, health, narrative, next_steps="", external_id="", today=None,
):
    """Report on ``project``: its health on ``date`` and what happened.
    ``ValidationError`` naming the field for a project that is deleted or not
    (yet) in implementation (``may_report_progress``), a date after ``today``
    (default: the framework's today) or out of bounds, an unknown health, an
    empty narrative, a duplicate ``external_id``; nothing is saved then."""
    from .models import ProgressUpdate

    update = ProgressUpdate(
        project=project, date=date, health=health, narrative=narrative, next_steps=next_steps or "",
        external_id=external_id or "", created_by=by,
    )
    progress_update_check(update, changed=set(PROGRESS_FIELDS), today=today or framework_today())
    _save_tracked(update, by=by)
    current_health_refresh(project_id=update.project_id)
    return update


@counts.moves_figures("update")
def progress_update_update(*, update, by=None, expected_version=None, today=None, **data):
    """Change an update's fields with the optimistic lock (``VersionConflict``
    when it moved past ``expected_version``); the project cannot change."""
    from rcf.services import split_fields

    if update.deleted_at is not None:
        raise ValidationError(_("A deleted progress update cannot be edited; restore it first."))
    fields, _m2m = split_fields(data, editable=PROGRESS_FIELDS)
    _same_project(update, fields, _("A progress update stays with its project: delete it and post one on the "
                                    "other project."))
    for name in ("next_steps", "external_id"):
        if name in fields and fields[name] is None:
            fields[name] = ""
    with transaction.atomic():
        claim_version(instance=update, expected_version=expected_version)
        for name, value in fields.items():
            setattr(update, name, value)
        progress_update_check(update, changed=set(fields), today=today or framework_today())
        _save_tracked(update, by=by)
        current_health_refresh(project_id=update.project_id)
    return update


def progress_update_delete(*, update, by=None, expected_version=None):
    """Soft delete: the update leaves the page and the dashboard (the one
    before it is the latest again); sync clients get a tombstone."""
    with transaction.atomic():
        record_soft_delete(record=update, by=by, expected_version=expected_version)
        current_health_refresh(project_id=update.project_id)
    return update


def progress_update_restore(*, update, by=None):
    with transaction.atomic():
        record_restore(record=update, by=by)
        current_health_refresh(project_id=update.project_id)
    return update


def current_health_refresh(*, project_id: int) -> tuple[tuple, tuple]:
    """Set the project's ``current_health`` and ``current_health_on`` to its
    latest live progress update's (by date, then id; NULL without one). Every
    progress update service calls it in its own transaction, so the columns are
    never behind. The project row is locked first: a concurrent update's
    refresh waits, then reads what this one wrote. Returns the (health, date)
    pairs before and after."""
    from .models import ProgressUpdate

    before = (CooperativeProject.all_objects.select_for_update().filter(pk=project_id)
              .values_list("current_health", "current_health_on").first())
    after = (ProgressUpdate.objects.filter(project_id=project_id).order_by("-date", "-id")
             .values_list("health", "date").first()) or (None, None)
    before, after = tuple(before or (None, None)), tuple(after)
    if before != after:
        CooperativeProject.all_objects.filter(pk=project_id).update(current_health=after[0],
                                                                    current_health_on=after[1])
    return before, after


def current_health_rebuild() -> int:
    """Recompute every project's ``current_health`` and ``current_health_on``
    from its progress updates (set-based; for data written around the
    services, e.g. the benchmark's generator). Returns the rows changed."""
    from django.db.models import Exists, OuterRef, Q, Subquery

    from .models import ProgressUpdate

    latest = ProgressUpdate.objects.filter(project=OuterRef("pk")).order_by("-date", "-id")
    health, day = Subquery(latest.values("health")[:1]), Subquery(latest.values("date")[:1])
    with transaction.atomic():
        cleared = CooperativeProject.all_objects.filter(~Exists(latest)).filter(
            Q(current_health__isnull=False) | Q(current_health_on__isnull=False)).update(
            current_health=None, current_health_on=None)
        return cleared + CooperativeProject.all_objects.filter(Exists(latest)).update(current_health=health,
                                                                                       current_health_on=day)


def milestone_check(milestone, *, changed: set[str], today: datetime.date) -> None:
    """Every rule of a milestone, each message under its field (see ``progress_update_check``)."""
    errors = _field_errors(milestone)
    project = milestone.project if milestone.project_id else None
    if project is not None and "project" in changed:
        if project.deleted_at is not None:
            _merge(errors, "project", _("The project is deleted."))
        elif not may_plan_milestones(project):
            _merge(errors, "project", _("A withdrawn project has no milestones to plan."))
    start = project.start_date if project is not None else None
    due_on, done_on = milestone.due_on, milestone.done_on
    if (start and isinstance(due_on, datetime.date) and due_on < start and {"due_on", "project"} & changed):
        _merge(errors, "due_on", _("The due date cannot be before the project's start (%(date)s).")
               % {"date": start.isoformat()})
    if isinstance(done_on, datetime.date) and {"done_on", "project"} & changed:
        if done_on > today:
            _merge(errors, "done_on", _("The done date cannot be after today (%(today)s).")
                   % {"today": today.isoformat()})
        elif start and done_on < start:
            # Done early is fine (before its due date); done before the work began is a typo.
            _merge(errors, "done_on", _("The done date cannot be before the project's start (%(date)s).")
                   % {"date": start.isoformat()})
    _external_id_taken(milestone, _("A milestone with this external id already exists."), errors)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def milestone_create(*, by=None, project, title, due_on, done_on=None, external_id="", today=None):
    """Add a milestone to ``project``. ``ValidationError`` naming the field for
    a deleted or withdrawn project, a due date before the project's start, a
    done date after ``today`` or before the project's start, a duplicate
    ``external_id``; nothing is saved then."""
    from .models import Milestone

    milestone = Milestone(project=project, title=title, due_on=due_on, done_on=done_on,
                          external_id=external_id or "", created_by=by)
    milestone_check(milestone, changed=set(MILESTONE_FIELDS), today=today or framework_today())
    _save_tracked(milestone, by=by)
    return milestone


def milestone_update(*, milestone, by=None, expected_version=None, today=None, **data):
    """Change a milestone's fields with the optimistic lock; the project
    cannot change. ``done_on=None`` reopens it."""
    from rcf.services import split_fields

    if milestone.deleted_at is not None:
        raise ValidationError(_("A deleted milestone cannot be edited; restore it first."))
    fields, _m2m = split_fields(data, editable=MILESTONE_FIELDS)
    _same_project(milestone, fields, _("A milestone stays with its project: delete it and add one to the other "
                                       "project."))
    if "external_id" in fields and fields["external_id"] is None:
        fields["external_id"] = ""
    with transaction.atomic():
        claim_version(instance=milestone, expected_version=expected_version)
        for name, value in fields.items():
            setattr(milestone, name, value)
        milestone_check(milestone, changed=set(fields), today=today or framework_today())
        _save_tracked(milestone, by=by)
    return milestone


def milestone_mark_done(*, milestone, by, expected_version, today):
    """One click "Done": done on ``today``, version-checked."""
    if milestone.done_on is not None:
        raise ValidationError({"done_on": [_("This milestone is already done (on %(date)s).")
                                           % {"date": milestone.done_on.isoformat()}]})
    return milestone_update(milestone=milestone, by=by, expected_version=expected_version, today=today,
                            done_on=today)


def milestone_delete(*, milestone, by=None, expected_version=None):
    """Soft delete: the milestone leaves the timeline; sync clients get a tombstone."""
    return record_soft_delete(record=milestone, by=by, expected_version=expected_version)


def milestone_restore(*, milestone, by=None):
    return record_restore(record=milestone, by=by)


# --- Resource lines ---
# The resources a project draws on, line by line: whose (side), from where
# (source), for which fiscal year, how firm (planned, committed, spent), how
# much in which currency. Totals never add one currency to another
# (projects.selectors.resource_totals). Pages, the API and the admin write
# through these functions.

RESOURCE_LINE_FIELDS = ("project", "side", "source", "fiscal_year", "kind", "amount", "currency", "note",
                        "external_id")


def _choice_list(choices) -> str:
    return ", ".join(str(value) for value in choices.values)


def resource_line_check(line) -> None:
    """Every rule of a resource line, each message under its field
    (``ValidationError``): a side (required on every line a user or a client
    writes: only the lines migrated from the former single estimate may lack
    one), a known kind and currency, an amount that is not negative (and whole
    won for KRW), a fiscal year within the framework's years, a live project,
    an unused ``external_id``. Also the admin form's check."""
    import decimal

    from rcf.validators import YEAR_MAX, YEAR_MIN

    from .models import Currency, ResourceKind, ResourceSide

    errors = _field_errors(line)
    if line.side not in ResourceSide.values:
        errors["side"] = [
            _("Choose whose resources these are: %(choices)s.") % {"choices": _choice_list(ResourceSide)}
            if not line.side else
            _("Unknown side “%(value)s”: choose %(choices)s.") % {"value": line.side,
                                                                    "choices": _choice_list(ResourceSide)}]
    if line.kind not in ResourceKind.values:
        errors["kind"] = [
            _("Choose the kind: %(choices)s.") % {"choices": _choice_list(ResourceKind)} if not line.kind else
            _("Unknown kind “%(value)s”: choose %(choices)s.") % {"value": line.kind,
                                                                    "choices": _choice_list(ResourceKind)}]
    if line.currency not in Currency.values:
        errors["currency"] = [
            _("Choose the currency: %(choices)s.") % {"choices": _choice_list(Currency)} if not line.currency else
            _("Unknown currency “%(value)s”: choose %(choices)s.") % {"value": line.currency,
                                                                        "choices": _choice_list(Currency)}]
    amount = line.amount
    if isinstance(amount, str):  # full_clean() leaves an input it refused as it came
        try:
            amount = decimal.Decimal(amount.strip())
        except decimal.InvalidOperation:
            amount = None
    if isinstance(amount, decimal.Decimal | int | float):
        amount = decimal.Decimal(str(amount))
        if not amount.is_finite():
            errors["amount"] = [_("Give the amount as a number.")]
        elif amount < 0:  # in place of the validator's "greater than or equal to 0"
            errors["amount"] = [_("An amount cannot be negative.")]
        elif line.currency == Currency.KRW and amount != amount.to_integral_value():
            _merge(errors, "amount", _("An amount in KRW is in whole won (no decimals)."))
    fiscal_year = line.fiscal_year
    if isinstance(fiscal_year, int) and not YEAR_MIN <= fiscal_year <= YEAR_MAX:
        errors["fiscal_year"] = [_("The fiscal year must be between %(min)d and %(max)d.")
                                 % {"min": YEAR_MIN, "max": YEAR_MAX}]
    project = line.project if line.project_id else None
    if project is not None and project.deleted_at is not None:
        _merge(errors, "project", _("The project is deleted."))
    _external_id_taken(line, _("A resource line with this external id already exists."), errors)
    if errors:
        raise ValidationError(errors)


@counts.moves_figures("project")
@transaction.atomic
def resource_line_create(*, by=None, project, side, kind, amount, currency, fiscal_year=None, source="", note="",
                         external_id=""):
    """Add a resource line to ``project``. ``ValidationError`` naming the
    field (``resource_line_check``); nothing is saved then."""
    from .models import ResourceLine

    line = ResourceLine(
        project=project, side=side or "", kind=kind or "", amount=amount, currency=currency or "",
        fiscal_year=fiscal_year, source=source or "", note=note or "", external_id=external_id or "",
        created_by=by,
    )
    resource_line_check(line)
    _save_tracked(line, by=by)
    return line


@counts.moves_figures("line")
def resource_line_update(*, line, by=None, expected_version=None, **data):
    """Change a line's fields with the optimistic lock (``VersionConflict``
    when it moved past ``expected_version``); it stays with its project.
    Every rule of ``resource_line_create`` applies to the line as saved (a
    line migrated without a side gets one on its first edit)."""
    from rcf.services import split_fields

    if line.deleted_at is not None:
        raise ValidationError(_("A deleted resource line cannot be edited; restore it first."))
    fields, _m2m = split_fields(data, editable=RESOURCE_LINE_FIELDS)
    _same_project(line, fields, _("resource line"))
    for name in ("source", "note", "external_id", "side", "kind", "currency"):
        if name in fields and fields[name] is None:
            fields[name] = ""
    with transaction.atomic():
        claim_version(instance=line, expected_version=expected_version)
        for name, value in fields.items():
            setattr(line, name, value)
        resource_line_check(line)
        _save_tracked(line, by=by)
    return line


def resource_line_delete(*, line, by=None, expected_version=None):
    """Soft delete: the line leaves the page and the totals; sync clients get
    a tombstone; an administrator can restore it."""
    return record_soft_delete(record=line, by=by, expected_version=expected_version)


def resource_line_restore(*, line, by=None):
    return record_restore(record=line, by=by)
