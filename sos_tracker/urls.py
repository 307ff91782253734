from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy

from cores.urls import person_urlpatterns as core_person_urls
from sos_tracker import views

admin.site.site_header = gettext_lazy("SOS Tracker administration")
admin.site.site_title = gettext_lazy("SOS Tracker admin")
admin.site.index_title = gettext_lazy("Data entry and clean-up")

# 400, 403 and 404 are Django's handlers with our templates; the 500 page must render
# whatever else failed, so it has its own (sos_tracker/errors.py).
handler500 = "sos_tracker.errors.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    # Signing in and out, the second factor, enrolment links (and invitations).
    path("", include("accounts.urls")),
    path("people/", include("members.urls")),
    # Its own app namespace: sharing "cores" would make every {% url 'cores:…' %} on these
    # pages look for the name among these two routes only (the current app) and fail.
    path("people/", include((core_person_urls, "core_people"), namespace="core_people")),
    path("cores/", include("cores.urls")),
    path("audit/", include("audit.urls")),
    path("admin/", admin.site.urls),
]
