"""Match spreadsheet headers to person fields; the person can correct the result."""

import re

from members.text import fold

# What a column can become. "note" keeps the column's text in the person's notes, so
# nothing in the file is dropped without the person choosing to drop it.
TARGETS = {
    "name": "Name",
    "first_name": "First name (joined to last name)",
    "last_name": "Last name (joined to first name)",
    "preferred_name": "Preferred name",
    "pronouns": "Pronouns",
    "email": "Email",
    "phone": "Phone",
    "city": "City",
    "region": "State / region",
    "status": "Status",
    "joining_story_kind": "Joining story (kind)",
    "joining_story": "Joining story in their own words",
    "sectors": "Sectors",
    "joined_on": "Joined on",
    "note": "Keep in notes",
    "": "Ignore this column",
}
SINGLE_USE = set(TARGETS) - {"note", ""}

# Headers seen in the organization's spreadsheets and common exports, folded.
SYNONYMS = {
    "name": ["name", "full name", "person", "member", "member name", "contact", "contact name"],
    "first_name": ["first name", "first", "given name", "firstname", "fname", "forename"],
    "last_name": ["last name", "last", "surname", "family name", "lastname", "lname"],
    "preferred_name": ["preferred name", "nickname", "goes by", "chosen name", "known as"],
    "pronouns": ["pronouns", "pronoun", "pronouns optional"],
    "email": ["email", "e mail", "email address", "e mail address", "mail", "correo"],
    "phone": ["phone", "phone number", "mobile", "cell", "cell phone", "telephone", "tel"],
    "city": ["city", "town", "city town", "town city", "locality", "ciudad"],
    "region": ["state", "region", "province", "state province", "state region"],
    "status": ["status", "membership status", "member status", "membership"],
    "joining_story_kind": [
        "joining story",
        "joining story kind",
        "story type",
        "story kind",
        "kind",
        "background",
        "generation",
        "cohort",
        "category",
    ],
    "joining_story": [
        "why did you join",
        "why did you join?",
        "why they joined",
        "why joined",
        "own words",
        "in their own words",
        "reason for joining",
        "story",
        "why",
    ],
    "sectors": [
        "sector",
        "sectors",
        "sector s",
        "movement sector",
        "movement sectors",
        "issue area",
        "issue areas",
        "work area",
        "areas of work",
    ],
    "joined_on": [
        "joined",
        "joined on",
        "join date",
        "date joined",
        "member since",
        "start date",
        "joined date",
    ],
    "note": ["note", "notes", "comments", "comment"],
}
_LOOKUP = {synonym: target for target, synonyms in SYNONYMS.items() for synonym in synonyms}
# Looser rules for headers no synonym names, tried in order.
_KEYWORDS = [
    ("joining_story", ("why", "join")),
    ("joining_story", ("own", "words")),
    ("joined_on", ("join", "date")),
    ("joining_story_kind", ("story", "kind")),
    ("email", ("email",)),
    ("phone", ("phone",)),
    ("sectors", ("sector",)),
    ("preferred_name", ("preferred",)),
]


def header_score(cells: list[str]) -> int:
    """How many of `cells` are column names we know: a synonym, or a field's own label.

    Finds the header under a title row: a title ("Members, spring 2024") names no column,
    a header names several; data rows come below it.
    """
    return sum(1 for cell in cells if cell and normalise_header(cell) in _KNOWN_HEADERS)


def field_label(name: str) -> str:
    """A field's name as the import pages and the rejected-rows file show it."""
    return {"note": "Notes", "joining_story_kind": "Joining story"}.get(name) or TARGETS.get(
        name, name
    ).split(" (")[0]


def normalise_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", fold(header)).strip()


def guess_mapping(headers: list[str]) -> list[str]:
    """One target per column; each field used once (the first column wins)."""
    used = set()
    mapping = []
    for header in headers:
        key = normalise_header(header)
        target = _LOOKUP.get(key)
        if target is None:
            words = set(key.split())
            target = next(
                (
                    t
                    for t, needed in _KEYWORDS
                    if all(any(w.startswith(n) for w in words) for n in needed)
                ),
                "note",
            )
        if target in SINGLE_USE and target in used:
            target = "note"
        used.add(target)
        mapping.append(target)
    return mapping


def mapping_errors(headers: list[str], mapping: list[str]) -> list[str]:
    """Problems that make a mapping unusable, said so the person can fix them."""
    errors = []
    if len(mapping) != len(headers):
        errors.append("Choose what each column becomes.")
        return errors
    unknown = [t for t in mapping if t not in TARGETS]
    if unknown:
        errors.append(f"Unknown choice: {', '.join(unknown)}.")
    for target in SINGLE_USE:
        columns = [h for h, t in zip(headers, mapping, strict=True) if t == target]
        if len(columns) > 1:
            errors.append(
                f"{TARGETS[target]} is chosen for {len(columns)} columns: {', '.join(columns)}."
            )
    if "name" not in mapping and not {"first_name", "last_name"} & set(mapping):
        errors.append("No column gives the person's name: choose Name, or First and Last name.")
    return errors


_KNOWN_HEADERS = set(_LOOKUP) | {
    normalise_header(label.split(" (")[0]) for target, label in TARGETS.items() if target
}
