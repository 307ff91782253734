"""Each tendency's review notes are invisible to everyone but its own leads: a walk.

Markers are planted in the notes of both tendencies, on a person who explores both and
whom both cores are in conversation with. Then every address the project serves (the
URLconf walked with real rows, the admin included) and every link found on those pages
is opened as each role; the other tendency's marker must appear nowhere: pages, htmx
partials, history, the admin, exports. The lead's own marker must appear on their own
pages, so the walk is known to reach where notes are shown.
"""

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth.models import Permission

from cores.models import InvitationStage
from cores.services import add_review_note, move_invitation
from tests.auth import log_in
from tests.factories import (
    AlignmentFactory,
    InvitationFactory,
    MemberFactory,
    UserFactory,
)
from tests.test_auth import concrete_path, every_route, one_of_everything  # noqa: F401 (fixture)

MARKER_A = "MARKER-ONLY-FOR-DEMOCRATIC-FRONT"
MARKER_B = "MARKER-ONLY-FOR-DUAL-POWER"
SKIP_PREFIXES = ("/static/", "/logout/", "/admin/logout/", "/login/")
# Enough for every page of this small data set and the links on them.
MAX_PAGES = 400


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


@pytest.fixture
def both_tendencies(noted_person, one_of_everything):  # noqa: F811
    """The noted person, and a row of every model the URLs name."""
    return noted_person


@pytest.fixture
def noted_person(core_a, core_b, lead_a, lead_b):
    """A person exploring both tendencies, reviewed by each lead with a marked note,
    and in conversation with both cores."""
    person = MemberFactory(name="Walter Rodney")
    for core, lead, marker in ((core_a, lead_a, MARKER_A), (core_b, lead_b, MARKER_B)):
        alignment = AlignmentFactory(member=person, tendency=core.tendency)
        add_review_note(alignment, by=lead, body=f"{marker} private judgement")
        invitation = InvitationFactory(core=core, member=person, note="Met at the assembly.")
        move_invitation(invitation, InvitationStage.INVITED, by=lead)
        move_invitation(invitation, InvitationStage.IN_CONVERSATION, by=lead)
    return person


@pytest.fixture
def staff_non_lead(db):
    """Staff with every view permission of our apps, no lead role: sees the admin."""
    user = UserFactory(username="stella", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["members", "cores"], codename__startswith="view_"
        )
    )
    user.user_permissions.add(Permission.objects.get(codename="export_people"))
    return user


def walk(client, start_paths):
    """GET every path and every same-site link on the pages reached; yield (path, text)."""
    seen, queue = set(), list(start_paths)
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen or path.startswith(SKIP_PREFIXES):
            continue
        seen.add(path)
        response = client.get(path)
        text = response.content.decode(errors="replace")
        yield path, text
        if response.get("Content-Type", "").startswith("text/html"):
            parser = Links()
            parser.feed(text)
            for href in parser.hrefs:
                parts = urlsplit(urljoin(path, href))
                if parts.netloc or parts.scheme in ("mailto", "tel"):
                    continue
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))


def start_paths(person):
    paths = [concrete_path(route, pattern) for route, pattern in every_route()]
    paths += [
        person.get_absolute_url(),
        "/people/?q=Walter",
        "/people/export/?format=csv&q=Walter",
        "/people/export/?format=xlsx&q=Walter",
    ]
    return paths


@pytest.mark.parametrize(
    ("role", "own_marker", "others_marker"),
    [
        ("lead_a", MARKER_A, MARKER_B),
        ("lead_b", MARKER_B, MARKER_A),
        ("organizer", None, (MARKER_A, MARKER_B)),
        ("staff_non_lead", None, (MARKER_A, MARKER_B)),
    ],
)
def test_no_one_finds_another_tendencys_notes_anywhere(
    request, client, both_tendencies, role, own_marker, others_marker
):
    user = request.getfixturevalue(role)
    log_in(client, user)
    forbidden = others_marker if isinstance(others_marker, tuple) else (others_marker,)
    found_own = []
    walked = 0
    for path, text in walk(client, start_paths(both_tendencies)):
        walked += 1
        for marker in forbidden:
            assert marker not in text, f"{role} saw {marker} at {path}"
        if own_marker and own_marker in text:
            found_own.append(path)
    # htmx partial of the people list, which answers with the results only.
    partial = client.get("/people/?q=Walter", headers={"HX-Request": "true"}).text
    assert not any(marker in partial for marker in forbidden)
    assert walked > 50
    if own_marker:
        # The walk reaches the pages that show notes: the person page and the queue item.
        assert any(path == both_tendencies.get_absolute_url() for path in found_own), found_own
        assert any("/review/" in path for path in found_own), found_own


# --- the admin's lookups ----------------------------------------------------------------
# A changelist must not tell which rows have notes a user may not read: no filter, lookup,
# search or ordering through a review note. Every changelist is asked, as each role, with
# every path from its model to ReviewNote that _meta offers; the answers are compared
# with those given once the notes the user may not read are gone. Any difference is a
# leak of their existence.

# How deep the paths to a note are followed (relations crossed), and how many per model.
PATH_DEPTH = 4
PATHS_PER_MODEL = 3


