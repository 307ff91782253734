"""Every read of people is written to the access log: person pages, searches, exports and
imports (audit.log.record is the one writer)."""

from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.log import normalise_query, record, search_hash
from audit.models import AccessLog, Action
from members.importing import applying
from tests.factories import MemberFactory


def only_entry(**filters):
    entries = list(AccessLog.objects.filter(**filters))
    assert len(entries) == 1, entries
    return entries[0]


def test_opening_a_person_page_is_logged_with_who_what_and_where(as_user, organizer):
    person = MemberFactory()
    url = reverse("members:person_detail", args=[person.pk])
    assert as_user(organizer).get(url, {"from": "search"}).status_code == 200
    entry = only_entry(action=Action.VIEW_PERSON)
    assert (entry.user, entry.username, entry.person_id, entry.count) == (
        organizer,
        "olive",
        person.pk,
        1,
    )
    assert entry.path == url  # the query string is never kept
    assert entry.created is not None


def test_a_search_is_logged_as_a_keyed_hash_never_as_its_text(as_user, organizer):
    found = MemberFactory(name="José García", city="Oakland")
    MemberFactory(name="Ana Li", city="Fresno")
    response = as_user(organizer).get(reverse("members:people_list"), {"q": "García"})
    assert response.status_code == 200
    entry = only_entry(action=Action.SEARCH)
    assert entry.query_hash == search_hash("garcía") == search_hash("  GARCÍA ")
    assert len(entry.query_hash) == 64
    assert entry.people == [found.pk]
    assert entry.count == 1
    assert entry.path == reverse("members:people_list")
    stored = " ".join(str(value) for value in AccessLog.objects.values_list().get())
    assert "garc" not in stored.lower()


def test_the_search_hash_is_keyed_from_the_secret_key(settings):
    before = search_hash("garcía")
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert search_hash("garcía") != before
    assert normalise_query("  José   GARCÍA ") == "josé garcía"


def test_a_list_without_search_text_is_logged_without_a_hash(as_user, organizer):
    people = MemberFactory.create_batch(3)
    as_user(organizer).get(reverse("members:people_list"))
    entry = only_entry(action=Action.SEARCH)
    assert entry.query_hash == ""
    assert sorted(entry.people) == sorted(person.pk for person in people)


def test_the_merge_pickers_search_is_logged(as_user, organizer):
    person, other = MemberFactory(name="Ana Li"), MemberFactory(name="Ana Lee")
    url = reverse("members:person_merge_pick", args=[person.pk])
    as_user(organizer).get(url, {"q": "ana"})
    entry = only_entry(action=Action.SEARCH)
    assert entry.query_hash == search_hash("ana")
    assert entry.people == [other.pk]


def test_an_export_is_logged_with_how_many_people(as_user, organizer):
    organizer.user_permissions.add(Permission.objects.get(codename="export_people"))
    MemberFactory.create_batch(4)
    response = as_user(organizer).get(reverse("members:people_export"), {"format": "csv"})
    assert response.status_code == 200
    entry = only_entry(action=Action.EXPORT)
    assert (entry.user, entry.count) == (organizer, 4)
    assert entry.record_id is not None
    assert entry.path == reverse("members:people_export")


def test_an_import_is_logged_with_how_many_rows(as_user, organizer):
    content = b"Name,Email\nAna Li,ana@example.org\nBo Ruiz,bo@example.org\nCy Ng,cy@example.org\n"
    record = applying.start_import(filename="list.csv", content=content, by=organizer)
    record = applying.preview_import(record)
    response = as_user(organizer).post(reverse("members:import_apply", args=[record.pk]))
    assert response.status_code == 302
    entry = only_entry(action=Action.IMPORT)
    assert (entry.user, entry.record_id, entry.count) == (organizer, record.pk, 3)


def test_record_counts_people_and_accepts_no_user(db):
    entry = record(None, Action.SEARCH, people=[3, 1, 2])
    assert (entry.user, entry.username, entry.count, entry.people) == (None, "", 3, [3, 1, 2])
    erased = record(None, "erase", person=7, reason="Asked to be forgotten")
    assert (erased.action, erased.count, erased.reason) == (
        Action.ERASE,
        1,
        "Asked to be forgotten",
    )
