from django.contrib import admin


class RecordAdmin(admin.ModelAdmin):
    """A trail the app writes (phase decisions, exports): shown, never added, edited or
    deleted in the admin, so it stays a true record."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
