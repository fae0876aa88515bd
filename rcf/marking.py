"""The handling marking of everything the site puts out (issue 11):
``RCF_HANDLING_MARKING`` (e.g. "UNCLASSIFIED", "CUI"; empty by default) is
shown at the top and bottom of every page, printed in the SCM report PDF's
header and footer, written on the first row of every CSV/XLSX sheet and at the
top and bottom of every e-mail. One place decides what the marking is."""

from django.conf import settings


def handling_marking() -> str:
    """The deployment's handling marking, or "" when none is set."""
    return (getattr(settings, "RCF_HANDLING_MARKING", "") or "").strip()


def marked_email_body(body: str) -> str:
    """``body`` with the marking as its first and last line (unchanged when none is set)."""
    marking = handling_marking()
    if not marking:
        return body
    return f"{marking}\n\n{body.rstrip()}\n\n{marking}\n"
