"""The staff roles, as Django groups with model permissions.

Views, the API and the services check permissions (``user.has_perm``), never
group names, so an administrator can adjust a role in the admin.
"""

VIEWER = "viewer"
EDITOR = "editor"
LEAD_POC = "lead POC"
ADMINISTRATOR = "administrator"

_ALL_MODELS = {
    "rcf": ["priorityarea", "partnercountry"],
    "contacts": ["organization", "pointofcontact"],
    "projects": ["cooperativeproject", "engagement", "projecttransition", "concurrence",
                 # Implementation tracking (issue 11).
                 "actionitem", "progressupdate", "milestone", "resourceline", "document"],
    "scm_reports": ["scmcycle", "scmpresentation"],
}
_EDITED_BY_EDITORS = {
    "contacts": ["organization", "pointofcontact"],
    "projects": ["cooperativeproject", "engagement", "actionitem", "progressupdate", "milestone", "resourceline",
                 "document"],
}


def _codenames_for_role(role: str) -> set[tuple[str, str]]:
    perms = {(app, f"view_{model}") for app, models in _ALL_MODELS.items() for model in models}
    if role == VIEWER:
        return perms
    for app, models in _EDITED_BY_EDITORS.items():
        for model in models:
            perms |= {(app, f"{action}_{model}") for action in ("add", "change", "delete")}
    if role == EDITOR:
        return perms
    # Kept for the role's shape; the lead steps themselves need a linked
    # active lead POC (contacts.selectors.acting_lead_poc), whatever the group.
    perms.add(("projects", "prioritize_cooperativeproject"))
    # What an SCM decided (can_record_presentation also wants a linked lead POC).
    perms |= {("scm_reports", f"{action}_scmpresentation") for action in ("add", "change")}
    if role == LEAD_POC:
        return perms
    perms |= {("projects", "restore_cooperativeproject")}
    perms.add(("contacts", "designate_lead_pointofcontact"))  # who is a lead, and whose login is whose
    perms |= {("scm_reports", f"{action}_scmcycle") for action in ("add", "change", "delete")}
    perms.add(("scm_reports", "delete_scmpresentation"))  # correct a mistaken record (soft delete)
    perms |= {("rcf", f"change_{model}") for model in _ALL_MODELS["rcf"]}
    # Their own API tokens only (rcf.admin.ApiTokenAdmin); anyone's may be listed and revoked.
    perms |= {("rcf", f"{action}_apitoken") for action in ("add", "view", "delete")}
    perms.add(("rcf", "view_outboxmessage"))  # see queued work and its errors (read-only admin)
    # Webhook endpoints (admin and /api/v1/webhooks/), their delivery log and "redeliver" (issue 13).
    perms |= {("rcf", f"{action}_webhookendpoint") for action in ("add", "change", "delete", "view")}
    perms |= {("rcf", f"{action}_webhookdelivery") for action in ("change", "view")}
    perms.add(("scm_reports", "view_weeklydigest"))  # which weekly digests went out, and errors (read-only)
    perms.add(("projects", "view_actionreminder"))  # which action reminders went out, and errors (read-only)
    # Unlock a locked-out sign-in: delete its failed attempts (django-axes).
    perms |= {("axes", f"{action}_accessattempt") for action in ("view", "delete")}
    perms |= {("auth", f"{action}_user") for action in ("add", "change", "view")}
    perms |= {("auth", "view_group")}
    return perms


ROLES = (VIEWER, EDITOR, LEAD_POC, ADMINISTRATOR)


def can_record_presentation(user) -> bool:
    """Lead POCs (a login linked to an active lead POC of a side, whatever
    its groups) and administrators (who keep the SCM cycles) record what an
    SCM decided. ``None`` is the system itself (commands, data loads)."""
    if user is None:
        return True
    if not user.has_perm("scm_reports.add_scmpresentation"):
        return False
    if user.has_perm("scm_reports.change_scmcycle"):
        return True
    from contacts.selectors import acting_lead_poc

    return acting_lead_poc(user) is not None


# --- Who may manage whom (the user admin) -------------------------------------------
#
# The Django admin lets anyone holding ``auth.change_user`` edit every field of
# every user: tick "superuser", set a superuser's password, add any group or
# permission. Administrators hold that permission to look after staff accounts,
# so these rules narrow it: an administrator manages users only within the four
# roles and their active flag, and never touches an account that carries more
# power than the roles below administrator (a superuser, any staff account -
# another administrator or themselves - or a user with extra groups or
# permissions). Superusers keep Django's full user admin.

MANAGED_ROLES = (VIEWER, EDITOR, LEAD_POC)
"""Roles a user may hold and still be managed by an administrator."""


def user_role(user) -> str | None:
    """The user's role (the highest of the four if, against the rules, they hold several)."""
    names = {group.name for group in user.groups.all()} if user.pk else set()
    return next((role for role in reversed(ROLES) if role in names), None)


def can_manage_user(*, actor, target) -> bool:
    """May ``actor`` change, deactivate or set the password of ``target``?"""
    if actor.is_superuser:
        return True
    if not (actor.is_active and actor.is_staff and actor.has_perm("auth.change_user")):
        return False
    if target.is_superuser or target.is_staff or target.pk == actor.pk:
        return False
    if target.user_permissions.exists():
        return False
    return not target.groups.exclude(name__in=MANAGED_ROLES).exists()


def user_role_set(*, user, role: str | None) -> None:
    """Give ``user`` exactly ``role`` (or none): its group, and staff status
    (the admin) exactly when the role is administrator."""
    from django.contrib.auth.models import Group

    if role is not None and role not in ROLES:
        raise ValueError(f"Unknown role {role!r}")
    wanted_staff = role == ADMINISTRATOR
    if user.is_staff != wanted_staff:
        user.is_staff = wanted_staff
        user.save(update_fields=["is_staff"])
    user.groups.set(Group.objects.filter(name=role) if role else [])
