"""Large imports go to the background worker; the page shows progress meanwhile."""

import pytest
from django.urls import reverse

from members import tasks
from members.importing import applying
from members.models import ImportRecord, ImportState, Member
from tests.members import messy_spreadsheet as messy

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def large_threshold(monkeypatch):
    """Treat the 215-row messy file as large."""
    monkeypatch.setattr(tasks, "BACKGROUND_ROWS", 100)


def upload(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.post(
        reverse("members:import_start"), {"file": SimpleUploadedFile("l.csv", messy.build())}
    )
    return ImportRecord.objects.get()


def mapping_data(client, record):
    form = client.get(reverse("members:import_mapping", args=[record.pk])).context["form"]
    return {name: field.initial for name, field in form.fields.items()}


def test_a_large_file_is_planned_and_applied_by_the_worker(
    as_user, organizer, settings, large_threshold, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    messy.existing_people()
    client = as_user(organizer)
    record = upload(client)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("members:import_mapping", args=[record.pk]), mapping_data(client, record)
        )
    record.refresh_from_db()
    assert record.state == ImportState.PREVIEWED
    assert record.counts["create"] == messy.EXPECTED["create"]
    # Possible duplicates wait for a person's decision; the worker cannot ask anyone.
    applying.decide_undecided(record, "skip", by=organizer)

    before = Member.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:import_apply", args=[record.pk]))
    record.refresh_from_db()
    assert record.state == ImportState.APPLIED
    assert Member.objects.count() == before + messy.EXPECTED["create"]
    assert record.counts["create"] == messy.EXPECTED["create"]


def test_while_the_worker_has_it_the_page_shows_progress_and_refreshes(
    as_user, organizer, settings, large_threshold, django_capture_on_commit_callbacks
):
    settings.TASKS = DUMMY  # enqueued, never run: the state a person sees meanwhile
    client = as_user(organizer)
    record = upload(client)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("members:import_mapping", args=[record.pk]), mapping_data(client, record)
        )
    page = client.get(record.get_absolute_url())
    body = page.content.decode()
    assert ImportRecord.objects.get().state == ImportState.PLANNING
    assert '<meta http-equiv="refresh" content="2">' in body
    assert "0 of 215 rows checked" in body
    assert "<progress" in body
    assert not Member.objects.exists()


def test_a_failing_background_import_is_marked_failed_and_writes_nothing(
    organizer, settings, monkeypatch
):
    from tests.factories import MemberFactory

    settings.TASKS = DUMMY
    monkeypatch.setattr(tasks, "BACKGROUND_ROWS", 1)
    record = applying.preview_import(
        applying.start_import(
            filename="x.csv", content=b"Name,Email\nA B,a@b.org\nC D,taken@b.org\n", by=organizer
        )
    )
    MemberFactory(email="taken@b.org")  # saved after the preview: the apply must fail
    record = tasks.run_apply(record, by=organizer)  # queued: the worker runs it below
    assert record.state == ImportState.APPLYING
    with pytest.raises(Exception):  # noqa: B017, PT011 (the database's IntegrityError)
        tasks.apply_import_task.call(record.pk, organizer.pk)
    record.refresh_from_db()
    assert record.state == ImportState.FAILED
    assert "IntegrityError" in record.error
    assert not Member.objects.filter(email="a@b.org").exists()


def test_undoing_a_large_import_is_left_to_the_worker(
    as_user, organizer, settings, large_threshold, django_capture_on_commit_callbacks
):
    record = applying.apply_import(
        applying.preview_import(
            applying.start_import(filename="big.csv", content=messy.build(), by=organizer)
        ),
        by=organizer,
    )
    client = as_user(organizer)

    settings.TASKS = DUMMY
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:import_undo", args=[record.pk]))
    record.refresh_from_db()
    assert record.state == ImportState.UNDOING
    assert (
        "Writing 215 rows in one transaction"
        in client.get(record.get_absolute_url()).content.decode()
    )

    settings.TASKS = IMMEDIATE
    tasks.undo_import_task.call(record.pk, organizer.pk)
    record.refresh_from_db()
    assert record.state == ImportState.UNDONE
    assert not Member.objects.filter(imported_from=record).exists()
