from django.urls import path

from members import views
from members.importing import views as import_views

app_name = "members"
urlpatterns = [
    path("", views.people_list, name="people_list"),
    path("add/", views.person_add, name="person_add"),
    path("export/", views.people_export, name="people_export"),
    path("<int:pk>/", views.person_detail, name="person_detail"),
    path("<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("<int:pk>/check-in/", views.check_in_add, name="check_in_add"),
    path("<int:pk>/merge/", views.person_merge_pick, name="person_merge_pick"),
    path("<int:pk>/merge/<int:other_pk>/", views.person_merge, name="person_merge"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
    path("retention/", views.retention_list, name="retention_list"),
    path("retention/<int:pk>/keep/", views.retention_keep, name="retention_keep"),
    path("import/", import_views.import_start, name="import_start"),
    path("import/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("import/<int:pk>/columns/", import_views.import_mapping, name="import_mapping"),
    path("import/<int:pk>/sectors/", import_views.import_sectors, name="import_sectors"),
    path("import/<int:pk>/decide/", import_views.import_decide, name="import_decide"),
    path("import/<int:pk>/apply/", import_views.import_apply, name="import_apply"),
    path("import/<int:pk>/undo/", import_views.import_undo, name="import_undo"),
    path("import/<int:pk>/discard/", import_views.import_discard, name="import_discard"),
    path(
        "import/<int:pk>/rejected.csv",
        import_views.import_rejected_csv,
        name="import_rejected_csv",
    ),
]
