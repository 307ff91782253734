"""Small helpers for text built in Python in the reader's language (issue 12).

Dates inside a sentence follow the active language through Django's formats
(sos_tracker/formats): "stated on Mar 14, 2025" in English, "14 de marzo de 2025" in
Spanish; a string never spells a date itself (locale/README.md).
"""

from django.utils.formats import date_format, time_format
from django.utils.translation import gettext


def sentence_date(value) -> str:
    """A date as it reads inside a sentence: "Mar 14, 2025" (DATE_FORMAT)."""
    return date_format(value, "DATE_FORMAT")


def sentence_datetime(value) -> str:
    """A local datetime as it reads inside a sentence: "Mar 14, 2025 at 09:30"."""
    return gettext("%(date)s at %(time)s") % {
        "date": date_format(value, "DATE_FORMAT"),
        "time": time_format(value, "H:i"),
    }
