"""Writes that span the whole project: roles, demo logins and sample data."""

import contextlib
import functools
import logging
import smtplib

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.timezone import localdate
from django.utils.translation import gettext as _

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
    ("lead-us", "lead POC", False),  # linked to the U.S. lead POC (DEMO_LEADS)
    ("lead-rok", "lead POC", False),  # linked to the ROK lead POC
    ("editor", "editor", False),
    ("viewer", "viewer", False),
)
# Lead-POC powers come from the link to an active lead POC (contacts.selectors.acting_lead_poc).
DEMO_LEADS = {"lead-us": "jordan.lee@example.org", "lead-rok": "minjun.kim@example.org"}


def _sample_org(name, side, country=None):
    from contacts.models import Organization
    from rcf.models import PartnerCountry

    obj, _created = Organization.objects.get_or_create(
        name=SAMPLE_PREFIX + name,
        side=side,
        defaults={"country": PartnerCountry.objects.filter(iso2=country).first() if country else None},
    )
    return obj


def _sample_poc(name, side, organization, email, lead, area_codes):
    from contacts.models import PointOfContact
    from rcf.models import PriorityArea

    obj, created = PointOfContact.objects.get_or_create(
        email=email,
        defaults={
            "full_name": SAMPLE_PREFIX + name,
            "side": side,
            "organization": organization,
            "is_lead": lead,
            "title": "Lead POC" if lead else "Action officer",
            # The ROK side's sample POCs read their notices in Korean.
            "preferred_language": "ko" if side == "rok" else "en",
        },
    )
    if created:
        obj.priority_areas.set(PriorityArea.objects.filter(code__in=area_codes))
    return obj


def _sample_lead_pocs():
    """The U.S. and ROK sample lead POCs (idempotent, keyed by e-mail)."""
    dod = _sample_org("U.S. Department of Defense - Indo-Pacific Security Affairs", "us")
    mnd = _sample_org("ROK Ministry of National Defense - International Policy Bureau", "rok")
    us_lead = _sample_poc("Jordan Lee", "us", dod, "jordan.lee@example.org", True,
                          ["maritime-security", "capacity-building"])
    rok_lead = _sample_poc("Kim Min-jun", "rok", mnd, "minjun.kim@example.org", True,
                           ["maritime-security", "defense-industrial-cooperation"])
    return us_lead, rok_lead


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
    # Each lead login speaks for its side through its POC record.
    for poc in _sample_lead_pocs():
        username = next(name for name, email in DEMO_LEADS.items() if email == poc.email)
        user = User.objects.get(username=username)
        if poc.user_id != user.pk or not (poc.is_lead and poc.active):
            poc.user, poc.is_lead, poc.active = user, True, True
            poc.save()
    # The unlinked "lead" login of earlier versions held a group and no side: retired.
    User.objects.filter(username="lead", point_of_contact__isnull=True).update(is_active=False)
    return made


@transaction.atomic
def sample_data_load(*, today=None) -> dict[str, int]:
    """Load a small, clearly labelled sample data set. Idempotent: records are
    keyed by name or external id and never created twice."""
    import datetime

    from django.contrib.auth import get_user_model

    from projects import services as project_services
    from projects.models import CooperativeProject, Engagement
    from rcf.models import PartnerCountry, PriorityArea
    from rcf.selectors import framework_today

    today = today or framework_today()
    admin = get_user_model().objects.filter(username="demo").first()

    dod = _sample_org("U.S. Department of Defense - Indo-Pacific Security Affairs", "us")
    mnd = _sample_org("ROK Ministry of National Defense - International Policy Bureau", "rok")
    shipyard = _sample_org("Example Shipbuilding Co.", "industry")
    mro = _sample_org("Example Aerospace MRO Ltd.", "industry")

    areas = {a.code: a for a in PriorityArea.objects.all()}

    us_lead, rok_lead = _sample_lead_pocs()
    _sample_poc("Alex Morgan", "us", dod, "alex.morgan@example.org", False, ["information-sharing"])
    _sample_poc("Park Seo-yeon", "rok", mnd, "seoyeon.park@example.org", False, ["technical-cooperation"])

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
            if step == "presented":  # at the first SCM held after it became ready, which endorsed it
                from .models import SCMCycle

                scm = SCMCycle.objects.filter(meeting_date__gte=project.ready_on, meeting_date__lte=today).first()
                if scm is not None:
                    presentation_record(project=project, scm_cycle=scm, outcome="endorsed", note="Sample data",
                                        by=admin, today=today)
                continue
            project = _sample_step(
                project, step, us_lead, rok_lead, today=today,
                priority=2 if step == "prioritized" else None,
                ready_on=today - datetime.timedelta(days=days_ago) if step == "ready" else None,
            )
        if target == "prioritized" and us_lead.user_id:
            # Left open, to show a proposal awaiting the ROK side's concurrence.
            project_services.project_transition(project=project, to="ready", by=us_lead.user, today=today,
                                                note="Sample data: ready for the next SCM?")
        if not Engagement.objects.filter(projects=project).exists():
            project_services.engagement_create(
                by=admin, projects=[project], participants=[us_lead, rok_lead],
                date=today - datetime.timedelta(days=30), kind="meeting",
                summary=SAMPLE_PREFIX + "Working-level coordination meeting.",
            )
        _sample_resource_lines(project, external_id, by=admin, year=today.year)
    return {"projects_created": created}


