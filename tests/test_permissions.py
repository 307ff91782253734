import pytest

from sos_tracker.permissions import can_manage_core, can_review_tendency


@pytest.fixture
def cast(organizer, lead_a, lead_b, admin_user, stranger, core_a, core_b):
    return {
        "organizer": organizer,
        "lead_a": lead_a,
        "lead_b": lead_b,
        "admin": admin_user,
        "stranger": stranger,
    }


@pytest.mark.parametrize(
    ("who", "may_review_a", "may_review_b"),
    [
        ("organizer", False, False),
        ("lead_a", True, False),
        ("lead_b", False, True),
        ("admin", True, True),
        ("stranger", False, False),
    ],
)
def test_only_a_tendencys_leads_and_admins_may_review_it(
    cast, core_a, core_b, who, may_review_a, may_review_b
):
    user = cast[who]

    assert can_review_tendency(user, core_a.tendency_id) is may_review_a
    assert can_review_tendency(user, core_b.tendency_id) is may_review_b


@pytest.mark.parametrize(
    ("who", "own_core_a", "own_core_b"),
    [
        ("organizer", False, False),
        ("lead_a", True, False),
        ("lead_b", False, True),
        ("admin", True, True),
        ("stranger", False, False),
    ],
)
def test_only_a_cores_leads_and_admins_may_manage_it(
    cast, core_a, core_b, who, own_core_a, own_core_b
):
    user = cast[who]

    assert can_manage_core(user, core_a.pk) is own_core_a
    assert can_manage_core(user, core_b.pk) is own_core_b


def test_leading_a_core_without_the_lead_role_grants_nothing(stranger, core_a):
    core_a.leads.add(stranger)

    assert not can_review_tendency(stranger, core_a.tendency_id)
    assert not can_manage_core(stranger, core_a.pk)


def test_a_deactivated_lead_may_do_nothing(lead_a, core_a):
    lead_a.is_active = False

    assert not can_review_tendency(lead_a, core_a.tendency_id)
    assert not can_manage_core(lead_a, core_a.pk)
