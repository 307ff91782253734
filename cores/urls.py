from django.urls import path

from cores.views import alignments, core_page, invitations, review

app_name = "cores"
urlpatterns = [
    path("", core_page.core_list, name="core_list"),
    path("<slug:slug>/", core_page.core_detail, name="core_detail"),
    path("<slug:slug>/phase/next/", core_page.phase_advance, name="phase_advance"),
    path("<slug:slug>/phase/back/", core_page.phase_back, name="phase_back"),
    path(
        "<slug:slug>/milestones/<int:pk>/done/",
        core_page.milestone_done,
        name="milestone_done",
    ),
    path(
        "<slug:slug>/milestones/<int:pk>/reopen/",
        core_page.milestone_reopen,
        name="milestone_reopen",
    ),
    path("<slug:slug>/review/", review.review_queue, name="review_queue"),
    path("<slug:slug>/review/<int:pk>/", review.review_item, name="review_item"),
    path("<slug:slug>/review/<int:pk>/skip/", review.review_skip, name="review_skip"),
    path("<slug:slug>/invitations/", invitations.invitation_list, name="invitation_list"),
    path("<slug:slug>/invitations/add/", invitations.invitation_add, name="invitation_add"),
    path(
        "<slug:slug>/invitations/<int:pk>/",
        invitations.invitation_detail,
        name="invitation_detail",
    ),
]

# The cores' parts of a person's page, under /people/<pk>/ (wired in sos_tracker/urls.py:
# members never imports cores).
person_urlpatterns = [
    path("<int:pk>/alignment/", alignments.state_alignment, name="state_alignment"),
    path("<int:pk>/invite/", invitations.invite_person, name="invite_person"),
]
