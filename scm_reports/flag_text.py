"""What a readiness flag says, rendered from its data (year, kind, SCM,
deadline, waiting projects) in the active language when it is shown or
e-mailed: a Korean reader sees Korean, whatever language the job ran in.
Nothing here is stored; ``ReadinessFlag.detail`` (English sentences of
earlier releases) is no longer shown."""

from __future__ import annotations

import datetime

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rcf.ordinals import scm_ordinal

from .models import FlagKind, ReadinessFlag


def flag_deadline(flag: ReadinessFlag) -> datetime.date | None:
    """The deadline the flag was raised against (its cycle's, for flags
    raised before the flag kept its own)."""
    if flag.deadline is not None or flag.scm_cycle is None:
        return flag.deadline
    from .selectors import cycle_deadline

    return cycle_deadline(flag.scm_cycle)


def _day(value: datetime.date) -> str:
    return date_format(value, "DATE_FORMAT")


def scm_label(cycle) -> str:
    """'57th SCM on 4 Nov 2025 in Seoul' / '제57차 SCM (2025년 11월 4일, Seoul)'."""
    values = {"ordinal": scm_ordinal(cycle.number), "date": _day(cycle.meeting_date), "place": cycle.location}
    if cycle.location:
        return _("%(ordinal)s SCM on %(date)s in %(place)s") % values
    return _("%(ordinal)s SCM on %(date)s") % values


def waiting_text(*, count: int, year: int) -> str:
    return ngettext(
        "%(count)d ready project is waiting for the %(year)s SCM to be recorded.",
        "%(count)d ready projects are waiting for the %(year)s SCM to be recorded.",
        count,
    ) % {"count": count, "year": year}


def flag_text(flag: ReadinessFlag, *, today: datetime.date) -> str:
    """One or two sentences on what the flag means as of ``today``."""
    cycle = flag.scm_cycle
    if flag.kind == FlagKind.UNSCHEDULED or cycle is None:
        text = _("No SCM is recorded for %(year)s: the goal cannot be measured.") % {"year": flag.year}
        if flag.counting_projects:
            text = f"{text} {waiting_text(count=flag.counting_projects, year=flag.year)}"
        return text
    deadline = flag_deadline(flag)
    values = {"scm": scm_label(cycle), "deadline": _day(deadline)}
    if flag.kind == FlagKind.MISSED or today > deadline:
        return _("%(scm)s, readiness deadline %(deadline)s: no project became ready in time.") % values
    days = (deadline - today).days
    return ngettext(
        "%(scm)s, readiness deadline %(deadline)s: %(days)d day left, and no project is ready yet.",
        "%(scm)s, readiness deadline %(deadline)s: %(days)d days left, and no project is ready yet.",
        days,
    ) % {**values, "days": days}


def flag_subject(flag: ReadinessFlag) -> str:
    """The subject of the notice e-mail about ``flag``."""
    values = {"year": flag.year, "kind": str(flag.get_kind_display()).lower()}
    if flag.scm_cycle is not None:
        return _("[RCF Tracker] %(year)s: readiness %(kind)s (%(ordinal)s SCM)") % {
            **values, "ordinal": scm_ordinal(flag.scm_cycle.number)}
    return _("[RCF Tracker] %(year)s: readiness %(kind)s") % values


def notice_body(flag: ReadinessFlag, *, today: datetime.date, site_url: str) -> str:
    """The notice e-mail's text: the goal's state, the SCM and the flag."""
    lines = [_("The framework's goal for %(year)s is %(kind)s.") % {
        "year": flag.year, "kind": str(flag.get_kind_display()).lower()}, ""]
    cycle = flag.scm_cycle
    if cycle is not None:
        deadline = flag_deadline(flag)
        meeting = _("%(ordinal)s Security Consultative Meeting, %(date)s") % {
            "ordinal": scm_ordinal(cycle.number), "date": _day(cycle.meeting_date)}
        if cycle.location:
            meeting = f"{meeting}, {cycle.location}"
        lines += [
            _("SCM: %(meeting)s") % {"meeting": meeting},
            _("Readiness deadline: %(date)s") % {"date": _day(deadline)},
            _("Days left: %(days)s") % {"days": max((deadline - today).days, 0)},
        ]
    lines += ["", flag_text(flag, today=today), "", _("Dashboard: %(url)s") % {"url": f"{site_url.rstrip('/')}/"}]
    return "\n".join(lines)
