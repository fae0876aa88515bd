"""The weekly digest to lead POCs (issue 11): what it lists and how it reads.

``weekly_digest_for`` gathers one lead POC's week from the rules that already
exist elsewhere, never a second copy of them: the readiness rule
(``selectors.readiness_by_year`` and the dashboard's ``next_scm``), the
proposals awaiting their side (``dashboard.awaiting_concurrence``), their
actions (``projects.selectors.actions_due_for``) and the projects whose health
worsened (``projects.selectors.health_worsened``). ``digest_message`` renders
it as the e-mail, in the active language. Sending, once per POC and week, is
``services.weekly_digest_send``.

Which engagements are listed: those in the coming two weeks (today and the 13
days after) where the POC is a participant, or that concern a live project
they lead. A lead POC prepares the meetings of the projects they lead even
when someone else attends, and the ones they attend even when no project of
theirs (or none at all, e.g. a first meeting with a partner) is concerned.
The projects whose health worsened are likewise those they lead: each
project has a lead POC on each side, so both sides hear of it.
"""

from __future__ import annotations

import datetime
import unicodedata
from urllib.parse import urljoin

from django.conf import settings
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from rcf.marking import marked_email_body

# The digest's look-ahead for engagements: the coming two weeks.
ENGAGEMENT_DAYS = 14
# "Worsened in the past week": health compared with a week before the digest.
HEALTH_LOOKBACK_DAYS = 7

# The keys of ``WeeklyDigest.item_counts`` (and of the command's --json).
COUNT_KEYS = ("awaiting_concurrence", "overdue_actions", "upcoming_actions", "overdue_milestones",
              "health_worsened", "engagements")


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of ``day``'s week: the week a digest is for (``WeeklyDigest.week_of``)."""
    return day - datetime.timedelta(days=day.weekday())


def site_link(path: str) -> str:
    """An absolute link to a page of the site (``SITE_URL``)."""
    return urljoin(settings.SITE_URL.rstrip("/") + "/", path.lstrip("/"))


def shared_for_week(*, today: datetime.date) -> dict:
    """What every lead POC's digest shows alike, read once per run: the SCM
    the staff are working towards and its readiness (the dashboard's rule)."""
    from .dashboard import next_scm
    from .selectors import readiness_by_year

    readiness = readiness_by_year(today=today)
    return {"readiness": next_scm(readiness, today)}


def _led_projects(poc):
    from projects.models import CooperativeProject

    return CooperativeProject.objects.filter(Q(us_lead_poc=poc) | Q(rok_lead_poc=poc))


def upcoming_engagements(*, poc, today: datetime.date) -> list:
    """Live engagements from ``today`` to 13 days on where ``poc`` is a
    participant or which concern a live project they lead, earliest first."""
    from projects.models import CooperativeProject, Engagement

    attended = Engagement.participants.through.objects.filter(pointofcontact=poc).values("engagement_id")
    about_theirs = Engagement.projects.through.objects.filter(
        cooperativeproject__in=_led_projects(poc).values("pk")).values("engagement_id")
    return list(
        Engagement.objects.filter(date__gte=today, date__lt=today + datetime.timedelta(days=ENGAGEMENT_DAYS))
        .filter(Q(pk__in=attended) | Q(pk__in=about_theirs))
        .prefetch_related(Prefetch("projects", queryset=CooperativeProject.objects.order_by("title")))
        .order_by("date", "id")
    )


