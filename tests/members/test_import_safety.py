"""The import's own safety: one guarded transition per state change, scoping, careful undo.

Races are tested twice: in sequence with the state read stale (an ImportRecord object
loaded before the other caller moved it on, as a second request or task would hold), on
either database; and with real threads on PostgreSQL, where two transactions meet.
"""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members import tasks
from members.importing import applying
from members.models import ImportRecord, ImportState, Member
from tests.factories import MemberFactory, UserFactory

DUMMY = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two transactions at once need a server database (SQLite tests share one memory db)",
)

FILE = b"Name,Email,City\nAna Ruiz,ana@x.org,Reno\nBo Chen,bo@x.org,Reno\nCy Diaz,cy@x.org,Reno\n"


def previewed(by, content=FILE):
    record = applying.start_import(filename="people.csv", content=content, by=by)
    return applying.preview_import(record)


def stale(record):
    """The record as another request loaded it, before anyone moved it on."""
    return ImportRecord.objects.get(pk=record.pk)


def state_of(record):
    return ImportRecord.objects.get(pk=record.pk).state


@pytest.fixture
def large(monkeypatch, settings):
    """Every import goes to the worker; the worker runs only when a test calls the task."""
    monkeypatch.setattr(tasks, "BACKGROUND_ROWS", 0)
    settings.TASKS = DUMMY


# --- two applies -----------------------------------------------------------------------------


def test_a_second_apply_with_a_stale_record_is_refused_and_writes_nothing(organizer):
    record = previewed(organizer)
    first, second = stale(record), stale(record)  # both read "previewed"

    applying.apply_import(first, by=organizer)
    with pytest.raises(ValidationError, match="this one is imported"):
        applying.apply_import(second, by=organizer)

    assert state_of(record) == ImportState.APPLIED
    assert Member.objects.filter(imported_from=record).count() == 3


def test_a_second_click_on_import_of_a_large_file_queues_nothing(
    as_user, organizer, large, django_capture_on_commit_callbacks
):
    record = previewed(organizer)
    client = as_user(organizer)
    url = reverse("members:import_apply", args=[record.pk])

    with django_capture_on_commit_callbacks() as first:
        client.post(url)
    with django_capture_on_commit_callbacks() as second:
        response = client.post(url, follow=True)

    assert len(first) == 1  # the one task
    assert second == []
    assert state_of(record) == ImportState.APPLYING
    assert "Only a previewed import can be applied; this one is importing." in (
        response.content.decode()
    )


def test_an_apply_task_run_twice_applies_once_and_leaves_undo_offered(as_user, organizer, large):
    record = tasks.run_apply(previewed(organizer), by=organizer)
    assert record.state == ImportState.APPLYING

    tasks.apply_import_task.call(record.pk, organizer.pk)
    tasks.apply_import_task.call(record.pk, organizer.pk)  # a retry, or a second queue

    record.refresh_from_db()
    assert record.state == ImportState.APPLIED
    assert record.error == ""
    assert Member.objects.filter(imported_from=record).count() == 3
    page = as_user(organizer).get(record.get_absolute_url()).content.decode()
    assert "Undo this import" in page


def test_an_apply_after_it_was_applied_never_marks_it_failed(as_user, organizer, large):
    """The reported bug: the second apply's task failed the import and hid Undo."""
    record = tasks.run_apply(previewed(organizer), by=organizer)
    tasks.apply_import_task.call(record.pk, organizer.pk)
    client = as_user(organizer)

    response = client.post(reverse("members:import_apply", args=[record.pk]), follow=True)
    tasks.apply_import_task.call(record.pk, organizer.pk)  # as the old code queued it

    record.refresh_from_db()
    assert record.state == ImportState.APPLIED
    assert record.error == ""
    body = response.content.decode()
    assert "Only a previewed import can be applied; this one is imported." in body
    assert "Undo this import" in body


