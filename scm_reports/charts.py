"""Geometry for the dashboard's drawings, computed here and drawn by
templates with CSS (no JavaScript, no CDN). A drawing is decoration beside
text that says the same (``aria-hidden``): never the only way to read a
figure, never a container of links."""

import datetime
import math

from rcf.validators import shift_date


def _clamp(value: float) -> float:
    return round(min(max(value, 0.0), 100.0), 2)


def readiness_window(row, *, today: datetime.date, ready_days=()) -> dict | None:
    """Where things fall on one SCM year's readiness window, in percent of its
    width: the window runs from its first day to the SCM meeting; the at-risk
    part is the readiness rule's (``YearReadiness.at_risk_from`` to the
    deadline); the days projects became ready are dots; today is a line when
    it falls inside. None for a year with no SCM recorded (no window yet).

    A day is drawn as the interval [day, day + 1), so the deadline's own day
    is inside the at-risk part and a project ready on it is a dot there.
    Dots are placed to the whole percent, rounded down (a dot never moves past
    its day's end, the deadline's line included): at most 101 a year, whatever the data."""
    if row.deadline is None or row.window_start is None:
        return None
    start = row.window_start
    end = shift_date(max(row.meeting_date or row.deadline, row.deadline), 1)  # the day after the meeting
    span = max((end - start).days, 1)

    def at(day: datetime.date, half: bool = False) -> float:
        return _clamp(((day - start).days + (0.5 if half else 0)) / span * 100)

    after_deadline = shift_date(row.deadline, 1)
    risk_from = max(row.at_risk_from, start)
    return {
        "start": start,
        "at_risk_from": row.at_risk_from,
        "risk_left": at(risk_from),
        "risk_width": round(at(after_deadline) - at(risk_from), 2),
        "deadline_at": at(after_deadline),
        "elapsed": at(today, half=True) if today >= start else 0.0,
        "today_at": at(today, half=True) if start <= today < end else None,
        # One dot per percent of the width at most: a dot is wider than that, and a busy year (a project
        # ready most days) would otherwise draw hundreds of them on top of each other.
        "dots": sorted({float(math.floor(at(day, half=True))) for day in ready_days
                        if day is not None and start <= day < end}),
    }
