from django.db.models import Count, Q
from django.shortcuts import render

from cores.models import CoreGroup, ReviewState
from members.models import Member, MemberStatus


def home(request):
    """The start page: the network at a glance and the cores the user leads."""
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
    return render(
        request,
        "home.html",
        {"counts": counts, "cores": cores, "led_ids": led_ids},
    )
