"""Every admin page opens for a superuser, and no page's query count grows with its rows.

The walk reads `admin.site._registry`, so a newly registered model (ours or a library's)
is covered without editing this file, once `ROWS` knows how to make its rows:
`test_every_registered_model_has_rows_to_walk` fails until it does.
"""

import datetime as dt

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.tasks import task
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.models import DBTaskResult

from accounts.models import InvitedRole, UserInvitation
from audit.log import record as log_access
from audit.models import AccessLog as ReadLog
from audit.models import Action, Alert, AlertKind
from cores.models import (
    Alignment,
    CoreGroup,
    Invitation,
    Milestone,
    Phase,
    PhaseDecision,
    ReviewNote,
    Tendency,
)
from members.models import (
    CapacityCheckIn,
    Erasure,
    ExportRecord,
    ImportRecord,
    Member,
    MergeRecord,
    Sector,
)
from tests.auth import log_in
from tests.factories import (
    AlignmentFactory,
    CapacityCheckInFactory,
    CoreGroupFactory,
    InvitationFactory,
    MemberFactory,
    PhaseDecisionFactory,
    ReviewNoteFactory,
    SectorFactory,
    TendencyFactory,
    UserFactory,
)

FEW, MANY = 5, 50

# The exact budget of our own pages at any number of rows. Every page starts with the
# same three queries: the session, the logged-in user, the OTP device that verified them.
PINNED = {
    ImportRecord: {
        # count, full count, rows joined to the uploader (the file itself deferred)
        "changelist": 6,
        # record, its uploader
        "change": 5,
    },
    MergeRecord: {
        # count, rows joined to who merged with whether the kept person is here
        "changelist": 5,
        # record (with the kept person's presence), who merged
        "change": 5,
    },
    Erasure: {
        # count, rows joined to who erased
        "changelist": 5,
        # record, who erased
        "change": 5,
    },
    ExportRecord: {
        # count, full count, rows joined to the exporter, format filter's choices
        "changelist": 7,
        # record, its exporter
        "change": 5,
    },
    Member: {
        # sector filter, tendency filter, count (bounded), rows, region filter (from the
        # region index, members.admin.regions_in_use)
        "changelist": 8,
        # tendencies for the alignment inline's select
        "add": 4,
        # member, its sectors, tendencies (inline select, read once), check-ins, alignments,
        # invitations (one joined query per inline), chosen sectors (autocomplete), and the
        # read written to the access log with its hourly quota count (audit.quotas)
        "change": 12,
    },
    CapacityCheckIn: {
        # count (bounded, sos_tracker.admin_paging), rows joined to member and assessor
        "changelist": 5,
        # the assessor filled in for you (autocomplete)
        "add": 4,
        # check-in, its member (title), member and assessor (autocomplete)
        "change": 7,
    },
    Sector: {
        # count, full count, rows with their people count
        "changelist": 6,
        "add": 3,
        # sector
        "change": 4,
    },
    Tendency: {
        # count, full count, rows
        "changelist": 6,
        "add": 3,
        # tendency
        "change": 4,
    },
    CoreGroup: {
        # tendency filter, count, full count, rows joined to tendency, leads (prefetched)
        "changelist": 8,
        # tendencies for the select
        "add": 4,
        # core, its leads, its members, this phase's open milestones (named beside the
        # confirm box), milestones, decisions, invitations (one joined query per inline),
        # tendencies (select), chosen leads and members (autocomplete)
        "change": 13,
    },
    Milestone: {
        # core filter, count, full count, rows joined to core and done_by
        "changelist": 7,
        # cores for the select
        "add": 4,
        # milestone, cores (select), done_by (read-only)
        "change": 6,
    },
    PhaseDecision: {
        # core filter, count, full count, rows joined to core and decided_by
        "changelist": 7,
        # decision, its core and decided_by (all read-only)
        "change": 6,
    },
    Alignment: {
        # tendency filter, count, rows joined to member, tendency and reviewer
        "changelist": 6,
        # tendencies for the select
        "add": 4,
        # alignment, its notes joined to author (inline), member and tendency (title),
        # member (autocomplete), tendencies (select), reviewer (read-only)
        "change": 10,
    },
    ReviewNote: {
        # tendency filter, count (bounded), rows joined to alignment, member, tendency
        "changelist": 6,
        "add": 3,
        # note joined to its alignment, alignment (autocomplete), whose member and tendency
        # label it
        "change": 7,
    },
    Invitation: {
        # core filter, count, rows joined to core, member and inviter
        "changelist": 6,
        # cores (select)
        "add": 4,
        # invitation joined to its member, core, inviter and point person (all shown
        # read-only or in the title; no point person chosen, so no autocomplete query)
        "change": 4,
    },
}


