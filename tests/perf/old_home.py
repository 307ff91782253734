"""The home page as it was before issue 9's dashboard (commit a3c0fe4, sos_tracker.views.home),
served at /perf/old-home/ only in the cost tests, to show the cost check fails it.

Its two Count(..., distinct=True) join each core's members to its tendency's alignments:
every member row times every alignment row, which planned 1.7 billion rows at 100,000
people. Its pinned query count (7) never saw it. The template is the old table, inline.
"""

from django.db.models import Count, Q
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from cores.models import CoreGroup, ReviewState
from members.models import Member, MemberStatus
from sos_tracker.urls import urlpatterns as project_urls

TABLE = engines["django"].from_string(
    "<p>{{ counts.members }} members, {{ counts.prospects }} prospects</p><table>"
    "{% for core in cores %}<tr><th>{{ core.name }}{% if core.pk in led_ids %} (you lead)"
    "{% endif %}</th><td>{{ core.tendency }}</td><td>{{ core.get_phase_display }}</td>"
    "<td>{{ core.member_count }}</td><td>{{ core.queue }}</td></tr>{% endfor %}</table>"
)


def old_home(request):
    """The start page of commit a3c0fe4, word for word but for the template."""
    counts = Member.objects.aggregate(
        members=Count("pk", filter=Q(status=MemberStatus.MEMBER)),
        prospects=Count("pk", filter=Q(status=MemberStatus.PROSPECT)),
    )
    cores = CoreGroup.objects.select_related("tendency").annotate(
        queue=Count(
            "tendency__alignments",
            filter=Q(tendency__alignments__review_state=ReviewState.NEEDS_REVIEW),
            distinct=True,
        ),
        member_count=Count("members", distinct=True),
    )
    led_ids = set(request.user.led_cores.values_list("pk", flat=True))
    context = {"counts": counts, "cores": cores, "led_ids": led_ids}
    return HttpResponse(TABLE.render(context, request))


# The project's URLs, and the old home page beside them (ROOT_URLCONF in tests/perf).
urlpatterns = [path("perf/old-home/", old_home, name="old_home"), *project_urls]
