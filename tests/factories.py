"""factory-boy factories for every model; the tests and `manage.py seed_demo` share them."""

import datetime as dt
import random
import unicodedata
from typing import NamedTuple

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
# How often each locale's names appear: roughly a US membership list.
NAME_LOCALE_WEIGHTS = {"en_US": 52, "es_MX": 24, "pt_BR": 7, "fr_FR": 6, "vi_VN": 11}
# Faker's Vietnamese provider puts the family name last; real lists put it first
# (Nguyễn Thị Lan) and the person goes by the given name, the last one.
VIETNAMESE_FAMILY_NAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ"]
VIETNAMESE_MIDDLE_NAMES = {
    "female": ["Thị", "Ngọc", "Thu", "Mai"],
    "male": ["Văn", "Đức", "Minh", "Hữu"],
}

# Real nicknames, by the first name they come from. None is a cut-off of the first name
# (Tom for Thomas would be): a preferred name is what people call someone, not an
# abbreviation the list could have made up.
NICKNAMES = {
    # English
    "Robert": ["Bobby", "Bob"],
    "Elizabeth": ["Liz", "Beth", "Betsy"],
    "Margaret": ["Peggy", "Maggie"],
    "William": ["Bill", "Billy", "Liam"],
    "Richard": ["Rick", "Richie"],
    "James": ["Jim", "Jimmy"],
    "John": ["Jack", "Johnny"],
    "Michael": ["Mikey", "Mike"],
    "Jennifer": ["Jenny"],
    "Kimberly": ["Kimmie"],
    "Christopher": ["Kit", "Topher"],
    "Matthew": ["Matty"],
    "Anthony": ["Tony"],
    "Daniel": ["Danny"],
    "Joseph": ["Joe", "Joey"],
    "Timothy": ["Timmy"],
    "Thomas": ["Tommy"],
    "Samantha": ["Sammy"],
    "Susan": ["Sue", "Suzy"],
    "Patricia": ["Patty", "Trish"],
    "Rebecca": ["Becky"],
    "Katherine": ["Kate", "Kit", "Kathy"],
    "Catherine": ["Cathy", "Kate"],
    "Kathleen": ["Kathy", "Kay"],
    "Stephanie": ["Stevie"],
    "Deborah": ["Debbie"],
    "Victoria": ["Tori", "Vicky"],
    "Abigail": ["Abby"],
    "Alexandra": ["Sasha", "Lexi"],
    "Alexander": ["Sasha", "Xander"],
    "Nicholas": ["Nick", "Nicky"],
    "Edward": ["Ted", "Eddie", "Ned"],
    "Theodore": ["Teddy"],
    "Charles": ["Charlie", "Chuck"],
    "Benjamin": ["Benji"],
    "Samuel": ["Sammy"],
    "Ronald": ["Ronnie"],
    "Donald": ["Donnie"],
    "Lawrence": ["Larry"],
    "Gerald": ["Jerry"],
    "Zachary": ["Zack"],
    "Dorothy": ["Dot", "Dottie"],
    "Barbara": ["Babs", "Barbie"],
    "Frances": ["Frankie"],
    "Francis": ["Frankie"],
    "Frank": ["Frankie"],
    "Harold": ["Hal"],
    "Henry": ["Hank"],
    "Kenneth": ["Kenny"],
    "Steven": ["Stevie"],
    "Stephen": ["Steve"],
    "Cynthia": ["Cindy"],
    "Christine": ["Tina"],
    "Christina": ["Tina"],
    "Melissa": ["Missy"],
    "Theresa": ["Tess", "Terry"],
    "Teresa": ["Terry"],
    "Amanda": ["Mandy"],
    "Andrew": ["Drew"],
    "Sandra": ["Sandy"],
    "Angela": ["Angie"],
    "Natalie": ["Talia"],
    # Spanish
    "José": ["Pepe", "Chepe"],
    "Jose": ["Pepe"],
    "Francisco": ["Paco", "Pancho", "Chico"],
    "Guadalupe": ["Lupe", "Lupita"],
    "Jesús": ["Chuy", "Chucho"],
    "Ignacio": ["Nacho"],
    "Enrique": ["Quique"],
    "Eduardo": ["Lalo"],
    "Roberto": ["Beto"],
    "Alberto": ["Beto"],
    "Guillermo": ["Memo"],
    "Antonio": ["Toño", "Tony"],
    "Manuel": ["Manolo", "Manny"],
    "Alejandro": ["Alex", "Jano"],
    "Alejandra": ["Alex"],
    "Concepción": ["Concha", "Conchita"],
    "Dolores": ["Lola", "Loli"],
    "Rosario": ["Charo", "Chayo"],
    "Socorro": ["Coco"],
    "Gerardo": ["Jerry"],
    "Rodolfo": ["Fito"],
    "Adolfo": ["Fito"],
    "Ernesto": ["Neto"],
    "Gilberto": ["Beto"],
    "Humberto": ["Beto"],
    "Fernando": ["Nando"],
    "Ricardo": ["Richi"],
    "Arturo": ["Turi"],
    "Mercedes": ["Meche"],
    "Graciela": ["Chela"],
    "Josefina": ["Fina", "Pepa", "Chepina"],
    "Margarita": ["Maggie", "Rita"],
    "Guillermina": ["Mina"],
    "Beatriz": ["Betty"],
    "Isabel": ["Chabela"],
    "Elena": ["Nena"],
    "María José": ["Majo"],
    "María Fernanda": ["Mafer"],
    "Juan Carlos": ["Juanca"],
    "José Luis": ["Joselo", "Pepe"],
    "Luis Miguel": ["Luismi"],
    "Santiago": ["Chago"],
    # Portuguese
    "João": ["Joãozinho"],
    "Antônio": ["Toninho", "Tonho"],
    "Luiz Felipe": ["Lipe"],
    "Felipe": ["Lipe"],
    "Eduarda": ["Duda"],
    "Maria Eduarda": ["Duda"],
    "Luiz": ["Lula"],
    "Gabriela": ["Gabi"],
    "Gabriel": ["Biel"],
    # French
    "Élisabeth": ["Babette", "Lisette"],
    "Guillaume": ["Guy"],
    "Jacqueline": ["Jackie"],
    "Joséphine": ["Josie", "Fifi"],
}