@task()
def send_reminders():
    """A real task, so the task-results admin lists rows as it will in production."""


# Each entry adds `count` rows of its model, and `count` rows hanging off one subject row
# (the one whose change page is measured), then returns the subject. It is called a second
# time with that subject to grow both. Every row refers to the same few users: without an
# identity map, one query per row shows up just as well whoever the rows point to.


def _users(count, subject):
    subject = subject or UserFactory()
    UserFactory.create_batch(count)
    subject.groups.add(*Group.objects.bulk_create(Group(name=f"Team {n}") for n in _new(count)))
    return subject


def _groups(count, subject):
    subject = subject or Group.objects.create(name="Subject group")
    Group.objects.bulk_create(Group(name=f"Group {n}") for n in _new(count))
    held = subject.permissions.values_list("pk", flat=True)
    subject.permissions.add(*Permission.objects.exclude(pk__in=held)[:count])
    return subject


def _access_rows(model, **fields):
    def add(count, subject):
        rows = model.objects.bulk_create(
            model(
                user_agent="Browser",
                ip_address=f"10.0.{n // 250}.{n % 250}",
                username=f"user{n}",
                http_accept="text/html",
                path_info="/login/",
                **fields,
            )
            for n in _new(count)
        )
        return subject or rows[0]

    return add


def _task_results(count, subject):
    results = [send_reminders.enqueue() for _ in range(count)]
    return subject or DBTaskResult.objects.get(pk=results[0].id)


def _sectors(count, subject):
    sectors = SectorFactory.create_batch(count)
    subject = subject or sectors[0]
    for member in MemberFactory.create_batch(count):
        member.sectors.add(subject, sectors[-1])
    return subject


def _cores(count):
    return [CoreGroupFactory(tendency=tendency) for tendency in TendencyFactory.create_batch(count)]


def _members(count, subject):
    subject = subject or MemberFactory()
    someone = UserFactory()
    MemberFactory.create_batch(count)
    subject.sectors.add(*SectorFactory.create_batch(count))
    CapacityCheckInFactory.create_batch(count, member=subject, assessed_by=someone)
    for core in _cores(count):
        AlignmentFactory(member=subject, tendency=core.tendency, reviewed_by=someone)
        InvitationFactory(member=subject, core=core, invited_by=someone)
    return subject


def _check_ins(count, subject):
    rows = CapacityCheckInFactory.create_batch(count, assessed_by=UserFactory())
    return subject or rows[0]


def _tendencies(count, subject):
    rows = TendencyFactory.create_batch(count)
    return subject or rows[0]


def _core_groups(count, subject):
    cores = _cores(count)
    subject = subject or cores[0]
    someone = UserFactory()
    subject.leads.add(*UserFactory.create_batch(count))
    subject.members.add(*MemberFactory.create_batch(count))
    for n in _new(count):
        Milestone.objects.create(
            core=subject, phase=Phase.ENGAGING, title=f"Step {n}", done_by=someone
        )
        PhaseDecisionFactory(core=subject, decided_by=someone)
        InvitationFactory(core=subject, invited_by=someone)
    return subject


def _milestones(count, subject):
    someone = UserFactory()
    rows = [
        Milestone.objects.create(core=core, phase=Phase.COHERING, title="Extra", done_by=someone)
        for core in _cores(count)
    ]
    return subject or rows[0]


def _phase_decisions(count, subject):
    someone = UserFactory()
    rows = [PhaseDecisionFactory(core=core, decided_by=someone) for core in _cores(count)]
    return subject or rows[0]


def _alignments(count, subject):
    someone = UserFactory()
    rows = AlignmentFactory.create_batch(count, reviewed_by=someone)
    subject = subject or rows[0]
    ReviewNoteFactory.create_batch(count, alignment=subject, author=someone)
    return subject


def _review_notes(count, subject):
    rows = ReviewNoteFactory.create_batch(count, author=UserFactory())
    return subject or rows[0]


def _invitations(count, subject):
    someone = UserFactory()
    rows = [InvitationFactory(core=core, invited_by=someone) for core in _cores(count)]
    return subject or rows[0]


def _import_records(count, subject):
    someone = UserFactory()
    rows = [
        ImportRecord.objects.create(filename=f"list-{n}.csv", uploaded_by=someone, sha256="0" * 64)
        for n in _new(count)
    ]
    return subject or rows[0]


