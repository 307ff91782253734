"""A messy spreadsheet like the organization's old ones, with known outcomes per row.

Windows-1252, semicolons, a blank row and repeated header rows, an extra column, dates in
five formats, sectors written three ways plus an unknown one, joining-story kinds written
loosely, duplicates inside the file and against people already saved, and broken rows.
`build()` makes the same bytes every time; EXPECTED says what importing it must do.
"""

import csv
import io

from members.text import fold
from tests.factories import MemberFactory, SectorFactory

HEADERS = [
    "First name",
    "Last name",
    "E-mail",
    "Phone",
    "Town",
    "State",
    "Sector(s)",
    "Joining story",
    "Why did you join?",
    "Member since",
    "Status",
    "Shirt size",
]
FIRST = [
    "José",
    "Ana",
    "Marisol",
    "Thérèse",
    "Kwame",
    "Óscar",
    "Leticia",
    "Joaquín",
    "Renée",
    "Tomás",
    "Ximena",
    "Dolores",
    "Ignacio",
    "Brígida",
    "Amadou",
]
LAST = [
    "Núñez",
    "Okafor",
    "Villaseñor",
    "Lindqvist",
    "Abernathy",
    "Castañeda",
    "Whitfield",
    "Brennan",
    "Mbeki",
    "Fontaine",
    "Halvorsen",
    "Quiñones",
]
# Every person in the file lives in a different (city, last name) pair, so no two clean
# rows look alike by name and city; the duplicates below are made on purpose.
CITIES = [
    ("Oakland", "CA"),
    ("Detroit", "MI"),
    ("Durham", "NC"),
    ("Tucson", "AZ"),
    ("Chicago", "IL"),
    ("Albuquerque", "NM"),
    ("Jackson", "MS"),
    ("Portland", "OR"),
    ("Baltimore", "MD"),
    ("Milwaukee", "WI"),
    ("Denver", "CO"),
    ("Boston", "MA"),
    ("Atlanta", "GA"),
    ("Houston", "TX"),
    ("Seattle", "WA"),
]
SECTOR_WRITINGS = [
    "housing; labor",
    "Housing, Labor",
    "Climate",
    "abolition / Education",
    "Immigrant justice",
    "black-liberation",
    "",
    "LABOR",
]
KIND_WRITINGS = [
    "NCM vet",
    "social movement",
    "Middle generation",
    "",
    "other",
    "Social-movement leftist",
    "new communist movement veteran",
    "mid gen?",
]
UNKNOWN_SECTOR_SURNAMES = [
    "Ashworth",
    "Blackwood",
    "Carrington",
    "Delacroix",
    "Eastman",
    "Fairbanks",
    "Greenleaf",
    "Hollister",
    "Ingram",
    "Jefferies",
]
# People already saved; names far apart so only the planted duplicates look alike.
UPDATED_NAMES = ["Walter Rodney", "Grace Boggs", "Fred Hampton", "Yuri Kochiyama", "Bayard Rustin"]
UNCHANGED_NAMES = ["Claudia Jones", "Huey Newton", "Dolores Huerta"]
DATE_WRITINGS = ["2021-03-04", "03/04/2021", "4 Mar 2021", "March 4, 2021", "2019/11/30"]

CLEAN_PEOPLE = 180
UNKNOWN_SECTOR_PEOPLE = 10
# The four Fresno people known by name and city only are possible duplicates, held for a
# decision; the six repeats and three unchanged people are skipped.
EXPECTED = {"create": 190, "update": 5, "hold": 4, "skip": 9, "reject": 7}
EXISTING_EMAILS_UPDATED = [f"existing{i}@old-list.example" for i in range(5)]
EXISTING_EMAILS_UNCHANGED = [f"same{i}@old-list.example" for i in range(3)]
REJECTED_ROWS_FIELDS = ["email", "phone", "joined_on", "name", "status", "email", "joined_on"]


