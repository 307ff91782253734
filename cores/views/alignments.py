"""Recording the level a person states toward a tendency, from the person page."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from cores import services
from cores.forms.alignments import StatedAlignmentForm
from cores.models import Alignment, Tendency
from members.models import Member
from sos_tracker import kept_forms


@permission_required(
    ("members.view_member", "cores.add_alignment", "cores.change_alignment"),
    raise_exception=True,
)
def state_alignment(request, pk):
    """Record the level person `pk` states toward a tendency (services.state_alignment).

    GET `?tendency=<id>` preselects a tendency and its current level. A new or changed
    level enters that tendency's review queue; the same level again changes nothing and
    says so. Errors come back on their field with the input kept. 404 for no such person.
    """
    member = get_object_or_404(Member, pk=pk)
    tendencies = list(Tendency.objects.all())
    current = {
        alignment.tendency_id: alignment
        for alignment in Alignment.objects.filter(member=member).select_related("tendency")
    }
    initial = {}
    chosen = next((t for t in tendencies if str(t.pk) == request.GET.get("tendency")), None)
    if chosen is not None:
        initial["tendency"] = chosen.pk
        if chosen.pk in current:
            initial["level"] = current[chosen.pk].level
    form = StatedAlignmentForm(
        request.POST if request.method == "POST" else None,
        tendencies=tendencies,
        initial=initial,
    )
    kept_forms.refill(request, form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        before = current.get(data["tendency"].pk)
        try:
            alignment = services.state_alignment(
                member, data["tendency"], data["level"], by=request.user, on=data["stated_on"]
            )
        except ValidationError as error:
            form.errors_from(error)
        else:
            name = member.preferred_name or member.name
            if before is not None and before.version == alignment.version:
                messages.info(
                    request,
                    _(
                        "%(name)s already stands at “%(level)s” toward %(tendency)s; "
                        "nothing changed."
                    )
                    % {
                        "name": name,
                        "level": alignment.get_level_display(),
                        "tendency": alignment.tendency,
                    },
                )
            else:
                messages.success(
                    request,
                    _(
                        "Recorded %(name)s as “%(level)s” toward %(tendency)s; it waits in "
                        "that tendency's review queue."
                    )
                    % {
                        "name": name,
                        "level": alignment.get_level_display(),
                        "tendency": alignment.tendency,
                    },
                )
            return redirect(member.get_absolute_url() + "#alignment")
    return render(
        request,
        "cores/state_alignment.html",
        {"member": member, "form": form, "alignments": list(current.values())},
    )
