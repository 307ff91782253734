"""Signing in and out, the second factor and enrolment links (names used project-wide)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import invitation_views, language_views, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", language_views.switch_language, name="set_language"),
    path("account/two-factor/", views.two_factor_setup, name="two_factor"),
    path("account/two-factor/remove/", views.two_factor_remove, name="two_factor_remove"),
    path("account/two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("account/enrol/<uidb64>/<token>/", views.enrol, name="enrol"),
    path("account/invitations/", invitation_views.invitation_list, name="user_invitation_list"),
    path(
        "account/invitations/<int:pk>/revoke/",
        invitation_views.invitation_revoke,
        name="user_invitation_revoke",
    ),
    # The invitee's link: no sign-in needed (login_not_required on the view).
    path("join/<str:token>/", invitation_views.invitation_accept, name="user_invitation_accept"),
]
