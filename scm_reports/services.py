"""Writes that span the whole project: roles, demo logins and sample data."""

import logging
import smtplib

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from .roles import ROLES, _codenames_for_role

logger = logging.getLogger(__name__)


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


# --- The readiness job -------------------------------------------------------

FLAGGED_STATES = ("missed", "at_risk", "unscheduled")


def _flag_detail(readiness) -> str:
    if readiness.cycle is None:
        return f"No SCM is recorded for {readiness.year}: the goal cannot be measured."
    base = (
        f"{readiness.cycle.number}th SCM on {readiness.cycle.meeting_date:%Y-%m-%d}"
        f"{' in ' + readiness.cycle.location if readiness.cycle.location else ''}; "
        f"readiness deadline {readiness.deadline:%Y-%m-%d}"
    )
    if readiness.state == "missed":
        return f"{base}: no project became ready in time."
    return f"{base}, {readiness.days_left} day(s) left, and no project is ready yet."


def _lock_readiness_job() -> None:
    """Serialise concurrent runs. On PostgreSQL a transaction-scoped advisory
    lock; SQLite's IMMEDIATE transactions already serialise writers."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Any fixed 64-bit key, reserved for this job.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x52434621])


def readiness_flags_sync(*, today, dry_run: bool = False, with_project_ids: bool = False) -> dict:
    """Bring the flags in line with the readiness states for ``today``.

    Raises the flags that are newly true, resolves those that no longer are,
    and returns ``{"today", "years", "raised", "resolved"}``. Idempotent, and
    safe when two workers run it at once (the lock, backed by the partial
    unique constraint on open flags). A bounded number of queries, whatever
    the number of projects and years. Nothing is written with ``dry_run``.
    """
    from django.utils import timezone

    from .models import ReadinessFlag
    from .selectors import readiness_by_year

    with transaction.atomic():
        _lock_readiness_job()
        years = readiness_by_year(today=today, with_project_ids=with_project_ids)
        wanted = {}
        for readiness in years:
            if readiness.state in FLAGGED_STATES and not (
                # A future year with no SCM yet is not a concern until it comes.
                readiness.state == "unscheduled" and readiness.year > today.year
            ):
                wanted[(readiness.year, readiness.state)] = readiness
        open_flags = {(f.year, f.kind): f for f in ReadinessFlag.objects.filter(resolved_at__isnull=True)}
        to_resolve = [flag for key, flag in open_flags.items() if key not in wanted]
        to_raise = [
            ReadinessFlag(
                year=r.year, scm_cycle=r.cycle, kind=r.state, detail=_flag_detail(r)
            )
            for key, r in sorted(wanted.items())
            if key not in open_flags
        ]
        if not dry_run:
            now = timezone.now()
            if to_resolve:
                ReadinessFlag.objects.filter(pk__in=[f.pk for f in to_resolve]).update(resolved_at=now)
            if to_raise:
                ReadinessFlag.objects.bulk_create(to_raise)
        else:
            transaction.set_rollback(True)
    return {
        "today": today.isoformat(),
        "years": [r.as_dict() for r in years],
        "raised": [{"year": f.year, "kind": f.kind} for f in to_raise],
        "resolved": [{"year": f.year, "kind": f.kind} for f in sorted(to_resolve, key=lambda f: (f.year, f.kind))],
    }


def flags_awaiting_notice():
    """Open flags whose notices have not all gone out (e.g. the broker or the
    mail server was down): the job queues them again at every run."""
    from .models import ReadinessFlag

    return ReadinessFlag.objects.filter(resolved_at__isnull=True, notified_at__isnull=True)


def readiness_notice_recipients():
    from contacts.models import PointOfContact

    return PointOfContact.objects.filter(is_lead=True, active=True).exclude(email="").order_by("side", "pk")


def _notice_message(flag, *, today) -> tuple[str, str]:
    from django.conf import settings

    from .selectors import cycle_deadline

    kind = flag.get_kind_display().lower()
    subject = f"[RCF Tracker] {flag.year}: readiness {kind}"
    lines = [f"The framework's goal for {flag.year} is {kind}.", ""]
    cycle = flag.scm_cycle
    if cycle is not None:
        deadline = cycle_deadline(cycle)
        lines += [
            f"SCM: {cycle.number}th Security Consultative Meeting, {cycle.meeting_date:%d %b %Y}"
            f"{', ' + cycle.location if cycle.location else ''}",
            f"Readiness deadline: {deadline:%d %b %Y}",
            f"Days left: {max((deadline - today).days, 0)}",
        ]
        subject += f" ({cycle.number}th SCM)"
    lines += ["", flag.detail, "", f"Dashboard: {settings.SITE_URL.rstrip('/')}/"]
    return subject, "\n".join(lines)


def _notice_attempt_claim(notice, *, email: str, now) -> int | None:
    """Record an attempt at ``notice`` and take it for this worker, in a
    transaction of its own that commits before the e-mail goes out: after a
    crash the record shows the attempt (and the e-mail may have been
    delivered). Returns the attempt's number, or None when another worker is
    sending it now (its claim has not run out) or it is already settled."""
    import datetime

    from django.conf import settings
    from django.db.models import F

    from .models import ReadinessNotice

    # Longer than one send can take (connect, send, quit: EMAIL_TIMEOUT each).
    lease = datetime.timedelta(seconds=3 * settings.EMAIL_TIMEOUT + 30)
    with transaction.atomic():
        claimed = (
            ReadinessNotice.objects.filter(pk=notice.pk, sent_at__isnull=True, error="")
            .filter(Q(sending_until__isnull=True) | Q(sending_until__lte=now))
            .update(attempts=F("attempts") + 1, last_attempt_at=now, sending_until=now + lease, email=email)
        )
    if not claimed:
        return None
    notice.refresh_from_db()
    return notice.attempts


def _notice_email(notice, *, subject: str, body: str, attempt: int):
    from django.core.mail import EmailMessage

    return EmailMessage(
        subject, body, None, [notice.email],
        headers={"Message-ID": notice.message_id, "X-RCF-Attempt": str(attempt)},
    )


def readiness_notice_send(*, flag_id: int, today=None) -> int:
    """E-mail every active lead POC of both sides about one flag.

    Delivery is at least once, deduplicable: each attempt is committed
    before its e-mail is handed to the mail server, and every attempt at one
    notice carries the same Message-ID (and ``X-RCF-Attempt: n``), so if a
    worker dies between the hand-over and recording the e-mail as sent, the
    retry's copy is recognisable as the same message. A failure to send
    leaves the notice unsent for the next try; an address refused for good
    settles it; a notice another worker is sending now is left to it.
    Returns how many e-mails this call sent.
    """
    from django.utils import timezone

    from rcf.selectors import framework_today

    from .models import ReadinessFlag, ReadinessNotice

    today = today or framework_today()
    flag = ReadinessFlag.objects.select_related("scm_cycle").get(pk=flag_id)
    if flag.notified_at is not None:
        return 0
    subject, body = _notice_message(flag, today=today)
    sent = 0
    failure = None
    for poc in readiness_notice_recipients():
        notice, _created = ReadinessNotice.objects.get_or_create(
            flag=flag, point_of_contact=poc, defaults={"email": poc.email}
        )
        if notice.sent_at is not None or notice.error:
            continue
        attempt = _notice_attempt_claim(notice, email=poc.email, now=timezone.now())
        if attempt is None:
            continue
        if attempt > 1:
            logger.warning("Readiness notice %s to %s: attempt %d with Message-ID %s (an earlier attempt may "
                           "have been delivered).", notice.pk, notice.email, attempt, notice.message_id)
        this = ReadinessNotice.objects.filter(pk=notice.pk)
        try:
            _notice_email(notice, subject=subject, body=body, attempt=attempt).send()
        except smtplib.SMTPRecipientsRefused as exc:
            # This address is refused for good: settle it, and go on with the others.
            logger.warning("Readiness notice to %s refused: %s", poc.email, exc)
            this.update(error=str(exc) or "refused", sending_until=None)
            continue
        except (smtplib.SMTPException, OSError) as exc:
            # The mail server is failing: try the others, then let Celery retry the rest.
            this.update(sending_until=None)
            failure = failure or exc
            continue
        this.update(sent_at=timezone.now(), sending_until=None)
        sent += 1
    if failure is not None:
        raise failure
    settled = flag.notices.filter(Q(sent_at__isnull=False) | ~Q(error="")).values("point_of_contact_id")
    if not readiness_notice_recipients().exclude(pk__in=settled).exists():
        ReadinessFlag.objects.filter(pk=flag.pk, notified_at__isnull=True).update(notified_at=timezone.now())
    return sent


# --- SCM cycles (administrators) -------------------------------------------------

SCM_CYCLE_FIELDS = ("number", "year", "meeting_date", "location", "readiness_deadline", "notes")


def scm_cycle_create(*, by=None, **data):
    from rcf.services import split_fields, tracked_create

    from .models import SCMCycle

    fields, _m2m = split_fields(data, editable=SCM_CYCLE_FIELDS)
    if "year" not in fields and fields.get("meeting_date"):
        fields["year"] = fields["meeting_date"].year
    return tracked_create(model=SCMCycle, by=by, fields=fields)


def scm_cycle_update(*, cycle, by=None, expected_version=None, **data):
    from rcf.services import split_fields, tracked_update

    fields, _m2m = split_fields(data, editable=SCM_CYCLE_FIELDS)
    if "meeting_date" in fields and "year" not in fields and fields["meeting_date"]:
        fields["year"] = fields["meeting_date"].year
    return tracked_update(instance=cycle, by=by, expected_version=expected_version, fields=fields)


def scm_cycle_delete(*, cycle, by=None, expected_version=None):
    from rcf.services import soft_delete

    return soft_delete(instance=cycle, by=by, expected_version=expected_version)


# --- Calendar subscription tokens ----------------------------------------------------


def calendar_token_for(*, user):
    from .models import CalendarToken

    token, _created = CalendarToken.objects.get_or_create(user=user)
    return token


def calendar_token_rotate(*, user):
    from .models import CalendarToken, _new_calendar_token

    token, _created = CalendarToken.objects.get_or_create(user=user)
    token.token = _new_calendar_token()
    token.save()
    return token


def calendar_user(*, token: str):
    from .models import CalendarToken

    found = CalendarToken.objects.select_related("user").filter(token=token).first()
    return found.user if found else None
