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
def both_tendencies(core_a, core_b, lead_a, lead_b, one_of_everything):  # noqa: F811
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