def _sample_resource_lines(project, external_id: str, *, by, year: int) -> None:
    """Two resource lines on a sample project (issue 11): a U.S. one in USD and a
    ROK one in KRW, keyed by external id (never created twice)."""
    from decimal import Decimal

    from projects import services as project_services
    from projects.models import ResourceLine

    lines = [
        ("r1", "us", "planned", Decimal("250000.00"), "USD", "Sample programme (U.S.)"),
        ("r2", "rok", "committed", Decimal("300000000"), "KRW", "Sample programme (ROK)"),
    ]
    for suffix, side, kind, amount, currency, source in lines:
        key = f"{external_id}-{suffix}"
        if not ResourceLine.all_objects.filter(external_id=key).exists():
            project_services.resource_line_create(
                by=by, project=project, side=side, kind=kind, amount=amount, currency=currency, source=source,
                fiscal_year=year, note="Sample data", external_id=key)


def _sample_step(project, step, us_lead, rok_lead, *, today, priority, ready_on):
    """One lifecycle step of the sample data, taken as the demo leads would:
    the U.S. lead proposes a joint step and the ROK lead concurs (the system
    takes it when the lead logins are not linked)."""
    from projects import services as project_services
    from projects.models import Concurrence, CooperativeProject

    proposer, concurrer = us_lead.user, rok_lead.user
    if proposer is None or concurrer is None:
        proposer = None
    result = project_services.project_transition(project=project, to=step, by=proposer, note="Sample data",
                                                 priority=priority, ready_on=ready_on, today=today)
    if isinstance(result, Concurrence):
        project_services.concurrence_concur(concurrence=result, by=concurrer, today=today)
    return CooperativeProject.objects.get(pk=project.pk)


# --- The readiness job -------------------------------------------------------

FLAGGED_STATES = ("missed", "at_risk", "unscheduled")


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
        # A flag holds data, not a sentence: scm_reports.flag_text renders it
        # in the reader's language when it is shown or e-mailed.
        to_raise = [
            ReadinessFlag(
                year=r.year, scm_cycle=r.cycle, kind=r.state, deadline=r.deadline,
                counting_projects=r.counting_projects,
            )
            for key, r in sorted(wanted.items())
            if key not in open_flags
        ]
        # An unscheduled year's waiting projects come and go while its flag is open.
        to_refresh = []
        for key, flag in open_flags.items():
            if key in wanted and flag.counting_projects != wanted[key].counting_projects:
                flag.counting_projects = wanted[key].counting_projects
                to_refresh.append(flag)
        if not dry_run:
            now = timezone.now()
            if to_resolve:
                ReadinessFlag.objects.filter(pk__in=[f.pk for f in to_resolve]).update(resolved_at=now)
            if to_raise:
                ReadinessFlag.objects.bulk_create(to_raise)
            if to_refresh:
                ReadinessFlag.objects.bulk_update(to_refresh, ["counting_projects"])
            _flags_announce(raised=to_raise, resolved=to_resolve)
        else:
            transaction.set_rollback(True)
    return {
        "today": today.isoformat(),
        "years": [r.as_dict() for r in years],
        "raised": [{"year": f.year, "kind": f.kind} for f in to_raise],
        "resolved": [{"year": f.year, "kind": f.kind} for f in sorted(to_resolve, key=lambda f: (f.year, f.kind))],
    }


