from django.contrib import admin
from django.urls import include, path

from cores.urls import person_urlpatterns as core_person_urls
from sos_tracker import views

admin.site.site_header = "SOS Tracker administration"
admin.site.site_title = "SOS Tracker admin"
admin.site.index_title = "Data entry and clean-up"

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
