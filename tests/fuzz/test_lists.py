"""Every list's query parameters with generated values: the people list and its search, each
admin changelist with each of its list filters, date hierarchy and search, and the admin's
autocomplete. Never a 500; a filter the admin cannot apply is its own "?e=1" answer.
"""

import warnings

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests.auth import log_in
from tests.factories import CapacityCheckInFactory, MemberFactory, SectorFactory
from tests.fuzz.values import HUGE, date_text, fuzz_settings, nasty_text, param_value

ADMINS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def people(db):
    sector = SectorFactory(name="Housing", slug="housing")
    member = MemberFactory(name="Ada Lovelace", sectors=[sector])
    CapacityCheckInFactory(member=member)
    return member


def test_people_list_answers_generated_parameters_without_a_server_error(fuzz, organizer, people):
    log_in(fuzz.client, organizer)

    @fuzz_settings()
    @given(
        params=st.fixed_dictionaries(
            {},
            optional={
                "q": nasty_text,
                "status": param_value,
                "sector": param_value,
                "kind": param_value,
                "page": st.one_of(param_value, st.integers().map(str)),
            },
        )
    )
    def list_people(params):
        fuzz.get(reverse("members:people_list"), params)
        fuzz.get(reverse("members:person_merge_pick", args=[people.pk]), params)

    list_people()
    fuzz.assert_no_server_error()


def _filter_parameters(model_admin, user):
    """The query parameters of `model_admin`'s list filters and date hierarchy."""
    request = RequestFactory().get("/")
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    names = {"q", "o", "p", "e", "all", "_to_field", "_popup"}
    for spec in changelist.filter_specs:
        names.update(spec.expected_parameters())
    if model_admin.date_hierarchy:
        field = model_admin.date_hierarchy
        names.update({f"{field}__year", f"{field}__month", f"{field}__day"})
    return sorted(names)


@pytest.mark.parametrize(
    ("model", "model_admin"), ADMINS, ids=[model._meta.label for model, _ in ADMINS]
)
def test_admin_changelist_filters_answer_generated_values_without_a_server_error(
    fuzz, admin_user, people, model, model_admin
):
    log_in(fuzz.client, admin_user)
    names = _filter_parameters(model_admin, admin_user)
    path = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    @fuzz_settings()
    @given(
        params=st.dictionaries(
            st.sampled_from(names),
            st.one_of(param_value, date_text, st.integers(max_value=10**30).map(str)),
            min_size=1,
            max_size=4,
        )
    )
    def filter_list(params):
        with warnings.catch_warnings():
            # A date typed for a date-and-time filter is read as a naive datetime: Django
            # warns (and the suite turns that warning into an error), but answers fine.
            warnings.filterwarnings("ignore", "DateTimeField .* naive datetime", RuntimeWarning)
            fuzz.get(path, params)

    filter_list()
    fuzz.assert_no_server_error()


AUTOCOMPLETE = [
    ("members", "member", "sectors"),
    ("members", "capacitycheckin", "member"),
    ("members", "capacitycheckin", "assessed_by"),
    ("cores", "alignment", "member"),
    ("cores", "coregroup", "leads"),
    ("cores", "coregroup", "members"),
]


def test_admin_autocomplete_answers_generated_terms_without_a_server_error(
    fuzz, admin_user, people
):
    log_in(fuzz.client, admin_user)

    @fuzz_settings()
    @given(
        source=st.sampled_from(AUTOCOMPLETE),
        term=nasty_text,
        page=st.one_of(param_value, st.just(HUGE)),
        tamper=st.sampled_from(["", "app_label", "model_name", "field_name"]),
        value=param_value,
    )
    def autocomplete(source, term, page, tamper, value):
        params = dict(zip(("app_label", "model_name", "field_name"), source, strict=True))
        if tamper:
            params[tamper] = value
        fuzz.get(reverse("admin:autocomplete"), {**params, "term": term, "page": page})

    autocomplete()
    fuzz.assert_no_server_error()