def paths_to_notes(model, depth=PATH_DEPTH):
    """Lookup paths from `model` to ReviewNote ("alignments__review_notes"), shortest
    first, following every visible forward and reverse relation, no model twice."""
    from cores.models import ReviewNote

    found, queue = [], [(model, "", {model})]
    while queue and len(found) < PATHS_PER_MODEL:
        current, prefix, seen = queue.pop(0)
        for field in current._meta.get_fields():
            related = getattr(field, "related_model", None)
            if not field.is_relation or related is None or isinstance(related, str):
                continue
            path = f"{prefix}{field.name}"
            if related is ReviewNote:
                found.append(path)
            elif related not in seen and path.count("__") < depth - 1:
                queue.append((related, f"{path}__", seen | {related}))
    return found[:PATHS_PER_MODEL]


def lookups_for(model_admin, other_lead):
    """Query strings probing one changelist: lookups through every path to a note, each
    sortable column, searches for the notes' words, and the filters' counts."""
    probes = [{}, {"_facets": "1"}, {"q": "private judgement"}, {"q": "MARKER"}]
    for path in paths_to_notes(model_admin.model):
        probes += [
            {f"{path}__isnull": "False"},
            {f"{path}__body__icontains": "MARKER"},
            {f"{path}__author": str(other_lead.pk)},
            {f"{path}__id__gte": "1"},
        ]
    # One direction is enough: an order that depended on hidden notes differs either way.
    probes += [{"o": str(index)} for index in range(len(model_admin.list_display))]
    return probes


def changelist_answers(client, probes_by_url):
    """(status, result pks in order, counts, filter counts) per probe, and the texts."""
    answers, texts = {}, []
    for url, probes in probes_by_url.items():
        for probe in probes:
            response = client.get(url, probe)
            key = (url, tuple(sorted(probe.items())))
            cl = (response.context or {}).get("cl") if response.status_code == 200 else None
            if cl is None:
                answers[key] = (response.status_code,)
            else:
                facets = [
                    (str(choice.get("display")), choice.get("count"))
                    for spec in cl.filter_specs
                    for choice in spec.choices(cl)
                ]
                answers[key] = (
                    response.status_code,
                    [obj.pk for obj in cl.result_list],
                    cl.result_count,
                    cl.full_result_count,
                    facets,
                )
            texts.append((key, response.content.decode(errors="replace")))
    return answers, texts


@pytest.fixture
def admin_cast(request, lead_a, lead_b, organizer, staff_non_lead):
    """The roles of the walk, each with admin access (staff), scoped by their permissions."""
    for user in (lead_a, lead_b, organizer):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return {"lead_a": lead_a, "lead_b": lead_b, "organizer": organizer, "staff": staff_non_lead}


@pytest.mark.parametrize(
    ("role", "other_lead"),
    [("lead_a", "lead_b"), ("lead_b", "lead_a"), ("organizer", "lead_a"), ("staff", "lead_b")],
)
def test_no_changelist_lookup_tells_which_rows_have_notes_one_may_not_read(
    client, noted_person, core_b, admin_cast, role, other_lead
):
    from django.contrib import admin
    from django.urls import reverse

    from cores.models import Alignment, ReviewNote

    user, other = admin_cast[role], admin_cast[other_lead]
    # Alignments of both tendencies without notes beside the ones with: a lookup that
    # told them apart would show.
    for name in ("Claudia Jones", "Thomas Sankara"):
        AlignmentFactory(member=MemberFactory(name=name), tendency=core_b.tendency)
    log_in(client, user)
    probes = {
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"): lookups_for(
            model_admin, other
        )
        for model, model_admin in admin.site._registry.items()
    }
    assert any("review_notes" in str(p) for url in probes for p in probes[url])
    with_notes, texts = changelist_answers(client, probes)
    unreadable = ReviewNote.objects.exclude(pk__in=ReviewNote.objects.visible_to(user))
    hidden_markers = {MARKER_A, MARKER_B} - {
        marker
        for marker in (MARKER_A, MARKER_B)
        if ReviewNote.objects.visible_to(user).filter(body__contains=marker).exists()
    }
    assert hidden_markers
    assert unreadable.exists()
    unreadable.delete()
    without_notes, more_texts = changelist_answers(client, probes)
    for key, text in texts + more_texts:
        for marker in hidden_markers:
            assert marker not in text, f"{role} saw {marker} at {key}"
    leaks = [key for key in with_notes if with_notes[key] != without_notes[key]]
    assert not leaks, f"{role}: answers change with notes they may not read: {leaks[:5]}"
    statuses = {answer[0] for answer in with_notes.values()}
    assert 500 not in statuses
    # The walk reached changelists (not only refusals): the alignments' at least.
    alignments = reverse("admin:cores_alignment_changelist")
    assert with_notes[(alignments, ())][0] == 200
    assert Alignment.objects.exists()


def test_a_lookup_through_notes_is_refused_not_answered(client, noted_person, admin_cast):
    """The attack as found: a lead filters the alignments by "has notes"."""
    log_in(client, admin_cast["lead_a"])
    for probe in (
        "review_notes__isnull=False",
        "review_notes__gte=1",
        "review_notes__body__icontains=MARKER",
    ):
        response = client.get(f"/admin/cores/alignment/?{probe}")
        assert response.status_code == 400, probe
    response = client.get("/admin/members/member/?alignments__review_notes__isnull=False")
    assert response.status_code == 400