def weekly_digest_for(*, poc, today: datetime.date, shared: dict | None = None) -> dict:
    """One lead POC's digest for the week of ``today``:

    ``readiness`` (the YearReadiness of the SCM being worked towards, or None),
    ``awaiting`` (open proposals of the other side awaiting theirs),
    ``overdue`` and ``due_soon`` (their actions, ``actions_due_for``),
    ``milestones`` (overdue milestones of projects they lead, which count like
    overdue actions for a project's lead POCs: ``overdue_milestones_for``),
    ``worsened`` (projects they lead whose health worsened in the past week),
    ``engagements`` (``upcoming_engagements``), and ``counts`` (how many of
    each, the keys of ``COUNT_KEYS``). ``shared`` is ``shared_for_week``'s
    result when the caller sends many digests (read once)."""
    from projects import selectors as project_selectors

    from .dashboard import awaiting_concurrence

    shared = shared if shared is not None else shared_for_week(today=today)
    awaiting = awaiting_concurrence(poc=poc)["yours"]
    overdue, due_soon = project_selectors.actions_due_for(poc=poc, today=today)
    milestones = project_selectors.overdue_milestones_for(poc=poc, today=today)
    worsened = project_selectors.health_worsened(
        since=today - datetime.timedelta(days=HEALTH_LOOKBACK_DAYS), projects=_led_projects(poc))
    engagements = upcoming_engagements(poc=poc, today=today)
    digest = {
        "poc": poc,
        "today": today,
        "week_of": week_start(today),
        "readiness": shared["readiness"],
        "awaiting": list(awaiting),
        "overdue": list(overdue),
        "due_soon": list(due_soon),
        "milestones": list(milestones),
        "worsened": list(worsened),
        "engagements": engagements,
    }
    digest["counts"] = dict(zip(COUNT_KEYS, (len(digest[k]) for k in (
        "awaiting", "overdue", "due_soon", "milestones", "worsened", "engagements")), strict=True))
    return digest


# --- The e-mail ------------------------------------------------------------------------


def _day(value: datetime.date) -> str:
    return date_format(value, "DATE_FORMAT")


def _title(project) -> str:
    return getattr(project, "localized_title", None) or str(project)


def _heading(text: str) -> list[str]:
    # Underlined to the text's width in a fixed-width font (a Hangul syllable takes two columns).
    width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return ["", text, "-" * min(width, 60)]


def _readiness_lines(readiness) -> list[str]:
    from .flag_text import scm_label, waiting_text
    from .selectors import ReadinessState

    if readiness is None:
        return [_("No SCM year to report on yet.")]
    if readiness.state == ReadinessState.UNSCHEDULED or readiness.cycle is None:
        lines = [_("No SCM is recorded for %(year)s: the goal cannot be measured.") % {"year": readiness.year}]
        if readiness.counting_projects:
            lines.append(waiting_text(count=readiness.counting_projects, year=readiness.year))
        return lines
    lines = [
        _("SCM: %(meeting)s") % {"meeting": scm_label(readiness.cycle)},
        _("Readiness: %(state)s") % {"state": readiness.state_label},
        _("Readiness deadline: %(date)s") % {"date": _day(readiness.deadline)},
    ]
    if readiness.days_left >= 0:
        lines.append(_("Days left: %(days)s") % {"days": readiness.days_left})
    else:
        lines.append(ngettext("The deadline passed %(days)d day ago.", "The deadline passed %(days)d days ago.",
                              -readiness.days_left) % {"days": -readiness.days_left})
    lines.append(ngettext("%(count)d project counts for it.", "%(count)d projects count for it.",
                          readiness.counting_projects) % {"count": readiness.counting_projects})
    return lines


def _project_link(project_id: int, anchor: str = "") -> str:
    return "  " + site_link(reverse("projects:detail", args=[project_id])) + anchor


def _action_lines(item) -> list[str]:
    """An action (or a milestone counted like one): title, due date, project."""
    text = _("%(title)s (due %(date)s)") % {"title": item.title, "date": _day(item.due_on)}
    project = getattr(item, "project", None)
    if project is not None:
        text = f"{text} · {_title(project)}"
    lines = [f"- {text}"]
    if project is not None:
        lines.append(_project_link(project.pk))
    return lines


def _section(lines: list[str], title: str, items: list, render, empty: str) -> None:
    lines += _heading(f"{title} ({len(items)})")
    if not items:
        lines.append(empty)
    for item in items:
        lines += render(item)