def _person(i):
    first = FIRST[i % len(FIRST)]
    last = LAST[(i // len(FIRST)) % len(LAST)]
    city, state = CITIES[i % len(CITIES)]
    return first, last, city, state


def existing_people():
    """People already saved before the import: some the file updates, some it repeats."""
    labor = SectorFactory(name="Labor", slug="labor")
    people = []
    for name, email in zip(UPDATED_NAMES, EXISTING_EMAILS_UPDATED, strict=True):
        people.append(
            MemberFactory(
                name=name, email=email, city="Reno", phone="", region="NV", sectors=[labor]
            )
        )
    for name, email in zip(UNCHANGED_NAMES, EXISTING_EMAILS_UNCHANGED, strict=True):
        people.append(
            MemberFactory(
                name=name,
                email=email,
                city="Reno",
                phone="",
                region="NV",
                joining_story="",
                joining_story_kind="other",
                pronouns="",
                status="member",
                joined_on=None,
                sectors=[],
            )
        )
    # Known by name and city only: the file lists them without an email.
    for i, name in enumerate(["Guadalupe Ortiz", "Harold Finch", "Mei Lin Chow", "Rosa Ybarra"]):
        people.append(MemberFactory(name=name, city="Fresno", email=f"known{i}@x.example"))
    return people


def rows():
    out = []
    for i in range(CLEAN_PEOPLE):
        first, last, city, state = _person(i)
        out.append(
            [
                first,
                last,
                f"{fold(first)[0]}.{i}@import.example",
                f"(555) 2{i:02d}-{1000 + i}" if i % 3 else "",
                city,
                state,
                SECTOR_WRITINGS[i % len(SECTOR_WRITINGS)],
                KIND_WRITINGS[i % len(KIND_WRITINGS)],
                "Wanted our wins to add up to something." if i % 2 else "",
                DATE_WRITINGS[i % len(DATE_WRITINGS)],
                "member" if i % 7 else "Prospect",
                ["S", "M", "L", "XL"][i % 4],
            ]
        )
        if i == 60:
            out.append([""] * len(HEADERS))  # a blank row
        if i in (90, 150):
            out.append(list(HEADERS))  # the header again, as pasted sheets have it
    for i in range(UNKNOWN_SECTOR_PEOPLE):
        out.append(
            [
                FIRST[i],
                UNKNOWN_SECTOR_SURNAMES[i],
                f"unknown{i}@import.example",
                "",
                "Flint",
                "MI",
                "Disability justice; housing",
                "",
                "",
                "",
                "",
                "",
            ]
        )
    # Against the database: the same email in other case; the file brings a new city.
    for name, email in zip(UPDATED_NAMES, EXISTING_EMAILS_UPDATED, strict=True):
        first, last = name.split(" ", 1)
        out.append([first, last, email.upper(), "", "Sparks", "NV", "", "", "", "", "", ""])
    for name, email in zip(UNCHANGED_NAMES, EXISTING_EMAILS_UNCHANGED, strict=True):
        first, last = name.split(" ", 1)
        out.append([first, last, email, "", "Reno", "NV", "", "", "", "", "", ""])
    for name in ["Guadalupe Ortiz", "Harold Finch", "Mei-Lin Chow", "Rosa Ybarra"]:
        first, last = name.split(" ", 1)
        out.append([first, last, "", "", "Fresno", "CA", "", "", "", "", "", ""])
    # Inside the file: rows repeating earlier ones (same email), the state left out.
    for i in (1, 2, 3, 4, 5, 6):
        repeat = list(out[i])
        repeat[5] = ""
        out.append(repeat)
    # Broken rows, each with one bad field (REJECTED_ROWS_FIELDS in this order).
    blank = ["", "", "", "", "", ""]
    out += [
        ["Maria", "Broken", "maria@@import.example", "", "Gary", "IN", *blank],
        ["Short", "Phone", "short.phone@import.example", "123", "Gary", "IN", *blank],
        [
            "Future",
            "Date",
            "future@import.example",
            "",
            "Gary",
            "IN",
            "",
            "",
            "",
            "2099-01-01",
            "",
            "",
        ],
        ["", "", "nobody@import.example", "", "Gary", "IN", *blank],
        [
            "Odd",
            "Status",
            "odd.status@import.example",
            "",
            "Gary",
            "IN",
            "",
            "",
            "",
            "",
            "honorary",
            "",
        ],
        ["No", "At", "no-at-sign.example", "", "Gary", "IN", *blank],
        [
            "Bad",
            "Date",
            "bad.date@import.example",
            "",
            "Gary",
            "IN",
            "",
            "",
            "",
            "31/31/2020",
            "",
            "",
        ],
    ]
    return out


def build(encoding="cp1252", delimiter=";") -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(rows())
    return text.getvalue().encode(encoding)
