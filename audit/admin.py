"""The access log and its alerts in the admin: read-only for everyone, superusers included.

Nobody adds, changes or deletes a log entry here (the model and a database trigger refuse
it too); alerts are acknowledged on the home page, where the admins see them.
"""

from django.contrib import admin

from audit.models import AccessLog, Alert
from sos_tracker.admin_mixins import RecordAdmin
from sos_tracker.admin_paging import LargeListAdmin


class ReadOnlyAdmin(RecordAdmin):
    # No actions: "Delete selected" would be offered otherwise.
    actions = None


@admin.register(AccessLog)
class AccessLogAdmin(LargeListAdmin, ReadOnlyAdmin):
    list_display = ["created", "username", "action", "person_id", "record_id", "count", "path"]
    list_filter = ["action"]
    # Searches are kept as hashes, so only the username is searchable here; the app's
    # page (/audit/) filters by person, date range and searched text.
    search_fields = ["=username"]
    # The log grows with every read: counted up to a point, then estimated
    # (sos_tracker.admin_paging). The model's order (newest first) is served by
    # audit_created, the person column by audit_person_created; the other columns would
    # sort the whole log.
    sortable_by = ["created", "person_id"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["last_at", "user", "kind", "amount", "limit", "times", "acknowledged_at"]
    list_filter = ["kind"]
    list_select_related = ["user", "acknowledged_by"]
    show_full_result_count = False
