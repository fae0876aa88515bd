"""The iCalendar feed of SCM meetings, readiness deadlines and the start of
each at-risk window (dates from the readiness rule), and the engagements. Stored text goes out
through ``rcf.validators.printable`` and dates through ``shift_date``, so a
value stored before the bounds existed cannot break the feed. The meeting
lists the projects counting for it, titled in the reader's language
(``CooperativeProject.localized_title``).

Whose language (issue 13): a calendar application fetches the feed with the
secret address alone (no session, and its Accept-Language says nothing about
the subscriber), so ``feed_language`` takes the subscription owner's: the
language of their e-mails (``PointOfContact.preferred_language``), else the
one the address names (``?lang=``, for a login without a point of contact),
else the site's (``LANGUAGE_CODE``).

Conditional GET (issue 13): clients poll every few minutes. ``calendar_feed``
gives the body with a strong ETag (a digest of the bytes) and a
Last-Modified derived from the data, never from a cache, so every web process
(each with its own memory) gives the same validators for the same content:
the latest moment anything the subscription shows or depends on was written
(``feed_last_modified``), including the owner's language and role. Every
event's DTSTAMP is that moment too (RFC 5545: the time the information was
last revised), so the same data are the same bytes and the same ETag. A change
that leaves no trace in the data (a setting, a translation, a raw SQL update)
still changes the ETag, which a client sending If-None-Match relies on."""

import dataclasses
import datetime
import hashlib

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from projects.models import CooperativeProject
from rcf.ordinals import scm_ordinal
from rcf.validators import printable, shift_date

from .selectors import readiness_by_year


def _all_day(event: Event, day: datetime.date) -> None:
    event.add("dtstart", day)
    event.add("dtend", shift_date(day, 1))


def _engagement_events(*, stamp: datetime.datetime, site: str) -> list[Event]:
    """One all-day event per live engagement: its kind and projects (titled in
    the reader's language), its summary and participants, where it took
    place. The UID is the engagement's, so an edit updates the event (its
    version is the SEQUENCE) and a deletion removes it."""
    from django.db.models import Prefetch

    from projects.models import Engagement

    engagements = Engagement.objects.order_by("date", "id").prefetch_related(
        Prefetch("projects", queryset=CooperativeProject.objects.only("id", "title", "title_ko").order_by("title")),
        "participants",
    )
    events = []
    for engagement in engagements:
        titles = "; ".join(printable(project.localized_title) for project in engagement.projects.all())
        kind = str(engagement.get_kind_display())
        event = Event()
        event.add("uid", f"engagement-{engagement.pk}@rcf-tracker")
        event.add("dtstamp", stamp)
        event.add("last-modified", engagement.updated_at)
        event.add("sequence", engagement.version)
        event.add("summary", f"{kind}: {titles}" if titles else kind)
        people = [p.full_name for p in engagement.participants.all()] + [
            (f"{o.get('name', '')} ({o['organization']})" if o.get("organization") else o.get("name", ""))
            for o in engagement.other_participants or [] if isinstance(o, dict)]
        description = printable(engagement.summary)
        if people:
            description += "\n" + _("Participants: %(names)s.") % {"names": printable(", ".join(people))}
        event.add("description", f"{description}\n{site}/engagements/{engagement.pk}/")
        if engagement.location:
            event.add("location", printable(engagement.location))
        _all_day(event, engagement.date)
        events.append(event)
    return events


