"""factory-boy factories for every model; the tests and `manage.py seed_demo` share them."""

import datetime as dt
import random

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from factory.django import DjangoModelFactory
from faker import Faker

from cores.models import (
    Alignment,
    AlignmentLevel,
    CoreGroup,
    Invitation,
    InvitationStage,
    Milestone,
    Phase,
    PhaseDecision,
    ReviewNote,
    ReviewState,
    Tendency,
)
from cores.services import add_default_milestones
from members.models import CapacityCheckIn, JoiningStoryKind, Member, MemberStatus, Sector
from sos_tracker.roles import CORE_LEADS, ORGANIZERS

# Joining stories in members' own words, written in the spirit of the survey answers the
# organization collected (not copies of them); {sector} and {city} vary per person.
JOINING_STORIES = {
    JoiningStoryKind.SOCIAL_MOVEMENT: [
        "Ten years in {sector} fights in {city}. We won some, lost more, and I never saw "
        "how any of it added up to socialism. I wanted a strategy, not another campaign.",
        "I organize tenants and I am good at it, but every win gets undone in the next "
        "budget cycle. I joined to figure out what it would take to actually win.",
        "My {sector} coalition kept hitting the same wall. Everyone was doing the work; "
        "nobody could tell me what the work was building toward.",
        "I came up in mutual aid during the pandemic. I wanted to be part of something "
        "that lasts longer than the crisis that started it.",
        "Organizing around {sector} taught me how to move people. It did not teach me "
        "how we take power. That is why I am here.",
    ],
    JoiningStoryKind.NCM_VETERAN: [
        "I was in a party-building group in the seventies. I see young people talking "
        "anti-capitalism again and I want to pass on what we learned, mistakes included.",
        "We had discipline and no resilience; we burned each other out. I joined because "
        "this project takes the care part seriously.",
        "I watched the New Communist Movement split a dozen ways. This new generation "
        "has the energy; I want to help them skip our sectarian decade.",
        "Forty years in {sector} work in {city}. I still believe in cadre organization, "
        "and I wanted to see whether it could be built without the old habits.",
    ],
    JoiningStoryKind.MIDDLE_GENERATION: [
        "So many young Black and Brown organizers coming up, ready to throw down, but "
        "wary of leadership. I wanted to bridge them to the experienced Left.",
        "I was tired of the same few people deciding everything while ignoring the next "
        "generation. This project was a way to do it differently.",
        "I sit between the veterans and the new kids in {city}. Someone has to translate, "
        "and someone has to build the organization they will both need.",
        "I helped start this. Strategy, organizing skills, emotional capacity, building "
        "organization: we needed all four, and nobody was growing them together.",
    ],
    JoiningStoryKind.OTHER: [
        "A friend from the {sector} campaign invited me to a study group and I stayed.",
        "Still working out how to say it. I know I want to be part of a disciplined left.",
        "",
    ],
}

CITIES = [
    ("Oakland", "CA"),
    ("Los Angeles", "CA"),
    ("San José", "CA"),
    ("Chicago", "IL"),
    ("Detroit", "MI"),
    ("New York", "NY"),
    ("Bronx", "NY"),
    ("Philadelphia", "PA"),
    ("Atlanta", "GA"),
    ("Durham", "NC"),
    ("New Orleans", "LA"),
    ("Houston", "TX"),
    ("San Antonio", "TX"),
    ("Albuquerque", "NM"),
    ("Minneapolis", "MN"),
    ("Seattle", "WA"),
    ("Portland", "OR"),
    ("Denver", "CO"),
    ("Boston", "MA"),
    ("Baltimore", "MD"),
    ("Jackson", "MS"),
    ("Miami", "FL"),
    ("Tucson", "AZ"),
    ("Milwaukee", "WI"),
]
PRONOUNS = ["she/her", "he/him", "they/them", "she/they", "he/they", ""]

# Mixed locales give names with accents (José, Nguyễn, François) as real lists have.
NAME_FAKER = Faker(["en_US", "es_MX", "pt_BR", "fr_FR", "vi_VN"])


def _fake_name():
    return NAME_FAKER.name()


def joining_story(kind, sector_name, city):
    text = random.choice(JOINING_STORIES[kind])
    return text.format(sector=sector_name.lower(), city=city or "my city")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct-horse-battery-staple")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*[Group.objects.get(name=name) for name in extracted])


class OrganizerFactory(UserFactory):
    groups = factory.PostGeneration(
        lambda user, create, extracted, **kw: (
            create and user.groups.add(Group.objects.get(name=ORGANIZERS))
        )
    )


