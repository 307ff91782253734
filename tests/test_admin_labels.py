"""Every input of our admin inlines has a name of its own (sos_tracker.admin_mixins).

A tabular inline draws its inputs under column headers, without a <label> each; axe found
42 unnamed inputs there (issue 12). The browser walk (tests/e2e/test_every_page.py) runs
axe on these pages; these tests say what the names are, and that no inline of ours is
left out.
"""

import pytest
from django.contrib import admin

from sos_tracker.admin_mixins import LabelledInline
from tests.auth import log_in
from tests.factories import AlignmentFactory, CapacityCheckInFactory

OUR_APPS = ("members.", "cores.", "accounts.", "audit.")


def test_every_inline_of_ours_names_its_inputs():
    inlines = [
        inline
        for model_admin in admin.site._registry.values()
        if type(model_admin).__module__.startswith(OUR_APPS)
        for inline in model_admin.inlines
    ]
    assert inlines  # the person's check-ins and alignments, the core's milestones, …
    assert [inline for inline in inlines if not issubclass(inline, LabelledInline)] == []


@pytest.mark.django_db
def test_each_row_names_its_inputs_by_row_and_column(client, admin_user, core_a):
    check_in = CapacityCheckInFactory()
    person = check_in.member
    CapacityCheckInFactory(member=person)
    AlignmentFactory(member=person, tendency=core_a.tendency)
    log_in(client, admin_user)

    page = client.get(f"/admin/members/member/{person.pk}/change/").text

    assert 'aria-label="Capacity check-in 1: Date"' in page
    assert 'aria-label="Capacity check-in 2: Strategic skills"' in page
    assert 'aria-label="Capacity check-in 2: Delete"' in page
    assert 'aria-label="Alignment 1: Tendency"' in page
    assert 'aria-label="Alignment 1: Level"' in page
    # The blank row that "Add another" copies is named as a new one.
    assert 'aria-label="New alignment: Tendency"' in page