def _flags_announce(*, raised, resolved) -> None:
    """Webhooks: ``readiness_flag.resolved`` and ``readiness_flag.raised``, in the job's transaction."""
    from rcf.webhooks import webhook_emit, webhook_subscribed_events

    from .models import ReadinessFlag

    if not (raised or resolved):
        return
    subscribed = webhook_subscribed_events()
    for event, flags in (("readiness_flag.resolved", resolved), ("readiness_flag.raised", raised)):
        if not flags or event not in subscribed:
            continue
        keys = [(f.year, f.kind) for f in flags]
        found = ReadinessFlag.objects.filter(pk__in=[f.pk for f in flags if f.pk]) if event.endswith("resolved") \
            else ReadinessFlag.objects.filter(resolved_at__isnull=True, year__in={k[0] for k in keys})
        for flag in sorted((f for f in found if (f.year, f.kind) in keys), key=lambda f: (f.year, f.kind)):
            webhook_emit(event=event, instance=flag)


def flags_awaiting_notice():
    """Open flags whose notices have not all gone out (e.g. the broker or the
    mail server was down): the job queues them again at every run."""
    from .models import ReadinessFlag

    return ReadinessFlag.objects.filter(resolved_at__isnull=True, notified_at__isnull=True)


def readiness_notice_recipients():
    from contacts.models import PointOfContact

    return PointOfContact.objects.filter(is_lead=True, active=True).exclude(email="").order_by("side", "pk")


def _notice_message(flag, *, today, language: str) -> tuple[str, str]:
    """Subject and body of the notice about ``flag`` in ``language``, rendered
    from the flag's data when it is sent (scm_reports.flag_text)."""
    from django.conf import settings
    from django.utils import translation

    from rcf.marking import marked_email_body

    from .flag_text import flag_subject, notice_body

    with translation.override(language):
        return flag_subject(flag), marked_email_body(notice_body(flag, today=today, site_url=settings.SITE_URL))


def notice_language(poc) -> str:
    """The language a POC reads notices in: their preference, else the site's."""
    from django.conf import settings

    return poc.preferred_language or settings.LANGUAGE_CODE


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
    """E-mail every active lead POC of both sides about one flag, each in
    their preferred language (``PointOfContact.preferred_language``).

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
    messages = {}  # language -> (subject, body): rendered once per language
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
        language = notice_language(poc)
        if language not in messages:
            messages[language] = _notice_message(flag, today=today, language=language)
        subject, body = messages[language]
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


# --- Reminders of proposals awaiting concurrence (the readiness job) ------------------


def concurrence_reminders_due(*, today):
    """Open proposals waiting more than ``RCF_CONCURRENCE_REMINDER_DAYS`` and
    not yet reminded, when the next recorded readiness deadline is within
    ``RCF_AT_RISK_DAYS``: a joint decision stuck on one side can then cost
    the year's goal. Empty otherwise."""
    import datetime

    from django.conf import settings
    from django.utils import timezone

    from projects.models import Concurrence

    from .selectors import readiness_by_year

    upcoming = [r for r in readiness_by_year(today=today) if r.deadline is not None and r.deadline >= today]
    if not upcoming or (upcoming[0].deadline - today).days > settings.RCF_AT_RISK_DAYS:
        return Concurrence.objects.none()
    waited_since = timezone.make_aware(datetime.datetime.combine(
        today - datetime.timedelta(days=settings.RCF_CONCURRENCE_REMINDER_DAYS), datetime.time.min))
    return (
        Concurrence.objects.filter(concurred_at__isnull=True, declined_at__isnull=True, withdrawn_at__isnull=True,
                                   reminded_at__isnull=True, proposed_at__lt=waited_since,
                                   project__deleted_at__isnull=True)
        .select_related("project", "proposer_poc")
        .order_by("proposed_at", "id")
    )