class LeadFactory(UserFactory):
    groups = factory.PostGeneration(
        lambda user, create, extracted, **kw: (
            create and user.groups.add(Group.objects.get(name=CORE_LEADS))
        )
    )


class AdminFactory(UserFactory):
    is_staff = True
    is_superuser = True


class SectorFactory(DjangoModelFactory):
    class Meta:
        model = Sector
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Sector {n}")
    slug = factory.Sequence(lambda n: f"sector-{n}")


class MemberFactory(DjangoModelFactory):
    class Meta:
        model = Member
        skip_postgeneration_save = True

    name = factory.LazyFunction(_fake_name)
    preferred_name = ""
    pronouns = factory.LazyFunction(lambda: random.choice(PRONOUNS))
    email = factory.Sequence(lambda n: f"person{n}@example.net")
    phone = factory.LazyFunction(
        lambda: f"({random.randint(201, 989)}) 555-{random.randint(1000, 9999)}"
    )
    city = factory.LazyFunction(lambda: random.choice(CITIES)[0])
    region = factory.LazyAttribute(lambda m: dict(CITIES).get(m.city, ""))
    status = MemberStatus.MEMBER
    joining_story_kind = factory.LazyFunction(lambda: random.choice(list(JoiningStoryKind)))
    joining_story = factory.LazyAttribute(
        lambda m: joining_story(m.joining_story_kind, random.choice(["housing", "labor"]), m.city)
    )
    joined_on = factory.LazyFunction(
        lambda: timezone.localdate() - dt.timedelta(days=random.randint(30, 3650))
    )

    @factory.post_generation
    def sectors(self, create, extracted, **kwargs):
        if create and extracted:
            self.sectors.set(extracted)


class CapacityCheckInFactory(DjangoModelFactory):
    class Meta:
        model = CapacityCheckIn

    member = factory.SubFactory(MemberFactory)
    checked_on = factory.LazyFunction(timezone.localdate)
    strategic_skills = 3
    political_organizing_skills = 3
    social_emotional_capacities = 3
    organization_building_skills = 3


class TendencyFactory(DjangoModelFactory):
    class Meta:
        model = Tendency
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Tendency {n}")
    slug = factory.Sequence(lambda n: f"tendency-{n}")


class CoreGroupFactory(DjangoModelFactory):
    class Meta:
        model = CoreGroup
        skip_postgeneration_save = True

    name = factory.LazyAttribute(lambda c: f"{c.tendency.name} core")
    slug = factory.LazyAttribute(lambda c: f"{c.tendency.slug}-core")
    tendency = factory.SubFactory(TendencyFactory)
    phase = Phase.COHERING

    @factory.post_generation
    def leads(self, create, extracted, **kwargs):
        if create and extracted:
            self.leads.set(extracted)

    @factory.post_generation
    def milestones(self, create, extracted, **kwargs):
        # Cores are made with their default milestones, as the admin and services do.
        if create:
            add_default_milestones(self)


class MilestoneFactory(DjangoModelFactory):
    class Meta:
        model = Milestone

    core = factory.SubFactory(CoreGroupFactory)
    phase = Phase.COHERING
    title = factory.Sequence(lambda n: f"Milestone {n}")


class PhaseDecisionFactory(DjangoModelFactory):
    class Meta:
        model = PhaseDecision

    core = factory.SubFactory(CoreGroupFactory)
    from_phase = Phase.COHERING
    to_phase = Phase.ENGAGING
    reason = "The core agreed its structure, strategy and program drafts."


class AlignmentFactory(DjangoModelFactory):
    class Meta:
        model = Alignment

    member = factory.SubFactory(MemberFactory)
    tendency = factory.SubFactory(TendencyFactory)
    level = AlignmentLevel.EXPLORING
    review_state = ReviewState.NEEDS_REVIEW


class ReviewNoteFactory(DjangoModelFactory):
    class Meta:
        model = ReviewNote

    alignment = factory.SubFactory(AlignmentFactory)
    author = factory.SubFactory(LeadFactory)
    body = "Strong in base-building; wants more study of the strategy drafts."


class InvitationFactory(DjangoModelFactory):
    class Meta:
        model = Invitation

    core = factory.SubFactory(CoreGroupFactory)
    member = factory.SubFactory(MemberFactory, status=MemberStatus.PROSPECT)
    stage = InvitationStage.IDENTIFIED