def scm_calendar(*, today: datetime.date, with_engagements: bool = False,
                 stamp: datetime.datetime | None = None) -> bytes:
    """The feed in the active language; ``with_engagements`` adds the
    engagements (for subscribers who may see them). ``stamp``: every event's
    DTSTAMP (now when not given)."""
    calendar = Calendar()
    calendar.add("prodid", "-//RCF Tracker//SCM readiness//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("RCF Tracker: SCM readiness"))
    stamp = stamp or datetime.datetime.now(datetime.UTC)
    site = settings.SITE_URL.rstrip("/")
    rows = readiness_by_year(today=today, with_project_ids=True)
    counted = CooperativeProject.objects.filter(pk__in=[pk for row in rows for pk in row.counting_project_ids])
    titles = {project.pk: project.localized_title for project in counted.only("title", "title_ko")}
    for row in rows:
        if row.cycle is None:
            continue
        counting = "; ".join(printable(titles[pk]) for pk in row.counting_project_ids if pk in titles)
        cycle = row.cycle
        scm = f"{scm_ordinal(cycle.number)} SCM"
        location = printable(cycle.location)
        entries = [
            ("meeting", cycle.meeting_date, f"{scm} ({location or _('place to be confirmed')})",
             _("The annual Security Consultative Meeting.")),
            ("deadline", row.deadline, _("RCF readiness deadline for the %(scm)s") % {"scm": scm},
             _("Last day a project can become ready to count for this SCM.")),
            ("at-risk", row.at_risk_from,
             _("RCF: %(scm)s readiness at risk from today if nothing is ready") % {"scm": scm},
             _("%(days)s days before the readiness deadline.") % {"days": settings.RCF_AT_RISK_DAYS}),
        ]
        for kind, day, summary, description in entries:
            event = Event()
            event.add("uid", f"scm-{cycle.number}-{kind}@rcf-tracker")
            event.add("dtstamp", stamp)
            event.add("summary", summary)
            if kind == "meeting" and counting:
                description += " " + _("Projects counting for it: %(titles)s.") % {"titles": counting}
            event.add("description", " ".join([description, _("Readiness now: %(state)s.") % {"state": row.state_label},
                                                f"{site}/scm/{row.year}/report/"]))
            if kind == "meeting" and location:
                event.add("location", location)
            _all_day(event, day)
            calendar.add_component(event)
    if with_engagements:
        for event in _engagement_events(stamp=stamp, site=site):
            calendar.add_component(event)
    return calendar.to_ical()


@dataclasses.dataclass(frozen=True)
class CalendarFeed:
    body: bytes
    etag: str  # quoted, strong: a digest of ``body``
    last_modified: datetime.datetime  # aware, whole seconds


def owner_language(user) -> str | None:
    """The language ``user`` reads e-mails in (their linked point of contact's preference), if they have one."""
    from contacts.models import PointOfContact

    return PointOfContact.objects.filter(user_id=user.pk).values_list("preferred_language", flat=True).first()


def feed_language(*, user, requested: str | None) -> str:
    """The language a subscription's events are written in: the owner's
    e-mail language, else the address's ``lang``, else the site's.
    ``requested`` is already checked against ``LANGUAGES``."""
    return owner_language(user) or requested or settings.LANGUAGE_CODE


def _latest(queryset, *fields) -> list[datetime.datetime]:
    from django.db.models import Max

    found = queryset.order_by().aggregate(**{f"m{i}": Max(name) for i, name in enumerate(fields)})
    return [moment for moment in found.values() if moment is not None]


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight starting ``day`` in the framework's time zone (``RCF_TIME_ZONE``), where ``today`` turns."""
    from zoneinfo import ZoneInfo

    return datetime.datetime.combine(day, datetime.time(), tzinfo=ZoneInfo(settings.RCF_TIME_ZONE))


def feed_last_modified(*, user, today: datetime.date, with_engagements: bool) -> datetime.datetime:
    """When the subscription of ``user`` last changed, from the data alone
    (every web process computes the same moment; nothing is remembered): the
    latest write to anything the feed shows or decides on (SCM cycles and
    projects, live or deleted; the engagements and the people named in them
    when it lists them), the owner's point of contact (the language of their
    e-mails, a link made or removed: its history), the owner's role or groups
    changed in the admin (its log), the address rotated, and the last date on
    which ``today`` moved an SCM's readiness (at risk, past its deadline, a
    new year listed). Whole seconds."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType

    from contacts.models import PointOfContact
    from projects.models import Engagement

    from .models import CalendarToken, SCMCycle

    moments = _latest(SCMCycle.all_objects, "updated_at", "deleted_at")
    moments += _latest(CooperativeProject.all_objects, "updated_at", "deleted_at")
    moments += _latest(PointOfContact.history.filter(user_id=user.pk), "history_date")
    moments += _latest(CalendarToken.objects.filter(user_id=user.pk), "created_at", "rotated_at")
    user_type, group_type = ContentType.objects.get_for_model(type(user)), ContentType.objects.get_for_model(Group)
    groups = [str(pk) for pk in user.groups.values_list("pk", flat=True)]
    moments += _latest(LogEntry.objects.filter(content_type=user_type, object_id=str(user.pk)), "action_time")
    if groups:
        moments += _latest(LogEntry.objects.filter(content_type=group_type, object_id__in=groups), "action_time")
    if with_engagements:
        moments += _latest(Engagement.all_objects, "updated_at", "deleted_at")
        moments += _latest(Engagement.history, "history_date")  # the projects and participants (m2m) too
        moments += _latest(PointOfContact.all_objects, "updated_at", "deleted_at")  # participants' names
    turns = [datetime.date(today.year, 1, 1)]
    for row in readiness_by_year(today=today):
        if row.cycle is not None and row.deadline is not None:
            turns += [row.at_risk_from, shift_date(row.deadline, 1)]
    moments.append(_day_start(max(day for day in turns if day <= today)))
    return max(moments).astimezone(datetime.UTC).replace(microsecond=0)


def calendar_feed(*, user, today: datetime.date, language: str, with_engagements: bool) -> CalendarFeed:
    """The feed of ``user``'s subscription in ``language`` with its
    validators (see the module's text): the same data give the same bytes,
    ETag and Last-Modified in every process."""
    since = feed_last_modified(user=user, today=today, with_engagements=with_engagements)
    with translation.override(language):
        body = scm_calendar(today=today, with_engagements=with_engagements, stamp=since)
    return CalendarFeed(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:40]}"', last_modified=since)
