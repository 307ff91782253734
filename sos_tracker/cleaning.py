"""One cleaning step for everything typed into a request, before any view sees it.

Why a middleware and not each form: the values that reached the database with a NUL in
them came through paths no form of ours owns (the admin's search `q`, its list filters,
its autocomplete `term`, a duplicate check fed from raw POST data). PostgreSQL refuses a
NUL in text ("A string literal cannot contain NUL"), so each was a 500 there and a
silently stored invisible byte on SQLite. Cleaning request.GET and request.POST once, here,
covers our pages and the admin alike, and a page added tomorrow without thinking of it.

What is removed is what no field can hold: NUL and the other control characters (C0 and
C1), except tab, line feed and carriage return, which multi-line text keeps. The finer,
field-aware rules (zero-width characters, Unicode composition, a vertical tab read as a
line break in a note) stay in members.text.clean_text, which the forms and the import
call; a file's contents are the import's to clean (members.importing).

A query parameter longer than settings.MAX_QUERY_PARAM_LENGTH is refused with a 400
naming it: no search box or filter of ours needs that much, and a megabyte-long `q` only
costs the database a scan.
"""

import re

from django.conf import settings
from django.http import HttpResponseBadRequest, QueryDict
from django.template.loader import render_to_string
from django.utils.translation import gettext

# C0 controls but tab (\x09), line feed (\x0a) and carriage return (\x0d); DEL; C1 controls.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """`text` without NUL and the other control characters; tabs and line breaks kept.

    "Ada\\x00 Lovelace" -> "Ada Lovelace"; "line one\\nline two" unchanged. Never raises.
    """
    return _CONTROLS.sub("", text)


def cleaned_query_dict(data: QueryDict) -> QueryDict:
    """A copy of `data` (request.GET or request.POST) with strip_controls applied to every
    key and value; `data` itself when there was nothing to remove (the common case).

    The copy is immutable, like the one Django builds. Files (request.FILES) are untouched.
    """
    if not any(
        _CONTROLS.search(key) or any(_CONTROLS.search(value) for value in values)
        for key, values in data.lists()
    ):
        return data
    cleaned = QueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        cleaned.setlist(strip_controls(key), [strip_controls(value) for value in values])
    cleaned._mutable = False
    return cleaned


def overlong_param(data: QueryDict, limit: int) -> str | None:
    """The name of the first parameter of `data` whose name or a value exceeds `limit`
    characters, or None."""
    for key, values in data.lists():
        if len(key) > limit or any(len(value) > limit for value in values):
            return key[:60]
    return None


class InputCleaningMiddleware:
    """Cleans request.GET and request.POST (strip_controls) and refuses overlong query
    parameters, for every view, the admin's included.

    Placed after CsrfViewMiddleware: the form data it cleans is the form data CSRF has just
    read, so nothing is parsed earlier than before. A view exempt from CSRF may want to
    set its own upload handlers before the body is read, so its POST is left to its form.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        limit = settings.MAX_QUERY_PARAM_LENGTH
        too_long = overlong_param(request.GET, limit)
        if too_long is not None:
            return HttpResponseBadRequest(
                render_to_string(
                    "400.html",
                    {
                        "problem": gettext(
                            "The address's “%(parameter)s” is longer than %(limit)s characters."
                        )
                        % {"parameter": too_long, "limit": limit}
                    },
                    request=request,
                )
            )
        request.GET = cleaned_query_dict(request.GET)
        if request.method == "POST" and not getattr(view_func, "csrf_exempt", False):
            request.POST = cleaned_query_dict(request.POST)
        return None
