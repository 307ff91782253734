import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from cores.models import (
    Alignment,
    AlignmentLevel,
    CoreGroup,
    Invitation,
    InvitationStage,
    ReviewState,
    Tendency,
)
from members.models import Member
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

# Enough people that, with this seed, prospects reach every invitation stage; small
# enough to seed in about a second.
PEOPLE, SEED = 120, "3"


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def test_refuses_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG is off"):
        seed("--people", "5")

    assert not Member.objects.exists()


def test_refuses_when_a_user_it_did_not_make_exists(debug):
    UserFactory(username="real-organizer")

    with pytest.raises(CommandError, match="did not make"):
        seed("--people", "5")

    assert not Member.objects.exists()


def test_a_real_account_with_a_demo_name_is_not_taken_for_demo_data(debug):
    real_admin = UserFactory(username="admin", email="ops@organizing.example")

    with pytest.raises(CommandError, match="did not make"):
        seed("--people", "5")

    assert get_user_model().objects.get(pk=real_admin.pk).email == "ops@organizing.example"


def test_refuses_when_a_person_it_did_not_make_exists(debug):
    real = MemberFactory(email="real.person@example.org")

    with pytest.raises(CommandError, match="did not make"):
        seed("--people", "5")

    assert list(Member.objects.all()) == [real]


def test_force_seeds_over_real_data_and_with_debug_off(settings):
    settings.DEBUG = False
    real_user = UserFactory(username="real-organizer")
    MemberFactory(email="real.person@example.org")

    seed("--people", "5", "--seed", SEED, "--force")

    # --force replaces every person, as its help says; accounts it did not make stay.
    assert not Member.objects.filter(email="real.person@example.org").exists()
    assert Member.objects.count() == 5
    assert get_user_model().objects.filter(pk=real_user.pk).exists()


def test_seeds_people_tendencies_cores_alignments_and_invitations(debug):
    seed("--people", str(PEOPLE), "--seed", SEED)

    assert Member.objects.count() == PEOPLE
    assert Tendency.objects.count() == 2
    phases = set(CoreGroup.objects.values_list("phase", flat=True))
    assert len(phases) == 2, "the two cores are at different phases"
    assert set(Alignment.objects.values_list("level", flat=True)) == set(AlignmentLevel)
    assert set(Alignment.objects.values_list("review_state", flat=True)) == set(ReviewState)
    assert set(Invitation.objects.values_list("stage", flat=True)) == set(InvitationStage)


def test_prints_each_login_with_a_password_that_works(debug):
    out = seed("--people", "10", "--seed", SEED)

    logins = dict(re.findall(r"^ +(\S+) +(\S+) +\S", out, flags=re.MULTILINE))
    assert set(logins) == {"admin", "organizer", "lead-democratic-front", "lead-dual-power"}
    for username, password in logins.items():
        assert get_user_model().objects.get(username=username).check_password(password)
    assert "http://127.0.0.1:8000/login/" in out


def test_running_again_replaces_the_demo_data(debug):
    seed("--people", "30", "--seed", SEED)

    seed("--people", "20", "--seed", "4")

    assert Member.objects.count() == 20
    assert Member.history.count() == 20
    assert Tendency.objects.count() == 2
    assert CoreGroup.objects.count() == 2
    assert get_user_model().objects.count() == 4
