"""The iCalendar feed of SCM meetings, readiness deadlines and the start of
each at-risk window (dates from the readiness rule), and the engagements. Stored text goes out
through ``rcf.validators.printable`` and dates through ``shift_date``, so a
value stored before the bounds existed cannot break the feed. The meeting
lists the projects counting for it, titled in the reader's language
(``CooperativeProject.localized_title``, the feed's ``lang`` or the request's)."""

import datetime

from django.conf import settings
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


def scm_calendar(*, today: datetime.date, with_engagements: bool = False) -> bytes:
    """The feed; ``with_engagements`` adds the engagements (for subscribers who may see them)."""
    calendar = Calendar()
    calendar.add("prodid", "-//RCF Tracker//SCM readiness//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "RCF Tracker: SCM readiness")
    stamp = datetime.datetime.now(datetime.UTC)
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
