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
Last-Modified: the moment the feed's content (in that language and scope)
was first served as it is now, remembered in the cache. Every event's DTSTAMP
is that moment too (RFC 5545: the time the information was last revised), so
the same content is the same bytes and the same ETag, and any change of an
event's text, date or language gives a new one. A cache that forgot (or is
unreachable) only makes the moment later: a client then fetches the whole feed
again, never keeps a stale one."""

import dataclasses
import datetime
import hashlib
import logging

from django.conf import settings
from django.utils import timezone, translation
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


logger = logging.getLogger(__name__)

# Rendered in place of DTSTAMP, then replaced by the moment the content was first served.
_PLACEHOLDER_STAMP = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_ICAL_UTC = "%Y%m%dT%H%M%SZ"
# How long the moment a feed's content was first served is remembered (then: a later moment, one full fetch).
_SINCE_TIMEOUT = 60 * 60 * 24 * 30


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


def _content_since(*, scope: str, digest: str) -> datetime.datetime:
    """When this content of the feed ``scope`` was first served: remembered
    while the digest stays the same; a new digest is later than the previous
    one by at least a second (HTTP dates have whole seconds), so
    If-Modified-Since never mistakes it for the old one."""
    from django.core.cache import cache
    from redis.exceptions import RedisError

    now = timezone.now().replace(microsecond=0)
    key = f"calendar-feed-since:{scope}"
    try:
        known = cache.get(key)
        if known and known[0] == digest:
            return datetime.datetime.fromisoformat(known[1])
        since = now
        if known and datetime.datetime.fromisoformat(known[1]) >= now:
            since = datetime.datetime.fromisoformat(known[1]) + datetime.timedelta(seconds=1)
        cache.set(key, (digest, since.isoformat()), _SINCE_TIMEOUT)
        return since
    except (RedisError, OSError) as exc:  # no shared cache: the feed is still served, just never 304
        logger.warning("Calendar feed: the cache is unreachable (%s); Last-Modified is now.", exc)
        return now


def calendar_feed(*, today: datetime.date, language: str, with_engagements: bool) -> CalendarFeed:
    """The feed in ``language`` with its validators (see the module's text)."""
    with translation.override(language):
        draft = scm_calendar(today=today, with_engagements=with_engagements, stamp=_PLACEHOLDER_STAMP)
    since = _content_since(scope=f"{language}:{int(with_engagements)}", digest=hashlib.sha256(draft).hexdigest())
    placeholder = f"DTSTAMP:{_PLACEHOLDER_STAMP.strftime(_ICAL_UTC)}".encode()
    body = draft.replace(placeholder, f"DTSTAMP:{since.astimezone(datetime.UTC).strftime(_ICAL_UTC)}".encode())
    return CalendarFeed(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:40]}"', last_modified=since)
