from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cores.urls import person_urlpatterns as core_person_urls
from sos_tracker import views

admin.site.site_header = "SOS Tracker administration"
admin.site.site_title = "SOS Tracker admin"
admin.site.index_title = "Data entry and clean-up"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("account/two-factor/", views.two_factor_setup, name="two_factor"),
    path("account/two-factor/remove/", views.two_factor_remove, name="two_factor_remove"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("people/", include("members.urls")),
    # Its own app namespace: sharing "cores" would make every {% url 'cores:…' %} on these
    # pages look for the name among these two routes only (the current app) and fail.
    path("people/", include((core_person_urls, "core_people"), namespace="core_people")),
    path("cores/", include("cores.urls")),
    path("admin/", admin.site.urls),
]
