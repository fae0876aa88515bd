"""Writes that span the whole project: roles, demo logins and sample data."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from .roles import ROLES, _codenames_for_role


@transaction.atomic
def roles_ensure() -> dict[str, Group]:
    """Create or refresh the four role groups (idempotent; run after migrate)."""
    groups = {}
    for role in ROLES:
        wanted = _codenames_for_role(role)
        query = Q(pk__in=[])
        for app_label, codename in wanted:
            query |= Q(content_type__app_label=app_label, codename=codename)
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set(Permission.objects.filter(query))
        groups[role] = group
    return groups


# --- Demo logins and the sample data set (local runs only) -----------------

SAMPLE_PREFIX = "[Sample] "

DEMO_USERS = (
    # username, role, is_staff (may use the Django admin)
    ("demo", "administrator", True),
    ("lead", "lead POC", False),
    ("editor", "editor", False),
    ("viewer", "viewer", False),
)


@transaction.atomic
def demo_logins_ensure(*, password: str) -> list[tuple[str, str]]:
    """Make sure one login per role exists with ``password``; returns (username, role)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    groups = roles_ensure()
    made = []
    for username, role, is_staff in DEMO_USERS:
        user, _created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.org"}
        )
        user.is_staff = is_staff
        user.set_password(password)
        user.save()
        user.groups.set([groups[role]])
        made.append((username, role))
    return made


@transaction.atomic
def sample_data_load(*, today=None) -> dict[str, int]:
    """Load a small, clearly labelled sample data set. Idempotent: records are
    keyed by name or external id and never created twice."""
    import datetime

    from django.contrib.auth import get_user_model

    from contacts.models import Organization, PointOfContact
    from projects import services as project_services
    from projects.models import CooperativeProject, Engagement
    from rcf.models import PartnerCountry, PriorityArea
    from rcf.selectors import framework_today

    today = today or framework_today()
    admin = get_user_model().objects.filter(username="demo").first()

    def org(name, side, country=None):
        obj, _ = Organization.objects.get_or_create(
            name=SAMPLE_PREFIX + name,
            side=side,
            defaults={"country": PartnerCountry.objects.filter(iso2=country).first() if country else None},
        )
        return obj

    dod = org("U.S. Department of Defense - Indo-Pacific Security Affairs", "us")
    mnd = org("ROK Ministry of National Defense - International Policy Bureau", "rok")
    shipyard = org("Example Shipbuilding Co.", "industry")
    mro = org("Example Aerospace MRO Ltd.", "industry")

    areas = {a.code: a for a in PriorityArea.objects.all()}

    def poc(name, side, organization, email, lead, area_codes):
        obj, created = PointOfContact.objects.get_or_create(
            email=email,
            defaults={
                "full_name": SAMPLE_PREFIX + name,
                "side": side,
                "organization": organization,
                "is_lead": lead,
                "title": "Lead POC" if lead else "Action officer",
            },
        )
        if created:
            obj.priority_areas.set([areas[c] for c in area_codes])
        return obj

    us_lead = poc("Jordan Lee", "us", dod, "jordan.lee@example.org", True,
                  ["maritime-security", "capacity-building"])
    rok_lead = poc("Kim Min-jun", "rok", mnd, "minjun.kim@example.org", True,
                   ["maritime-security", "defense-industrial-cooperation"])
    poc("Alex Morgan", "us", dod, "alex.morgan@example.org", False, ["information-sharing"])
    poc("Park Seo-yeon", "rok", mnd, "seoyeon.park@example.org", False, ["technical-cooperation"])

    plans = [
        # external_id, title, area, countries, target status, ready_on offset (days ago)
        ("sample-001", "Maritime domain awareness training for Philippine Coast Guard",
         "maritime-security", ["PH"], "presented", 400),
        ("sample-002", "Combined search-and-rescue workshop with Pacific Island partners",
         "multilateral-exercises", ["FJ", "PG", "TO"], "ready", 20),
        ("sample-003", "Patrol vessel MRO partnership in Viet Nam",
         "defense-industrial-cooperation", ["VN"], "prioritized", None),
        ("sample-004", "Cyber incident response tabletop for ASEAN partners",
         "technical-cooperation", ["SG", "MY", "ID"], "under_review", None),
        ("sample-005", "Regional maritime information-sharing pilot",
         "information-sharing", ["TL"], "concept", None),
    ]
    path = ["under_review", "prioritized", "ready", "presented"]
    created = 0
    for external_id, title, area, countries, target, days_ago in plans:
        if CooperativeProject.all_objects.filter(external_id=external_id).exists():
            continue
        project = project_services.project_create(
            by=admin,
            external_id=external_id,
            title=SAMPLE_PREFIX + title,
            summary=f"Sample project for demonstration: {title.lower()}.",
            priority_area=areas[area],
            lead_side="joint",
            us_lead_poc=us_lead,
            rok_lead_poc=rok_lead,
            partner_countries=list(PartnerCountry.objects.filter(iso2__in=countries)),
            industry_partners=[shipyard, mro] if area == "defense-industrial-cooperation" else [],
            channel="DoD-MND Regional Cooperation Framework working group",
        )
        created += 1
        steps = path[: path.index(target) + 1] if target in path else []
        for step in steps:
            project_services.project_transition(
                project=project,
                to=step,
                by=admin,
                note="Sample data",
                priority=2 if step == "prioritized" else None,
                ready_on=today - datetime.timedelta(days=days_ago) if step == "ready" else None,
                today=today,
            )
        if not Engagement.objects.filter(project=project).exists():
            engagement = Engagement.objects.create(
                project=project,
                date=today - datetime.timedelta(days=30),
                kind="meeting",
                summary=SAMPLE_PREFIX + "Working-level coordination meeting.",
                created_by=admin,
            )
            engagement.participants.set([us_lead, rok_lead])
    return {"projects_created": created}