def _reminder_message(proposal, *, deadline) -> tuple[str, str]:
    from django.conf import settings

    title = getattr(proposal.project, "localized_title", proposal.project.title)
    subject = _("[RCF Tracker] Awaiting your concurrence: %(title)s") % {"title": title}
    proposer = proposal.proposer_poc.full_name if proposal.proposer_poc_id else proposal.get_side_display()
    lines = [
        _("%(proposer)s (%(side)s) proposed on %(date)s to move “%(title)s” to “%(step)s”; it awaits your side's "
          "concurrence.") % {"proposer": proposer, "side": proposal.get_side_display(),
                             "date": date_format(localdate(proposal.proposed_at), "DATE_FORMAT"), "title": title,
                             "step": proposal.get_step_display()},
        _("The next readiness deadline is %(deadline)s.") % {"deadline": date_format(deadline, "DATE_FORMAT")},
        "",
        f"{settings.SITE_URL.rstrip('/')}/projects/{proposal.project_id}/#concurrence",
    ]
    if proposal.note:
        lines[1:1] = ["", proposal.note]
    from rcf.marking import marked_email_body

    return subject, marked_email_body("\n".join(lines))


def concurrence_reminders_send(*, today) -> int:
    """E-mail the other side's active lead POCs about each proposal
    ``concurrence_reminders_due`` finds, in each one's language; once per
    proposal (``reminded_at``). A mail server failure leaves the proposal
    for the next run of the job. Returns how many e-mails were sent."""
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.core.mail import EmailMessage
    from django.utils import timezone, translation

    from contacts.models import PointOfContact
    from projects.models import Concurrence

    from .selectors import readiness_by_year

    due = list(concurrence_reminders_due(today=today))
    if not due:
        return 0
    deadline = min(r.deadline for r in readiness_by_year(today=today) if r.deadline and r.deadline >= today)
    host = urlsplit(settings.SITE_URL).hostname or "rcf-tracker.invalid"
    sent = 0
    for proposal in due:
        # Claimed before it is sent: a run of the job at the same time skips it (once per proposal).
        if not Concurrence.objects.filter(pk=proposal.pk, reminded_at__isnull=True).update(
                reminded_at=timezone.now()):
            continue
        recipients = PointOfContact.objects.filter(side=proposal.awaited_side, is_lead=True, active=True) \
            .exclude(email="").order_by("pk")
        try:
            for poc in recipients:
                language = getattr(poc, "preferred_language", "") or settings.LANGUAGE_CODE
                with translation.override(language):
                    subject, body = _reminder_message(proposal, deadline=deadline)
                EmailMessage(subject, body, None, [poc.email], headers={
                    "Message-ID": f"<concurrence-reminder-{proposal.pk}-{poc.pk}@{host}>"}).send()
                sent += 1
        except (smtplib.SMTPException, OSError) as exc:
            logger.warning("Concurrence reminder %s not sent (%s); the next run of the job retries.",
                           proposal.pk, exc)
            Concurrence.objects.filter(pk=proposal.pk).update(reminded_at=None)
    return sent


# --- SCM cycles (administrators) -------------------------------------------------

SCM_CYCLE_FIELDS = ("number", "year", "meeting_date", "location", "readiness_deadline", "notes")


@contextlib.contextmanager
def scm_windows_moving():
    """Around any change to the SCM cycles: in the same transaction, the
    dashboard's summary rows recount the SCM year of the projects whose ready
    day falls in a window that moved (``projects.counts.windows_changed``)."""
    from projects import counts

    from .selectors import scm_windows

    with transaction.atomic():
        counts.hold_writers()
        before = scm_windows()
        yield
        counts.windows_changed(before, scm_windows())


def _moves_windows(service):
    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        with scm_windows_moving():
            return service(*args, **kwargs)

    wrapper.moves_figures = True
    return wrapper


@_moves_windows
def scm_cycle_create(*, by=None, **data):
    from rcf.services import split_fields, tracked_create

    from .models import SCMCycle

    fields, _m2m = split_fields(data, editable=SCM_CYCLE_FIELDS)
    if "year" not in fields and fields.get("meeting_date"):
        fields["year"] = fields["meeting_date"].year
    return tracked_create(model=SCMCycle, by=by, fields=fields)


@_moves_windows
def scm_cycle_update(*, cycle, by=None, expected_version=None, **data):
    from rcf.services import split_fields, tracked_update

    fields, _m2m = split_fields(data, editable=SCM_CYCLE_FIELDS)
    if "meeting_date" in fields and "year" not in fields and fields["meeting_date"]:
        fields["year"] = fields["meeting_date"].year
    return tracked_update(instance=cycle, by=by, expected_version=expected_version, fields=fields)