def test_a_refusal_in_the_worker_returns_the_import_to_previewed_with_the_reason(
    organizer, large, monkeypatch
):
    record = tasks.run_apply(previewed(organizer), by=organizer)

    def refuse(record, *, by, **options):
        raise ValidationError("2 possible duplicates still need a decision.")

    monkeypatch.setattr(applying, "apply_import", refuse)
    tasks.apply_import_task.call(record.pk, organizer.pk)

    record.refresh_from_db()
    assert record.state == ImportState.PREVIEWED
    assert record.error == "2 possible duplicates still need a decision."
    assert not Member.objects.filter(imported_from=record).exists()


def test_applying_again_after_a_refusal_clears_the_reason(organizer):
    record = previewed(organizer)
    applying.change_state(record, expected=[ImportState.PREVIEWED], to=ImportState.PREVIEWED,
                          error="An earlier refusal.")  # fmt: skip

    record = applying.apply_import(record, by=organizer)

    assert record.error == ""


# --- two undos -------------------------------------------------------------------------------


def test_a_second_undo_with_a_stale_record_is_refused_and_changes_nothing(organizer):
    record = applying.apply_import(previewed(organizer), by=organizer)
    first, second = stale(record), stale(record)  # both read "applied"

    applying.undo_import(first, by=organizer)
    with pytest.raises(ValidationError, match="this one is undone"):
        applying.undo_import(second, by=organizer)

    assert state_of(record) == ImportState.UNDONE


def test_an_undo_task_run_twice_never_flips_the_import_back_to_applied(organizer, large):
    """The reported bug: the second undo's task failed and set the import to applied."""
    record = tasks.run_apply(previewed(organizer), by=organizer)
    tasks.apply_import_task.call(record.pk, organizer.pk)
    record = tasks.run_undo(stale(record), by=organizer)
    assert record.state == ImportState.UNDOING

    tasks.undo_import_task.call(record.pk, organizer.pk)
    tasks.undo_import_task.call(record.pk, organizer.pk)

    record.refresh_from_db()
    assert record.state == ImportState.UNDONE
    assert record.error == ""
    assert not Member.objects.filter(imported_from=record).exists()


def test_a_second_click_on_undo_queues_nothing(
    as_user, organizer, large, django_capture_on_commit_callbacks
):
    record = tasks.run_apply(previewed(organizer), by=organizer)
    tasks.apply_import_task.call(record.pk, organizer.pk)
    client = as_user(organizer)
    url = reverse("members:import_undo", args=[record.pk])

    with django_capture_on_commit_callbacks() as first:
        client.post(url)
    with django_capture_on_commit_callbacks() as second:
        response = client.post(url, follow=True)

    assert len(first) == 1
    assert second == []
    assert state_of(record) == ImportState.UNDOING
    assert "Only an applied import can be undone; this one is undoing." in (
        response.content.decode()
    )


def test_a_failed_undo_in_the_worker_leaves_the_import_applied_and_says_why(
    organizer, large, monkeypatch
):
    record = tasks.run_apply(previewed(organizer), by=organizer)
    tasks.apply_import_task.call(record.pk, organizer.pk)
    record = tasks.run_undo(record, by=organizer)

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(applying, "_restore_updated", crash)
    with pytest.raises(RuntimeError):
        tasks.undo_import_task.call(record.pk, organizer.pk)

    record.refresh_from_db()
    assert record.state == ImportState.APPLIED
    assert record.error == "Undo failed: RuntimeError: disk full"
    assert Member.objects.filter(imported_from=record).count() == 3


# --- other transitions ----------------------------------------------------------------------


def test_an_import_being_applied_cannot_be_discarded(organizer, large):
    record = tasks.run_apply(previewed(organizer), by=organizer)

    with pytest.raises(ValidationError, match="importing; it cannot be discarded"):
        applying.discard_import(stale(record), by=organizer)

    assert state_of(record) == ImportState.APPLYING
    assert record.rows.exists()


