"""Every form of the app, posted with generated input: never a 500.

Each test opens the form's page as someone allowed to use it, reads the form's fields from
the page (tests/fuzz/pages.py), and lets hypothesis fill each one with a value the page
offers or a generated one (NUL, control characters, numbers past 64 bits, long and odd
Unicode text, absurd dates). A refusal is a form error or a 4xx; a 500 fails the test.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from members.duplicates import find_duplicates
from members.models import ImportRecord, Member
from tests.auth import log_in
from tests.factories import AlignmentFactory, InvitationFactory, MemberFactory, SectorFactory
from tests.fuzz.pages import read_page
from tests.fuzz.values import HUGE, fuzz_settings, param_value


def _post_form_fields(fuzz, path):
    page = fuzz.get(path)
    assert page.status_code == 200, (path, page.status_code)
    forms, _ = read_page(page.content.decode())
    fields = {}
    for form in forms:
        if form.method == "post" and form.action.split("#")[0] in ("", path):
            fields.update(form.fields)
    assert fields, f"no form on {path}"
    return fields


def _fill(data, fields):
    """Each field: one of the page's own values, or generated input."""
    return {
        name: data.draw(
            st.one_of(st.sampled_from(offered), param_value) if offered else param_value,
            label=name,
        )
        for name, offered in fields.items()
        if name != "csrfmiddlewaretoken"
    }


@pytest.fixture
def scene(db, core_a, lead_a, organizer, admin_user):
    """A person aligned to core_a's tendency and invited to core_a, and an import."""
    person = MemberFactory(name="Assata Olugbala Shakur", email="assata@example.org")
    SectorFactory(name="Housing", slug="housing")
    alignment = AlignmentFactory(member=person, tendency=core_a.tendency)
    invitation = InvitationFactory(core=core_a, member=MemberFactory(name="Kwame Ture"))
    return {"person": person, "alignment": alignment, "invitation": invitation}


def _form_pages(scene, core):
    person, slug = scene["person"], core.slug
    milestone = core.milestones.order_by("pk").first()
    return {
        # name: (role, path)
        "quick add": ("organizer", reverse("members:person_add")),
        "edit": ("organizer", reverse("members:person_edit", args=[person.pk])),
        "check-in": ("organizer", reverse("members:check_in_add", args=[person.pk])),
        "state alignment": ("organizer", f"/people/{person.pk}/alignment/"),
        "invite a person": ("lead_a", f"/people/{person.pk}/invite/"),
        "invitation add": ("lead_a", f"/cores/{slug}/invitations/add/"),
        "invitation update": ("lead_a", f"/cores/{slug}/invitations/{scene['invitation'].pk}/"),
        "review": ("lead_a", f"/cores/{slug}/review/{scene['alignment'].pk}/"),
        "milestone": ("lead_a", f"/cores/{slug}/milestones/{milestone.pk}/done/"),
        "phase forward": ("lead_a", f"/cores/{slug}/phase/next/"),
        "merge pick": ("admin_user", reverse("members:person_merge_pick", args=[person.pk])),
        "user invitations": ("admin_user", "/account/invitations/"),
    }


FORMS = [
    "quick add",
    "edit",
    "check-in",
    "state alignment",
    "invite a person",
    "invitation add",
    "invitation update",
    "review",
    "milestone",
    "phase forward",
    "user invitations",
]
# Forms whose page is the core's page (their POST target is another address).
POSTED_ELSEWHERE = {"milestone", "phase forward"}


@pytest.mark.parametrize("form_name", FORMS)
def test_every_form_answers_generated_input_without_a_server_error(
    request, fuzz, scene, core_a, form_name
):
    role, path = _form_pages(scene, core_a)[form_name]
    log_in(fuzz.client, request.getfixturevalue(role))
    page_path = f"/cores/{core_a.slug}/" if form_name in POSTED_ELSEWHERE else path
    fields = _post_form_fields(fuzz, page_path) if page_path == path else None
    if fields is None:  # read the core page's form that posts to `path`
        page = fuzz.get(page_path)
        forms, _ = read_page(page.content.decode())
        fields = {}
        for form in forms:
            if form.method == "post" and form.action.startswith(path.rsplit("/", 2)[0]):
                fields.update(form.fields)

    @fuzz_settings()
    @given(data=st.data())
    def post_generated(data):
        fuzz.post(path, _fill(data, fields))

    post_generated()
    fuzz.assert_no_server_error()


def test_import_mapping_form_answers_generated_input_without_a_server_error(fuzz, admin_user):
    log_in(fuzz.client, admin_user)
    upload = SimpleUploadedFile(
        "people.csv", b"Name,Email,Phone,City\nAda Lovelace,ada@example.org,5125550123,Austin\n"
    )
    fuzz.post(reverse("members:import_start"), {"file": upload})
    record = ImportRecord.objects.latest("pk")
    path = reverse("members:import_mapping", args=[record.pk])
    fields = _post_form_fields(fuzz, path)

    @fuzz_settings()
    @given(data=st.data())
    def post_generated(data):
        fuzz.post(path, _fill(data, fields))

    post_generated()
    fuzz.assert_no_server_error()


@pytest.mark.parametrize("sector", [HUGE, "-" + HUGE, "1e400", "x\x00", "9" * 5000])
def test_a_sector_beyond_any_id_is_a_form_error_naming_the_field(as_user, organizer, sector):
    person = MemberFactory()

    response = as_user(organizer).post(
        reverse("members:person_edit", args=[person.pk]),
        {"name": person.name, "email": person.email, "sectors": [sector], "status": "member"},
    )

    assert response.status_code == 200
    assert "sectors" in response.context["form"].errors


def test_quick_add_of_a_different_person_keeps_a_long_change_reason_whole(as_user, organizer):
    """Two look-alikes and a long name: the reason names both, past the old 100 characters."""
    name = "Maria " + "Guadalupe " * 12 + "Fernández"
    for n in range(2):
        MemberFactory(name=name, email="", phone=f"(512) 555-010{n}", city="Austin", region="TX")
    contact = {"name": name, "email": "maria.new@example.org", "city": "Austin", "region": "TX"}
    assert len(find_duplicates(**contact)) == 2

    response = as_user(organizer).post(
        reverse("members:person_add"),
        {
            "name": name,
            "email": "maria.new@example.org",
            "city": "Austin",
            "region": "TX",
            "status": "member",
            "joining_story_kind": "other",
            "confirm_different": "yes",
        },
    )

    assert response.status_code == 302
    added = Member.objects.get(email="maria.new@example.org")
    reason = added.history.earliest().history_change_reason or ""
    assert len(reason) > 100
