from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("", views.access_log, name="access_log"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
]