def test_an_applied_import_cannot_be_discarded_even_from_a_stale_page(organizer):
    record = previewed(organizer)
    page_copy = stale(record)
    applying.apply_import(record, by=organizer)

    with pytest.raises(ValidationError, match="undo it instead"):
        applying.discard_import(page_copy, by=organizer)

    assert state_of(record) == ImportState.APPLIED


def test_a_preview_finished_after_the_import_was_applied_is_not_kept(organizer):
    record = previewed(organizer)
    planning = stale(record)  # a second tab saving its sector choices
    applying.apply_import(record, by=organizer)

    with pytest.raises(ValidationError, match="imported; the preview was not kept"):
        applying.preview_import(planning)

    assert state_of(record) == ImportState.APPLIED
    # The rows an undo needs are still there.
    assert record.rows.filter(member__isnull=False).count() == 3


def test_a_preview_task_of_a_discarded_import_does_nothing(organizer, large):
    record = applying.start_import(filename="people.csv", content=FILE, by=organizer)
    record = tasks.run_preview(record, mapping=record.mapping, sector_choices={})
    assert record.state == ImportState.PLANNING
    applying.discard_import(record, by=organizer)

    tasks.preview_import_task.call(record.pk, record.mapping, {})

    assert state_of(record) == ImportState.DISCARDED
    assert not record.rows.exists()


# --- undo is careful with colleagues' edits --------------------------------------------------


UPDATE_FILE = b"Name,Email,City\nAna Ruiz,ana@x.org,Sparks\n"


def test_undo_saves_only_the_fields_it_restores(organizer, lead_a):
    person = MemberFactory(name="Ana Ruiz", email="ana@x.org", city="Reno", pronouns="she/her")
    record = applying.apply_import(previewed(organizer, UPDATE_FILE), by=organizer)
    assert Member.objects.get(pk=person.pk).city == "Sparks"

    with CaptureQueriesContext(connection) as queries:
        applying.undo_import(record, by=lead_a)

    (update,) = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "members_member"')
    ]
    assert '"city"' in update
    for untouched in ("pronouns", "note", "email", "status", "phone"):
        assert f'"{untouched}" =' not in update
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    if connection.features.has_select_for_update:
        assert any('FROM "members_member"' in sql for sql in locks)
    assert Member.objects.get(pk=person.pk).city == "Reno"


@postgres_only
# serialized_rollback: the flush after a transactional test would drop the seeded groups.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_undo_waits_for_a_colleagues_edit_and_keeps_it(organizer, lead_a):
    person = MemberFactory(name="Ana Ruiz", email="ana@x.org", city="Reno")
    record = applying.apply_import(previewed(organizer, UPDATE_FILE), by=organizer)
    editing, undo_started = threading.Event(), threading.Event()

    def colleague():
        try:
            with transaction.atomic():
                mine = Member.objects.select_for_update().get(pk=person.pk)
                mine.city = "Carson City"
                mine.pronouns = "she/her"
                mine.save()
                editing.set()
                undo_started.wait(5)
                time.sleep(0.3)  # the undo is now waiting for this row
        finally:
            connections.close_all()

    thread = threading.Thread(target=colleague)
    thread.start()
    editing.wait(5)
    undo_started.set()
    record = applying.undo_import(record, by=lead_a)
    thread.join()

    person.refresh_from_db()
    assert person.city == "Carson City"  # the colleague's, not the undo's "Reno"
    assert person.pronouns == "she/her"
    assert any("city was changed after the import" in line for line in record.undo_conflicts)


