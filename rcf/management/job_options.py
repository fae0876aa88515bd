"""The options every job command shares (flag_unready_years,
send_action_reminders, send_weekly_digest): ``--today``, ``--dry-run`` and
``--json``, with one check of the date a person types."""

import datetime
import json

from django.core.management.base import CommandError

from rcf.selectors import framework_today
from rcf.validators import DATE_MAX, DATE_MIN


def add_job_options(parser, *, today_help: str, json_help: str = "Print the result as JSON.") -> None:
    parser.add_argument("--today", help=today_help)
    parser.add_argument("--dry-run", action="store_true", help="Report what would be done; change and send nothing.")
    parser.add_argument("--json", action="store_true", help=json_help)


def job_today(value: str | None) -> datetime.date:
    """The ``--today`` date (framework today when absent): a clear error for
    anything but a real date within the bounds every stored date keeps
    (rcf.validators), never a traceback from date arithmetic near year 9999."""
    if value is None:
        return framework_today()
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today must be a date in YYYY-MM-DD form, not {value!r}.") from None
    if not DATE_MIN <= day <= DATE_MAX:
        raise CommandError(f"--today must lie between {DATE_MIN} and {DATE_MAX} (got {day}).")
    return day


def json_dumps(payload) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False, default=str)
