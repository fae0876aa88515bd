"""How an SCM's number is said: "51st" / "52nd" / "53rd" / "61st" / "111th" in
English, "제51차" in Korean. One function for every place a number is shown
(pages, reports, exports, the calendar feed, e-mails); templates use the
``scm_ordinal`` filter of ``rcf.templatetags.ordinals``."""

from django.utils import translation


def scm_ordinal(number: int, *, language: str | None = None) -> str:
    """``number`` as an ordinal in ``language`` (default: the active one).

    English takes the suffix of the last digit, except 11-13 of every hundred
    ("111th", not "111st"); Korean counts sessions with 제…차. Anything that
    is not a whole number is shown as it is.
    """
    try:
        n = int(number)
    except (TypeError, ValueError):
        return "" if number is None else str(number)
    language = (language or translation.get_language() or "en").lower()
    if language.split("-")[0] == "ko":
        return f"제{n}차"
    if 11 <= abs(n) % 100 <= 13:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(abs(n) % 10, "th")
    return f"{n}{suffix}"