@postgres_only
# serialized_rollback: the flush after a transactional test would drop the seeded groups.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("step", ["apply", "undo"])
def test_two_requests_at_once_only_one_runs(organizer, step):
    record = previewed(organizer)
    if step == "undo":
        record = applying.apply_import(record, by=organizer)
    run = {"apply": applying.apply_import, "undo": applying.undo_import}[step]
    copies = [stale(record), stale(record)]
    start = threading.Barrier(2)
    outcomes = []

    def request(copy):
        try:
            start.wait(5)
            run(copy, by=organizer)
            outcomes.append("ran")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request, args=[copy]) for copy in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ran", "refused"]
    expected = {"apply": ImportState.APPLIED, "undo": ImportState.UNDONE}[step]
    assert state_of(record) == expected
    people = Member.objects.filter(imported_from=record).count()
    assert people == (3 if step == "apply" else 0)


# --- scoping ---------------------------------------------------------------------------------


@pytest.fixture
def organizers_import(organizer):
    record = previewed(organizer, FILE + b"No Email Person,not-an-email,Reno\n")
    return record


@pytest.mark.parametrize(
    ("url_name", "method"),
    [
        ("import_detail", "get"),
        ("import_mapping", "get"),
        ("import_rejected_csv", "get"),
        ("import_sectors", "post"),
        ("import_decide", "post"),
        ("import_apply", "post"),
        ("import_undo", "post"),
        ("import_discard", "post"),
    ],
)
def test_another_importer_gets_404_for_someone_elses_import(
    as_user, lead_a, organizers_import, url_name, method
):
    assert lead_a.has_perm("members.import_people")
    client = as_user(lead_a)

    response = getattr(client, method)(reverse(f"members:{url_name}", args=[organizers_import.pk]))

    assert response.status_code == 404
    assert state_of(organizers_import) == ImportState.PREVIEWED
    assert not Member.objects.filter(imported_from=organizers_import).exists()


def test_the_uploader_and_a_superuser_open_the_import(as_user, organizer, admin_user,
                                                      organizers_import):  # fmt: skip
    for user in (organizer, admin_user):
        client = as_user(user)
        assert client.get(organizers_import.get_absolute_url()).status_code == 200
        rejected = client.get(reverse("members:import_rejected_csv", args=[organizers_import.pk]))
        assert rejected.status_code == 200
        assert "not-an-email" in rejected.content.decode()


def test_a_superuser_may_undo_someone_elses_import(as_user, admin_user, organizers_import):
    client = as_user(admin_user)
    applying.apply_import(organizers_import, by=organizers_import.uploaded_by)

    client.post(reverse("members:import_undo", args=[organizers_import.pk]))

    assert state_of(organizers_import) == ImportState.UNDONE


def test_the_start_page_lists_only_ones_own_recent_imports(as_user, lead_a, organizers_import):
    mine = applying.start_import(filename="mine.csv", content=FILE, by=lead_a)

    page = as_user(lead_a).get(reverse("members:import_start"))

    assert list(page.context["recent"]) == [mine]
    assert "people.csv" not in page.content.decode()


def test_visible_to_is_ones_own_imports_and_every_import_for_a_superuser(
    organizer, lead_a, admin_user, organizers_import
):
    leads = applying.start_import(filename="lead.csv", content=FILE, by=lead_a)

    assert list(ImportRecord.objects.visible_to(organizer)) == [organizers_import]
    assert list(ImportRecord.objects.visible_to(lead_a)) == [leads]
    assert set(ImportRecord.objects.visible_to(admin_user)) == {leads, organizers_import}


def test_the_admin_lists_and_opens_only_what_the_user_may_see(as_user, organizers_import):
    from django.contrib.auth.models import Permission

    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_importrecord"))
    own = applying.start_import(filename="own.csv", content=FILE, by=staff)
    client = as_user(staff)

    listing = client.get(reverse("admin:members_importrecord_changelist"))
    assert list(listing.context["cl"].result_list) == [own]
    others = reverse("admin:members_importrecord_change", args=[organizers_import.pk])
    # The admin answers an object outside the queryset by sending to its index, not 200.
    assert client.get(others).status_code == 302
    assert (
        client.get(reverse("admin:members_importrecord_change", args=[own.pk])).status_code == 200
    )
