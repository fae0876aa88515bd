"""The open action items of a project page (and an engagement's follow-ups):
``{% load project_actions %}`` then ``{% project_actions project %}`` or
``{% engagement_actions engagement %}``. The detail views need no change."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from rcf.selectors import framework_today

from ..selectors import action_list

register = template.Library()


def _section(context, *, parent, kind: str, actions) -> dict:
    user = context.get("user")
    request = context.get("request")
    live = parent is not None and parent.deleted_at is None
    here = request.get_full_path() if request is not None else ""
    back = here.split("#")[0] + "#actions"

    def may(perm: str) -> bool:
        return bool(user is not None and user.has_perm(perm))

    return {
        "parent": parent,
        "kind": kind,
        "actions": actions,
        "can_add": live and may("projects.add_actionitem"),
        "can_change": live and may("projects.change_actionitem"),
        "add_url": f"{reverse('actions:create')}?{urlencode({kind: parent.pk, 'next': back})}" if parent else "",
        "list_url": f"{reverse('actions:list')}?{urlencode({'owner': '', 'status': 'open', kind: parent.pk})}"
        if kind == "project" and parent else "",
        "next": back,
        "layout": "project",
        "csrf_token": context.get("csrf_token"),
        "perms": context.get("perms"),
        "user": user,
    }


@register.inclusion_tag("projects/actions/_section.html", takes_context=True)
def project_actions(context, project):
    """The project's open actions (owner, due date, overdue badge, "Done"), and "Add an action"."""
    actions = list(action_list(today=framework_today()).filter(project=project, status="open"))
    return _section(context, parent=project, kind="project", actions=actions)


@register.inclusion_tag("projects/actions/_section.html", takes_context=True)
def engagement_actions(context, engagement):
    """An engagement's open follow-up actions, and "Add a follow-up action"."""
    actions = list(action_list(today=framework_today()).filter(engagement=engagement, status="open"))
    return _section(context, parent=engagement, kind="engagement", actions=actions)
