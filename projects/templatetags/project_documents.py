"""The documents section of the project page and the engagement page
(issue 11): ``{% load project_documents %}`` then
``{% project_documents project %}`` or ``{% engagement_documents engagement %}``."""

from django import template
from django.urls import reverse

from ..document_views import DocumentForm
from ..selectors import documents_of

register = template.Library()


def _section(context, *, target: str, parent, documents) -> dict:
    user = context.get("user")
    live = parent is not None and parent.deleted_at is None

    def may(perm: str) -> bool:
        return bool(user is not None and user.has_perm(perm))

    return {
        "target": target,
        "parent": parent,
        "documents": documents,
        "can_upload": live and may("projects.add_document"),
        "can_edit": may("projects.change_document"),
        "upload_form": DocumentForm() if live and may("projects.add_document") else None,
        "upload_action": reverse("projects:document_upload", args=[target, parent.pk]) if parent else "",
        "csrf_token": context.get("csrf_token"),
        "user": user,
    }


@register.inclusion_tag("projects/_document_list.html", takes_context=True)
def project_documents(context, project):
    """The project's documents, their markings, and the upload form for those who may upload."""
    return _section(context, target="project", parent=project, documents=documents_of(project=project))


@register.inclusion_tag("projects/_document_list.html", takes_context=True)
def engagement_documents(context, engagement):
    """The engagement's documents, as on the project page."""
    return _section(context, target="engagement", parent=engagement, documents=documents_of(engagement=engagement))
