"""The access log for the admins who audit it, and acknowledging bulk-access alerts.

The log's rows name people by id; this page is where they get names, and only for a
reader who may see people (members.view_member): an auditor without it sees numbers.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.alerts import AUDIT_PERMISSION, acknowledge_alert
from audit.forms import AccessLogFilterForm
from audit.models import AccessLog, Action, Alert
from members.models import Member

PAGE_SIZE = 100
can_audit = permission_required(AUDIT_PERMISSION, raise_exception=True)


@can_audit
def access_log(request):
    """The log, newest first, filtered; pages by offset without counting the log."""
    filters = AccessLogFilterForm(request.GET)
    valid = filters.is_valid()
    entries = filters.apply(AccessLog.objects.all()) if valid else AccessLog.objects.none()
    number = (filters.cleaned_data.get("page") if valid else None) or 1
    offset = (number - 1) * PAGE_SIZE
    rows = list(entries.select_related("user")[offset : offset + PAGE_SIZE + 1])
    has_next, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    names = _names(request.user, rows)
    for entry in rows:
        entry.person_name = names.get(entry.person_id)
    query = urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])
    return render(
        request,
        "audit/access_log.html",
        {
            "filters": filters,
            "entries": rows,
            "page": number,
            "has_next": has_next,
            "query_string": query,
            "show_names": request.user.has_perm("members.view_member"),
            "Action": Action,
        },
    )


def _names(user, entries) -> dict[int, str]:
    """The names of the people the entries opened, for a reader who may see people."""
    if not user.has_perm("members.view_member"):
        return {}
    ids = {entry.person_id for entry in entries if entry.person_id}
    if not ids:
        return {}
    return dict(Member.objects.filter(pk__in=ids).values_list("pk", "name"))


@can_audit
@require_POST
def alert_acknowledge(request, pk):
    alert = get_object_or_404(Alert.objects.select_related("user"), pk=pk)
    if acknowledge_alert(alert, by=request.user):
        messages.success(
            request, _("Acknowledged the alert about %(user)s.") % {"user": alert.user}
        )
    else:
        messages.info(request, _("Another admin had already acknowledged that alert."))
    return redirect("home")
