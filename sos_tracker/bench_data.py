"""Many realistic people, fast, for measuring pages and queries at size (not for tests).

    from sos_tracker.bench_data import make_people
    make_people(100_000)  # about a minute on SQLite or PostgreSQL

People are built by the test factories (names with accents from five locales, cities,
phones, joining stories) and written with bulk_create in batches, one transaction per
batch, each given one to three active sectors. save() is skipped, so the derived search
columns are filled by refresh_derived_fields(); the database keeps its own search index
(FTS5 triggers on SQLite, the trigram index on PostgreSQL). No history rows are written:
a benchmark measures reads, and the history of 100,000 invented people would only double
the time it takes to make them.
"""

import random
import secrets

from django.db import transaction

from members.models import Member, Sector
from members.text import name_words
from tests.factories import MemberFactory


def make_people(n: int, *, batch_size: int = 5000) -> int:
    """Create `n` people and return how many were made. Emails are unique per call."""
    sectors = list(Sector.objects.filter(active=True).values_list("pk", flat=True))
    # Emails must not collide with an earlier run's people (case-insensitive unique).
    run = secrets.token_hex(3)
    made = 0
    while made < n:
        count = min(batch_size, n - made)
        people = [_person(made + i, run) for i in range(count)]
        with transaction.atomic():
            people = Member.objects.bulk_create(people, batch_size=1000)
            _give_sectors(people, sectors)
        made += count
    return made


def _person(number: int, run: str) -> Member:
    member = MemberFactory.build()
    words = name_words(member.name)
    # About one in ten has no email, as in real lists; the rest derive it from the name,
    # so searching a surname also finds emails, as it would for real people.
    if random.random() < 0.1:
        member.email = ""
    else:
        member.email = f"{words[0]}.{words[-1]}.{run}{number}@example.net"
    if random.random() < 0.15:
        member.preferred_name = member.name.split()[0][:3]
    member.refresh_derived_fields()
    return member


def _give_sectors(people: list[Member], sectors: list[int]) -> None:
    if not sectors:
        return
    through = Member.sectors.through
    through.objects.bulk_create(
        [
            through(member_id=member.pk, sector_id=sector)
            for member in people
            for sector in random.sample(sectors, k=min(len(sectors), random.choice([1, 1, 2, 3])))
        ],
        batch_size=5000,
    )
