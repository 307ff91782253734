"""The check-in form shows, beside each capacity, the person's score at the last check-in."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.forms import CheckInForm
from tests.factories import CapacityCheckInFactory, MemberFactory

pytestmark = pytest.mark.django_db


def _form(client, person):
    response = client.get(reverse("members:check_in_add", args=[person.pk]))
    assert response.status_code == 200
    return response


def test_each_capacity_shows_the_last_check_ins_score_and_date(as_user, organizer):
    person = MemberFactory()
    CapacityCheckInFactory(member=person, checked_on=dt.date(2023, 5, 1), strategic_skills=1)
    CapacityCheckInFactory(
        member=person,
        checked_on=dt.date(2025, 3, 7),
        strategic_skills=4,
        political_organizing_skills=2,
        social_emotional_capacities=5,
        organization_building_skills=3,
    )
    # Recorded later but dated earlier: "last" is the latest by date, not by entry.
    CapacityCheckInFactory(member=person, checked_on=dt.date(2024, 1, 2), strategic_skills=2)

    response = _form(as_user(organizer), person)
    form = response.context["form"]
    assert form.fields["strategic_skills"].help_text == "Last check-in: 4 on Mar 7, 2025."
    assert form.fields["political_organizing_skills"].help_text == (
        "Last check-in: 2 on Mar 7, 2025."
    )
    assert form.fields["social_emotional_capacities"].help_text == (
        "Last check-in: 5 on Mar 7, 2025."
    )
    body = response.content.decode()
    assert "Last check-in: 3 on Mar 7, 2025." in body


def test_a_first_check_in_says_there_is_no_earlier_one(as_user, organizer):
    person = MemberFactory()
    response = _form(as_user(organizer), person)
    for name in ("strategic_skills", "organization_building_skills"):
        assert response.context["form"].fields[name].help_text == "No earlier check-in."
    assert response.content.decode().count("No earlier check-in.") == 4


def test_the_last_score_is_tied_to_its_radio_group_for_screen_readers(as_user, organizer):
    person = MemberFactory()
    CapacityCheckInFactory(member=person, checked_on=dt.date(2025, 3, 7), strategic_skills=4)
    body = _form(as_user(organizer), person).content.decode()
    # Django's field group describes the fieldset by its help text.
    assert 'id="id_strategic_skills_helptext"' in body
    assert 'aria-describedby="id_strategic_skills_helptext"' in body


def test_a_refused_check_in_keeps_the_last_scores_and_what_was_typed(as_user, organizer):
    person = MemberFactory()
    CapacityCheckInFactory(member=person, checked_on=dt.date(2025, 3, 7), strategic_skills=4)
    response = as_user(organizer).post(
        reverse("members:check_in_add", args=[person.pk]),
        {"checked_on": "2025-04-01", "strategic_skills": "5", "note": "Kept"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["political_organizing_skills"] == ["Choose a score from 1 to 5."]
    assert form.fields["strategic_skills"].help_text == "Last check-in: 4 on Mar 7, 2025."
    assert form["note"].value() == "Kept"


def test_the_last_check_in_costs_one_query_whatever_their_number(as_user, organizer):
    client = as_user(organizer)
    person = MemberFactory()
    CapacityCheckInFactory(member=person, checked_on=dt.date(2020, 1, 1))
    url = reverse("members:check_in_add", args=[person.pk])
    few = _count(client, url)
    CapacityCheckInFactory.create_batch(30, member=person, checked_on=dt.date(2021, 1, 1))
    many = _count(client, url)
    # session, user, user's groups (two-factor check), user's permissions, group
    # permissions, the person, the last check-in
    assert few == many == 7


def test_the_form_alone_needs_no_last_check_in():
    form = CheckInForm()
    assert form.fields["strategic_skills"].help_text == "No earlier check-in."


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)
