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
    "projects": ["cooperativeproject", "engagement", "projecttransition"],
    "scm_reports": ["scmcycle"],
}
_EDITED_BY_EDITORS = {
    "contacts": ["organization", "pointofcontact"],
    "projects": ["cooperativeproject", "engagement"],
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
    perms.add(("projects", "prioritize_cooperativeproject"))
    if role == LEAD_POC:
        return perms
    perms |= {("projects", "restore_cooperativeproject")}
    perms |= {("scm_reports", f"{action}_scmcycle") for action in ("add", "change", "delete")}
    perms |= {("rcf", f"change_{model}") for model in _ALL_MODELS["rcf"]}
    perms |= {("rcf", f"{action}_apitoken") for action in ("add", "view", "delete")}  # issue and revoke API tokens
    perms |= {("auth", f"{action}_user") for action in ("add", "change", "view")}
    perms |= {("auth", "view_group")}
    return perms


ROLES = (VIEWER, EDITOR, LEAD_POC, ADMINISTRATOR)
