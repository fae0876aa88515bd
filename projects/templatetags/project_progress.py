"""The implementation card of the project page (issue 11): latest health,
update history, milestone timeline, and the forms to post an update, add a
milestone and mark one done for those who may. ``{% load project_progress %}``
then ``{% project_implementation project %}``.

A refused form comes back from projects.progress_views in the page's context
(``progress_form`` / ``milestone_form``) with its messages and the input."""

from django import template

from rcf.selectors import framework_today

from ..progress_forms import MilestoneForm, ProgressUpdateForm
from ..selectors import latest_health, milestone_timeline, progress_history
from ..services import may_plan_milestones, may_report_progress

register = template.Library()

# How many updates show before the rest fold away under "Earlier updates".
UPDATES_SHOWN = 5


@register.inclusion_tag("projects/_progress.html", takes_context=True)
def project_implementation(context, project):
    user = context.get("user")
    today = framework_today()
    updates = list(progress_history(project=project))
    live = not project.is_deleted

    def may(perm):
        return bool(live and user is not None and user.has_perm(perm))

    reporting_open = live and may_report_progress(project)
    progress_form = context.get("progress_form")
    milestone_form = context.get("milestone_form")
    return {
        "project": project,
        "today": today,
        "health": latest_health(project, today=today, updates=updates),
        "recent_updates": updates[:UPDATES_SHOWN],
        "earlier_updates": updates[UPDATES_SHOWN:],
        "milestones": milestone_timeline(project=project, today=today),
        "reporting_open": reporting_open,
        "can_report": reporting_open and may("projects.add_progressupdate"),
        "can_plan": may("projects.add_milestone") and may_plan_milestones(project),
        "can_mark_done": may("projects.change_milestone"),
        "progress_form": progress_form or ProgressUpdateForm(initial={"date": today}),
        "progress_refused": progress_form is not None,
        "milestone_form": milestone_form or MilestoneForm(),
        "milestone_refused": milestone_form is not None,
        "csrf_token": context.get("csrf_token"),
    }


# Health and milestone states shown with the site's existing badge colours;
# the badge always carries its label too (never colour alone).
_BADGE_CLASSES = {
    "on_track": "state-covered", "at_risk": "state-at_risk", "off_track": "state-missed",
    "done": "state-covered", "overdue": "state-missed", "upcoming": "state-pending",
}


@register.filter
def state_badge(value) -> str:
    """The badge class of a health or milestone state (an unknown one: the plain badge)."""
    return _BADGE_CLASSES.get(str(value or ""), "state-unscheduled")


@register.filter
def health_label(value) -> str:
    from ..models import Health

    return Health(value).label if value in Health.values else ""