@_moves_windows
def scm_cycle_delete(*, cycle, by=None, expected_version=None):
    from rcf.services import soft_delete

    return soft_delete(instance=cycle, by=by, expected_version=expected_version)


@_moves_windows
def scm_cycle_restore(*, cycle, by=None):
    from rcf.services import restore

    return restore(instance=cycle, by=by)


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


# --- SCM presentations ------------------------------------------------------------------

class PresentationAlreadyRecorded(ValidationError):
    """The project's presentation at this SCM is recorded already (one row
    per project and SCM): the API answers 409 naming it."""

    def __init__(self, existing):
        self.existing = existing
        super().__init__({"scm_cycle": [
            _("“%(project)s” is already recorded as presented at the %(scm)s (outcome: %(outcome)s).") % {
                "project": existing.project.localized_title, "scm": existing.scm_cycle,
                "outcome": existing.get_outcome_display()}]})


def _presentation_errors(*, project, scm_cycle, outcome, today) -> dict:
    """What is wrong with recording ``project`` as presented at ``scm_cycle``
    (field -> messages); empty when nothing is."""
    from projects.models import ProjectStatus as S

    from .models import PresentationOutcome

    errors: dict[str, list] = {}
    if outcome not in PresentationOutcome.values:
        errors["outcome"] = [_("Choose what the SCM decided: %(choices)s.") % {
            "choices": ", ".join(PresentationOutcome.values)}]
    if scm_cycle is None or scm_cycle.is_deleted:
        errors["scm_cycle"] = [_("No such SCM cycle: record the SCM first (administrators).")]
    elif scm_cycle.meeting_date > today:
        errors["scm_cycle"] = [_("The %(scm)s meets on %(date)s, after today (%(today)s): record what it decided "
                                 "once it has happened.") % {"scm": scm_cycle, "date": scm_cycle.meeting_date,
                                                             "today": today}]
    if project is None or project.is_deleted:
        errors["project"] = [_("No such project (it may have been deleted).")]
        return errors
    if project.status not in PRESENTABLE:
        errors["project"] = [_("“%(project)s” is “%(status)s”: only a ready project can be presented at an SCM, "
                               "and only one already presented or in implementation can be reported on again.") % {
            "project": project.localized_title, "status": S(project.status).label}]
    elif "scm_cycle" not in errors:
        if project.status == S.READY and project.ready_on and scm_cycle.meeting_date < project.ready_on:
            errors["scm_cycle"] = [_("“%(project)s” became ready on %(ready_on)s, after the %(scm)s (%(date)s).") % {
                "project": project.localized_title, "ready_on": project.ready_on, "scm": scm_cycle,
                "date": scm_cycle.meeting_date}]
        first = project.scm_presentations.select_related("scm_cycle").order_by("scm_cycle__meeting_date").first()
        if first is not None and scm_cycle.meeting_date < first.scm_cycle.meeting_date:
            errors["scm_cycle"] = [_("“%(project)s” was first presented at the %(first)s: a later SCM can hear "
                                     "of its progress, not an earlier one.") % {
                "project": project.localized_title, "first": first.scm_cycle}]
    return errors


PRESENTABLE = ("ready", "presented", "in_implementation")


