"""The project's URLs plus the bare view: the unit `make bench` and `make load` measure in.

Used only by the bench (override_settings(ROOT_URLCONF=...)) and the load run's gunicorn
(sos_tracker.load_settings); production's URLconf never routes to it.
"""

from django.http import HttpResponse
from django.urls import path

from sos_tracker.urls import urlpatterns as project_urlpatterns

BARE_PATH = "bench/bare/"


def bare(request):
    """A signed-in request through every middleware and the session, and nothing else.

    LoginRequiredMiddleware (and the two-factor middleware) stand in front of it as in
    front of every page, so its time is the floor a page is measured against.
    """
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path(BARE_PATH, bare, name="bench_bare"), *project_urlpatterns]
