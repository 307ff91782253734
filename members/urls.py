from django.urls import path

from members import views

app_name = "members"
urlpatterns = [
    path("", views.people_list, name="people_list"),
    path("add/", views.person_add, name="person_add"),
    path("export/", views.people_export, name="people_export"),
    path("<int:pk>/", views.person_detail, name="person_detail"),
    path("<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("<int:pk>/check-in/", views.check_in_add, name="check_in_add"),
]