def _fold(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


class PersonName(NamedTuple):
    name: str
    preferred_name: str  # "" for most people
    pronouns: str  # "" when not given


def fake_person_name() -> PersonName:
    """A full name as people write it on a sign-up sheet, the name they go by, pronouns.

    Built from the locales' first and last names, never from Faker's name(), which adds
    honorifics and suffixes (Dr., Sra., MD, PhD) that nobody writes inside their own name.
    Pronouns fit the first name most of the time, as they would in a real list.
    """
    locale = random.choices(list(NAME_LOCALE_WEIGHTS), weights=NAME_LOCALE_WEIGHTS.values())[0]
    fake = NAME_FAKER[locale]
    female = random.random() < 0.52
    first = fake.first_name_female() if female else fake.first_name_male()
    pronouns = random.choices(
        ["she/her", "she/they"] if female else ["he/him", "he/they"], weights=[75, 7]
    )[0]
    pronouns = random.choices([pronouns, "they/them", ""], weights=[82, 4, 14])[0]
    if locale == "vi_VN":
        family = random.choice([name for name in VIETNAMESE_FAMILY_NAMES if name != first])
        if random.random() < 0.35:
            # Written the American way, given name first: no other name to go by.
            return PersonName(f"{first} {family}", "", pronouns)
        middle = random.choice(VIETNAMESE_MIDDLE_NAMES["female" if female else "male"])
        preferred = first if random.random() < 0.7 else ""
        return PersonName(f"{family} {middle} {first}", preferred, pronouns)
    last = fake.last_name()
    if locale == "es_MX" and random.random() < 0.5:
        last = f"{last} {fake.last_name()}"
    elif locale == "fr_FR" and random.random() < 0.1:
        last = f"{last}-{fake.last_name()}"
    preferred = nickname_for(first) if random.random() < 0.45 else ""
    return PersonName(f"{first} {last}", preferred, pronouns)


def nickname_for(first_name):
    """A real nickname of `first_name` (Robert → Bobby, José → Pepe), or "" if none is known."""
    options = NICKNAMES.get(first_name) or NICKNAMES.get(first_name.split()[0], [])
    return random.choice(options) if options else ""


def _fake_name():
    return fake_person_name()[0]


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