def _proposal_lines(proposal) -> list[str]:
    proposer = proposal.proposer_poc.full_name if proposal.proposer_poc_id else proposal.get_side_display()
    text = _("“%(title)s”: %(proposer)s (%(side)s) proposes “%(step)s”, since %(date)s") % {
        "title": _title(proposal.project), "proposer": proposer, "side": proposal.get_side_display(),
        "step": proposal.get_step_display(), "date": _day(proposal.proposed_at.date())}
    return [f"- {text}", _project_link(proposal.project_id, "#concurrence")]


def _worsened_lines(project) -> list[str]:
    from projects.models import Health

    def label(value):
        return Health(value).label if value in Health.values else value

    before, now = getattr(project, "previous_health", None), getattr(project, "current_health", None)
    text = _title(project)
    if before and now:
        text = _("%(title)s: %(before)s → %(now)s") % {"title": text, "before": label(before), "now": label(now)}
    return [f"- {text}", _project_link(project.pk)]


def _engagement_lines(engagement) -> list[str]:
    parts = [_day(engagement.date), str(engagement.get_kind_display())]
    if engagement.location:
        parts.append(engagement.location)
    lines = ["- " + " · ".join(parts)]
    summary = " ".join(engagement.summary.split())
    if summary:
        lines.append("  " + (summary[:117] + "…" if len(summary) > 120 else summary))
    projects = list(engagement.projects.all())
    if projects:
        lines.append("  " + _("Projects: %(titles)s") % {"titles": ", ".join(_title(p) for p in projects)})
    lines.append("  " + site_link(reverse("engagements:detail", args=[engagement.pk])))
    return lines


def digest_message(digest: dict) -> tuple[str, str]:
    """Subject and plain-text body of ``digest`` in the active language
    (the caller wraps it in ``translation.override``), with the handling
    marking at the top and bottom."""
    poc = digest["poc"]
    name = poc.full_name_ko if poc.full_name_ko and (get_language() or "").startswith("ko") else poc.full_name
    week = _day(digest["week_of"])
    subject = _("[RCF Tracker] Weekly digest, week of %(date)s") % {"date": week}
    lines = [
        _("Weekly digest for %(name)s, week of %(date)s") % {"name": name, "date": week},
    ]
    readiness = digest["readiness"]
    heading = (_("Readiness for the %(year)s SCM") % {"year": readiness.year} if readiness is not None
               else _("Readiness"))
    lines += _heading(heading)
    lines += _readiness_lines(readiness)
    lines.append(_("Dashboard: %(url)s") % {"url": site_link("/")})

    _section(lines, _("Proposals awaiting your side's concurrence"), digest["awaiting"], _proposal_lines,
             _("None awaiting your side."))
    _section(lines, _("Your overdue actions"), digest["overdue"], _action_lines, _("None overdue."))
    days = settings.RCF_ACTION_DUE_SOON_DAYS
    _section(lines, ngettext("Your actions due in the next %(days)d day", "Your actions due in the next %(days)d days",
                             days) % {"days": days},
             digest["due_soon"], _action_lines, _("None due soon."))
    lines.append(_("All your actions: %(url)s") % {"url": site_link(reverse("actions:list"))})
    _section(lines, _("Overdue milestones of projects you lead"), digest["milestones"], _action_lines,
             _("None overdue."))
    _section(lines, _("Projects you lead whose health worsened this past week"), digest["worsened"],
             _worsened_lines, _("None worsened."))
    _section(lines, _("Engagements in the coming two weeks"), digest["engagements"], _engagement_lines,
             _("None planned."))
    lines += [
        "",
        "--",
        _("You receive this digest as a lead POC. To stop it, or to read it in another language, change your "
          "preferences on your profile page: %(url)s") % {"url": site_link(reverse("profile"))},
    ]
    return subject, marked_email_body("\n".join(lines) + "\n")
