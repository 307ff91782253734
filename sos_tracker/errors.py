"""The server error page (handler500), which must render whatever else is broken.

Django calls handler500 with no request context (no user, session or context processors),
often because the database or a template is what failed. templates/500.html needs none of
them; should even it fail (a missing static manifest, a broken URLconf), a plain page that
needs nothing is sent instead. The 400, 403 and 404 pages are Django's own handlers
rendering templates/400.html, 403.html and 404.html in the site's layout; the CSRF failure
page is templates/403_csrf.html, which django.views.csrf.csrf_failure renders by name.
"""

import logging

from django.http import HttpResponseServerError
from django.template import loader
from django.utils.translation import gettext

logger = logging.getLogger(__name__)

# The last resort: no template, no static file, no URL to reverse.
_PLAIN_PAGE = (
    '<!doctype html><html><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{title} · SOS Tracker</title></head><body><main><h1>{title}</h1><p>{body}</p>"
    '<p><a href="/">{home}</a></p></main></body></html>'
)


def server_error(request, template_name="500.html"):
    """The 500 page: templates/500.html, rendered without a request; a plain page if even
    that fails. Says what to do next and nothing about what went wrong."""
    try:
        body = loader.render_to_string(template_name)
    except Exception:
        # Whatever broke the page must not also break the answer; the first error is
        # already logged by Django's request handler.
        logger.exception("The 500 page could not be rendered; sent the plain one")
        body = _PLAIN_PAGE.format(
            title=gettext("Something went wrong on our side"),
            body=gettext(
                "The site could not finish this request. If you were saving a form, go "
                "back, check, and try again in a minute."
            ),
            home=gettext("Back to the start page"),
        )
    return HttpResponseServerError(body)
