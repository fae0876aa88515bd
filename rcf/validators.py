"""What a stored value may be: the bounds of every date and the characters of
every text a user or a sync client can set (issue 9, "no 500 from any stored
value").

**Dates** lie in the years ``YEAR_MIN``–``YEAR_MAX`` (1950–2100). The
framework was launched in 2024 and counts SCM years from 2025; 1950 leaves
room for backfilled history (the alliance's first SCM was in 1968) and 2100
for anything planned. Beyond that a date is a typo (0001-01-01, 9999-12-31),
and it used to reach date arithmetic that overflows (the day before
0001-01-01) or a timeline with one column per year up to 9999. The same
bounds are the database's CHECK constraints (``date_in_bounds``), and the
code that computes with dates stays safe even at and beyond them
(``shift_date``), for a row that predates the constraints.

**Text** may not contain control characters other than tab and line feed
(and carriage return in multi-line fields, where browsers send ``\\r\\n``),
nor characters XML cannot carry (surrogates, U+FFFE, U+FFFF): they are never
typed on purpose, and they broke the XLSX exports for everyone. What was
stored before is made safe where it leaves the system (``printable``, used by
every export).
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

YEAR_MIN = 1950
YEAR_MAX = 2100
DATE_MIN = datetime.date(YEAR_MIN, 1, 1)
DATE_MAX = datetime.date(YEAR_MAX, 12, 31)


@deconstructible
class DateInBounds:
    """A model or form field validator: the date (or datetime) lies between
    ``DATE_MIN`` and ``DATE_MAX``."""

    code = "date_out_of_bounds"

    def __call__(self, value):
        if value is None:
            return
        day = value.date() if isinstance(value, datetime.datetime) else value
        if not DATE_MIN <= day <= DATE_MAX:
            raise ValidationError(
                _("Give a date between %(min)s and %(max)s (got %(value)s)."),
                code=self.code,
                params={"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat(), "value": day.isoformat()},
            )

    def __eq__(self, other):
        return isinstance(other, DateInBounds)

    def __hash__(self):
        return hash(self.code)


date_in_bounds = DateInBounds()


def year_validators() -> list:
    """Validators of a field holding a year (an SCM's year)."""
    return [MinValueValidator(YEAR_MIN), MaxValueValidator(YEAR_MAX)]


def date_bounds_q(name: str, *, nullable: bool = False) -> Q:
    """The CHECK condition that backs ``date_in_bounds`` for field ``name``."""
    condition = Q(**{f"{name}__gte": DATE_MIN, f"{name}__lte": DATE_MAX})
    return Q(**{f"{name}__isnull": True}) | condition if nullable else condition


def year_bounds_q(name: str) -> Q:
    return Q(**{f"{name}__gte": YEAR_MIN, f"{name}__lte": YEAR_MAX})


def shift_date(day: datetime.date | None, days: int) -> datetime.date | None:
    """``day`` moved by ``days``, held at the first or last date Python can
    represent instead of raising ``OverflowError``: a row stored before the
    bounds existed must never take a page down."""
    if day is None:
        return None
    try:
        return day + datetime.timedelta(days=days)
    except OverflowError:
        return datetime.date.max if days > 0 else datetime.date.min


# Characters refused in text: C0 controls except tab (09) and line feed (0A),
# carriage return (0D) only where line breaks belong, DEL is allowed (XML
# carries it); surrogates and the two non-characters XML 1.0 excludes.
_REFUSED_SINGLE_LINE = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")
_REFUSED_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@deconstructible
class NoControlCharacters:
    """A model or form field validator refusing control characters (see the
    module's docstring). ``multiline`` also allows carriage returns."""

    code = "control_characters"

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value):
        if not isinstance(value, str):
            return
        pattern = _REFUSED_MULTI_LINE if self.multiline else _REFUSED_SINGLE_LINE
        found = pattern.search(value)
        if found:
            raise ValidationError(
                _("Remove the control character U+%(code)04X at position %(position)s: only letters, "
                  "punctuation, tabs and line breaks are allowed."),
                code=self.code,
                params={"code": ord(found.group()), "position": found.start() + 1},
            )

    def __eq__(self, other):
        return isinstance(other, NoControlCharacters) and other.multiline == self.multiline

    def __hash__(self):
        return hash((self.code, self.multiline))


