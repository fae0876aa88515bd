"""The project page's SCM presentations. Project templates load this library
(``{% load scm_presentations %}``) because the projects app cannot import
scm_reports: the dependency points from here to there, as the chain wants."""

from django import template
from django.urls import reverse

from ..roles import can_record_presentation
from ..selectors import presentations_of

register = template.Library()


@register.inclusion_tag("projects/_presentations.html", takes_context=True)
def project_presentations(context, project):
    """Where ``project`` was presented and what each SCM decided, with the
    link to record another for those who may."""
    user = context.get("user")
    may_record = (user is not None and not project.is_deleted and project.status in PRESENTABLE
                  and can_record_presentation(user))
    return {"project": project, "presentations": presentations_of(project=project), "may_record": may_record}


PRESENTABLE = ("ready", "presented", "in_implementation")


@register.simple_tag
def presentation_form_url(project) -> str:
    """Where the lifecycle step "Move to Presented" leads: the form choosing the SCM and the outcome."""
    return reverse("scm_reports:presentation_create", args=[project.pk])