@transaction.atomic
def presentation_record(*, project, scm_cycle, outcome: str, note: str = "", by=None,
                        expected_version: int | None = None, today=None):
    """Record that ``project`` was presented at ``scm_cycle`` and what the
    ministers decided, and take the lifecycle step that decision means: a
    ``ready`` project becomes ``presented``; ``deferred`` then returns it to
    ``prioritized`` and ``declined`` to ``under_review``, both as joint
    decisions (taken at the SCM by both ministers: no further concurrence).
    A project already presented or in implementation can be reported on at a
    later SCM: a row, no status change.

    Refused, with nothing saved, by ``PermissionDenied`` (not a lead POC or
    an administrator), ``PresentationAlreadyRecorded`` (this project at this
    SCM), ``ValidationError`` naming the field, or ``VersionConflict`` (the
    project changed since ``expected_version``)."""
    from projects import counts
    from projects.models import CooperativeProject
    from projects.models import ProjectStatus as S
    from projects.services import project_transition
    from rcf.selectors import framework_today
    from rcf.services import VersionConflict
    from rcf.webhooks import webhook_emit

    from .models import PresentationOutcome, SCMPresentation
    from .roles import can_record_presentation

    today = today or framework_today()
    if not can_record_presentation(by):
        raise PermissionDenied(_("Only lead POCs and administrators can record what an SCM decided."))
    # Both steps (presented, then deferred/declined) write the summary rows once, in one sorted pass.
    with counts.batch():
        if project is not None and not project.is_deleted:
            # One recording at a time per project: the status read below is the one changed.
            project = CooperativeProject.objects.select_for_update().get(pk=project.pk)
        errors = _presentation_errors(project=project, scm_cycle=scm_cycle, outcome=outcome, today=today)
        if errors:
            raise ValidationError(errors)
        existing = SCMPresentation.objects.filter(project=project, scm_cycle=scm_cycle).select_related(
            "project", "scm_cycle").first()
        if existing is not None:
            raise PresentationAlreadyRecorded(existing)
        if expected_version is not None and project.version != expected_version:
            raise VersionConflict(project)

        presentation = SCMPresentation(scm_cycle=scm_cycle, project=project, outcome=outcome, note=note,
                                       recorded_by=by)
        presentation.full_clean(validate_constraints=False)  # the note's text rules; the constraints back it below
        presentation._history_user = by
        presentation.save()
        webhook_emit(event="presentation.recorded", instance=presentation)

        if project.status == S.READY:
            label = PresentationOutcome(outcome).label
            step_note = _("Presented at the %(scm)s: %(outcome)s.") % {"scm": scm_cycle, "outcome": label}
            step_note = f"{step_note} {note}".strip()
            # joint_decision: the ministers of both sides decided it (the caller's powers were checked above).
            project = project_transition(project=project, to=S.PRESENTED, by=by, note=step_note, at_scm=True,
                                         joint_decision=True, expected_version=expected_version, today=today)
            back = {PresentationOutcome.DEFERRED: S.PRIORITIZED, PresentationOutcome.DECLINED: S.UNDER_REVIEW}
            if outcome in back:
                project = project_transition(
                    project=project, to=back[outcome], by=by, at_scm=True, joint_decision=True, today=today,
                    note=_("%(outcome)s at the %(scm)s.") % {"outcome": label, "scm": scm_cycle})
        return presentation


PRESENTATION_EDITABLE = ("note",)


def presentation_update(*, presentation, by=None, expected_version=None, **data):
    """Change a recorded presentation's decision note. The SCM, the project
    and the outcome are what happened (and what the lifecycle followed):
    to correct one, an administrator deletes the record and it is recorded
    again."""
    from rcf.services import split_fields, tracked_update

    from .roles import can_record_presentation

    if not can_record_presentation(by):
        raise PermissionDenied(_("Only lead POCs and administrators can record what an SCM decided."))
    fixed = sorted(set(data) & {"scm_cycle", "project", "outcome"})
    if fixed:
        raise ValidationError({name: [_("Cannot be changed once recorded: an administrator deletes the "
                                        "presentation and it is recorded again.")] for name in fixed})
    from rcf.webhooks import webhook_emit

    fields, _m2m = split_fields(data, editable=PRESENTATION_EDITABLE)
    with transaction.atomic():
        presentation = tracked_update(instance=presentation, by=by, expected_version=expected_version,
                                      fields=fields)
        webhook_emit(event="presentation.updated", instance=presentation)
    return presentation


def presentation_delete(*, presentation, by=None, expected_version=None):
    """Soft delete (administrators): sync clients get a tombstone. The
    project's status is left as it is; take any step back by hand."""
    from rcf.services import soft_delete
    from rcf.webhooks import webhook_emit

    if by is not None and not by.has_perm("scm_reports.delete_scmpresentation"):
        raise PermissionDenied(_("Only administrators can delete a recorded presentation."))
    with transaction.atomic():
        soft_delete(instance=presentation, by=by, expected_version=expected_version)
        webhook_emit(event="presentation.deleted", instance=presentation)
    return presentation