no_control_characters = NoControlCharacters()
no_control_characters_multiline = NoControlCharacters(multiline=True)

# What an export must not write, whatever is stored: everything refused above
# (carriage returns are fine in every export format).
_UNPRINTABLE = _REFUSED_MULTI_LINE


def printable(value):
    """``value`` with the characters no export format can carry replaced by
    U+FFFD (visible, so the reader sees that something was there); values
    other than strings unchanged."""
    if isinstance(value, str) and _UNPRINTABLE.search(value):
        return _UNPRINTABLE.sub("\ufffd", value)
    return value


def validate_other_participants(value) -> None:
    """An engagement's participants from outside the POC directory: a list of
    ``{"name": ..., "organization": ...}`` (name required, at most 200
    characters each, plain text). The message names the entry and the key.

    The code is not "invalid": a model field replaces a validator's message
    with its own for a code it knows (JSONField's "Value must be valid JSON.")."""
    if not isinstance(value, list):
        raise ValidationError(_("Give a list of participants, each with a name and an organisation."),
                              code="invalid_participant")
    if len(value) > 200:
        raise ValidationError(_("At most 200 other participants."), code="invalid_participant")
    for index, entry in enumerate(value, start=1):
        if not isinstance(entry, dict) or set(entry) - {"name", "organization"}:
            raise ValidationError(
                _("Participant %(n)s: give an object with only “name” and “organization”."),
                code="invalid_participant", params={"n": index})
        for key in ("name", "organization"):
            text = entry.get(key, "")
            if not isinstance(text, str):
                raise ValidationError(_("Participant %(n)s: “%(key)s” must be text."),
                                      code="invalid_participant", params={"n": index, "key": key})
            if len(text) > 200:
                raise ValidationError(_("Participant %(n)s: “%(key)s” has more than 200 characters."),
                                      code="invalid_participant", params={"n": index, "key": key})
            try:
                no_control_characters(text)
            except ValidationError as error:
                raise ValidationError(
                    _("Participant %(n)s, “%(key)s”: %(reason)s"), code="invalid_participant",
                    params={"n": index, "key": key, "reason": " ".join(error.messages)}) from None
        if not entry.get("name", "").strip():
            raise ValidationError(_("Participant %(n)s: give a name."), code="invalid_participant", params={"n": index})


__all__ = [
    "DATE_MAX",
    "DATE_MIN",
    "YEAR_MAX",
    "YEAR_MIN",
    "date_bounds_q",
    "date_in_bounds",
    "no_control_characters",
    "no_control_characters_multiline",
    "printable",
    "shift_date",
    "validate_other_participants",
    "year_bounds_q",
    "year_validators",
]


def refuse_stored_dates_out_of_bounds(apps, fields: list[tuple[str, str, list[str]]]) -> None:
    """For the migrations that add the CHECK constraints: stop, naming every
    row and field, when a stored date lies outside the bounds.

    Such a row can only come from before the bounds existed. The migration
    does not change it on its own (a meeting date moved to 2100 would be a
    new error, not a fix): the operator corrects or deletes the rows the
    message lists (the admin shows them and its form refuses a date outside
    the bounds) and runs ``migrate`` again. Until then the site keeps
    working: no page computes with such a date without ``shift_date``."""
    from django.core.management.base import CommandError

    problems = []
    for app_label, model_name, names in fields:
        model = apps.get_model(app_label, model_name)
        for name in names:
            outside = model._base_manager.filter(
                Q(**{f"{name}__lt": DATE_MIN}) | Q(**{f"{name}__gt": DATE_MAX})
            ).order_by("pk")
            problems += [f"  {app_label}.{model_name} id {pk}: {name} = {value}"
                         for pk, value in outside.values_list("pk", name)]
    if problems:
        raise CommandError(
            f"Dates must lie between {DATE_MIN} and {DATE_MAX} (rcf/validators.py); these stored ones do not:\n"
            + "\n".join(problems)
            + "\nCorrect or delete them (in the admin, or with SQL), then run migrate again."
        )