def _export_records(count, subject):
    someone = UserFactory()
    rows = [
        ExportRecord.objects.create(exported_by=someone, file_format="csv", row_count=n)
        for n in _new(count)
    ]
    return subject or rows[0]


def _merge_records(count, subject):
    someone = UserFactory()
    rows = [
        MergeRecord.objects.create(
            survivor_pk=n, merged_pk=n + 1, survivor_name="A", merged_name="B", merged_by=someone
        )
        for n in _new(count)
    ]
    return subject or rows[0]


def _erasures(count, subject):
    someone = UserFactory()
    rows = [
        Erasure.objects.create(member_pk=n + 1, erased_by=someone, reason="Asked by email")
        for n in _new(count)
    ]
    return subject or rows[0]


def _totp_devices(count, subject):
    rows = [
        TOTPDevice.objects.create(user=user, name="Phone")
        for user in UserFactory.create_batch(count)
    ]
    return subject or rows[0]


def _user_invitations(count, subject):
    someone = UserFactory()
    rows = UserInvitation.objects.bulk_create(
        UserInvitation(
            email=f"invitee{n}@example.org",
            name=f"Invitee {n}",
            role=InvitedRole.CORE_LEAD,
            core=core,
            token_hash=f"{n:064x}",
            created_by=someone,
            expires_at=timezone.now() + dt.timedelta(days=7),
        )
        for n, core in zip(_new(count), _cores(count), strict=True)
    )
    return subject or rows[0]


def _static_devices(count, subject):
    rows = [
        StaticDevice.objects.create(user=user, name="Recovery codes")
        for user in UserFactory.create_batch(count)
    ]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=StaticToken.random_token()) for device in rows
    )
    return subject or rows[0]


def _read_log(count, subject):
    someone = UserFactory()
    rows = [log_access(someone, Action.VIEW_PERSON, person=n + 1) for n in _new(count)]
    return subject or rows[0]


def _alerts(count, subject):
    rows = [
        Alert.objects.create(user=user, kind=AlertKind.PEOPLE_VIEWED, amount=201, limit=200)
        for user in UserFactory.create_batch(count)
    ]
    return subject or rows[0]


_serial = iter(range(10**9))


def _new(count):
    """Numbers not used before in this run, for names that must be unique."""
    return [next(_serial) for _ in range(count)]


ROWS = {
    get_user_model(): _users,
    Group: _groups,
    AccessAttempt: _access_rows(AccessAttempt, get_data="", post_data="", failures_since_start=1),
    AccessLog: _access_rows(AccessLog),
    AccessFailureLog: _access_rows(AccessFailureLog),
    DBTaskResult: _task_results,
    Sector: _sectors,
    Member: _members,
    CapacityCheckIn: _check_ins,
    Tendency: _tendencies,
    CoreGroup: _core_groups,
    Milestone: _milestones,
    PhaseDecision: _phase_decisions,
    Alignment: _alignments,
    ReviewNote: _review_notes,
    Invitation: _invitations,
    ImportRecord: _import_records,
    ExportRecord: _export_records,
    MergeRecord: _merge_records,
    Erasure: _erasures,
    TOTPDevice: _totp_devices,
    ReadLog: _read_log,
    Alert: _alerts,
    StaticDevice: _static_devices,
    UserInvitation: _user_invitations,
}

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


def _pages(model, subject, superuser):
    """changelist, add (where the admin offers it) and change page of `subject`."""
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    request = type("Request", (), {"user": superuser})()
    pages = {"changelist": reverse(f"{prefix}_changelist")}
    if admin.site._registry[model].has_add_permission(request):
        pages["add"] = reverse(f"{prefix}_add")
    pages["change"] = reverse(f"{prefix}_change", args=[subject.pk])
    return pages


def _query_counts(client, pages):
    counts = {}
    for kind, url in pages.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        counts[kind] = len(queries)
    return counts


def test_every_registered_model_has_rows_to_walk():
    assert set(REGISTERED) == set(ROWS)


def test_every_model_of_ours_has_its_query_budget_pinned():
    ours = {model for model in REGISTERED if model._meta.app_label in {"members", "cores"}}
    assert ours == set(PINNED)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_admin_pages_open_with_query_counts_flat_in_rows(client, admin_user, model):
    log_in(client, admin_user)
    subject = ROWS[model](FEW, None)
    pages = _pages(model, subject, admin_user)
    _query_counts(client, pages)  # once to warm per-process caches (content types)
    with_few = _query_counts(client, pages)

    ROWS[model](MANY - FEW, subject)
    with_many = _query_counts(client, pages)

    assert with_few == with_many
    if model in PINNED:
        assert with_many == PINNED[model], with_many