def presentation_restore(*, presentation, by=None):
    from rcf.services import restore

    from .models import SCMPresentation

    if by is not None and not by.has_perm("scm_reports.delete_scmpresentation"):
        raise PermissionDenied(_("Only administrators can restore a recorded presentation."))
    if SCMPresentation.objects.filter(project_id=presentation.project_id,
                                      scm_cycle_id=presentation.scm_cycle_id).exists():
        raise ValidationError(_("This project's presentation at this SCM has been recorded again since; "
                                "delete that record first."))
    from rcf.webhooks import webhook_emit

    with transaction.atomic():
        restore(instance=presentation, by=by)
        webhook_emit(event="presentation.restored", instance=presentation)
    return presentation


# --- The weekly digest to lead POCs (issue 11) -------------------------------------------
# What a digest lists and how it reads: scm_reports.digest.


class DigestNotDelivered(Exception):
    """The mail server failed for some digests of a run; they are left unsent
    (with the error recorded) for the next run or the task's retry."""


def weekly_digest_recipients():
    """Active lead POCs with an e-mail address who have not opted out."""
    from contacts.models import PointOfContact

    return (PointOfContact.objects.filter(is_lead=True, active=True, weekly_digest=True).exclude(email="")
            .order_by("side", "pk"))


def _digest_email(row, *, subject: str, body: str):
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.core.mail import EmailMessage

    host = urlsplit(settings.SITE_URL).hostname or "rcf-tracker.invalid"
    # The same on every attempt at this POC's digest for this week: a copy sent
    # again after a crash is recognisable as the same message.
    message_id = f"<weekly-digest-{row.poc_id}-{row.week_of.isoformat()}@{host}>"
    return EmailMessage(subject, body, None, [row.email], headers={"Message-ID": message_id})


def weekly_digest_send(*, today, dry_run: bool = False) -> list[dict]:
    """Send the week's digest (``scm_reports.digest``) to every recipient
    (``weekly_digest_recipients``) not yet sent one for the week of ``today``,
    each in their language (``notice_language``).

    Once per POC and week: the ``WeeklyDigest`` row (unique POC and week) is
    claimed first, and the e-mail is handed to the mail server while that row
    is locked, so two runs at once send it once (the second skips it, or on
    SQLite waits and then finds it sent). A mail server failure records the
    error on the row and leaves it unsent: the next run retries it (with the
    same Message-ID). Returns, per digest sent (or, with ``dry_run``, that
    would be; nothing is written then), ``{"poc_id", "email", "language",
    "week_of", "items"}``, plus ``"error"`` for one that failed."""
    from django.utils import timezone, translation

    from .digest import digest_message, shared_for_week, week_start, weekly_digest_for
    from .models import WeeklyDigest

    week = week_start(today)
    done = set(WeeklyDigest.objects.filter(week_of=week, sent_at__isnull=False).values_list("poc_id", flat=True))
    recipients = [poc for poc in weekly_digest_recipients() if poc.pk not in done]
    if not recipients:
        return []
    shared = shared_for_week(today=today)
    report = []
    for poc in recipients:
        language = notice_language(poc)
        digest = weekly_digest_for(poc=poc, today=today, shared=shared)
        with translation.override(language):
            subject, body = digest_message(digest)
        entry = {"poc_id": poc.pk, "email": poc.email, "language": language, "week_of": week.isoformat(),
                 "items": digest["counts"]}
        if dry_run:
            report.append(entry)
            continue
        row, _created = WeeklyDigest.objects.get_or_create(
            poc=poc, week_of=week, defaults={"email": poc.email, "language": language})
        with transaction.atomic():
            # skip_locked: a digest another run is sending now is its business.
            row = (WeeklyDigest.objects.select_for_update(skip_locked=True)
                   .filter(pk=row.pk, sent_at__isnull=True).first())
            if row is None:
                continue
            row.email, row.language, row.item_counts = poc.email, language, digest["counts"]
            try:
                _digest_email(row, subject=subject, body=body).send()
            except (smtplib.SMTPException, OSError) as exc:
                logger.warning("Weekly digest to %s not sent (%s); the next run retries.", poc.email, exc)
                row.error = str(exc) or type(exc).__name__
                row.save(update_fields=["email", "language", "item_counts", "error"])
                report.append({**entry, "error": row.error})
                continue
            row.sent_at, row.error = timezone.now(), ""
            row.save(update_fields=["email", "language", "item_counts", "sent_at", "error"])
        report.append(entry)
    return report
