"""Match spreadsheet headers to person fields; the person can correct the result."""

import functools
import re

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from members.text import fold

# What a column can become. "note" keeps the column's text in the person's notes, so
# nothing in the file is dropped without the person choosing to drop it.
TARGETS = {
    "name": _("Name"),
    "first_name": _("First name (joined to last name)"),
    "last_name": _("Last name (joined to first name)"),
    "preferred_name": _("Preferred name"),
    "pronouns": _("Pronouns"),
    "email": _("Email"),
    "phone": _("Phone"),
    "city": _("City"),
    "region": _("State / region"),
    "status": pgettext_lazy("membership", "Status"),
    "joining_story_kind": _("Joining story (kind)"),
    "joining_story": _("Joining story in their own words"),
    "sectors": _("Sectors"),
    "joined_on": _("Joined on"),
    "note": _("Keep in notes"),
    "": _("Ignore this column"),
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
# Headers of Spanish spreadsheets beyond the export's own (added by _lookup), folded.
SYNONYMS["name"] += ["nombre", "nombre completo", "nombre y apellido", "nombre y apellidos"]
SYNONYMS["first_name"] += ["primer nombre", "nombre de pila"]
SYNONYMS["last_name"] += ["apellido", "apellidos"]
SYNONYMS["preferred_name"] += ["apodo", "nombre preferido"]
SYNONYMS["pronouns"] += ["pronombres", "pronombre"]
SYNONYMS["email"] += ["correo electronico", "correo e"]
SYNONYMS["phone"] += ["telefono", "celular", "movil", "numero de telefono"]
SYNONYMS["sectors"] += ["sectores", "area de trabajo", "areas de trabajo"]
SYNONYMS["joined_on"] += ["fecha de ingreso", "miembro desde"]
SYNONYMS["note"] += ["nota", "notas", "comentarios", "comentario"]


@functools.cache
def _lookup() -> tuple[dict[str, str], frozenset[str]]:
    """{folded header: target} and every header we know, in every language the site
    speaks: the synonyms above, the export's own headers (members.exporting.COLUMN_NAMES)
    and the targets' labels as each language writes them. An export in Spanish imports
    back as one in English. Made on first use (translations need the apps loaded)."""
    from members.exporting import COLUMN_NAMES

    lookup = {synonym: target for target, synonyms in SYNONYMS.items() for synonym in synonyms}
    labels = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for target, header in COLUMN_NAMES.items():
                lookup.setdefault(normalise_header(str(header)), target)
            for target, label in TARGETS.items():
                if target:
                    labels.add(normalise_header(str(label).split(" (")[0]))
    return lookup, frozenset(set(lookup) | labels)


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
    known = _lookup()[1]
    return sum(1 for cell in cells if cell and normalise_header(cell) in known)


def field_label(name: str) -> str:
    """A field's name as the import pages and the rejected-rows file show it."""
    labels = {"note": gettext("Notes"), "joining_story_kind": gettext("Joining story")}
    return labels.get(name) or str(TARGETS.get(name, name)).split(" (")[0]


def normalise_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", fold(header)).strip()


def guess_mapping(headers: list[str]) -> list[str]:
    """One target per column; each field used once (the first column wins)."""
    used = set()
    mapping = []
    lookup = _lookup()[0]
    for header in headers:
        key = normalise_header(header)
        target = lookup.get(key)
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
        errors.append(gettext("Choose what each column becomes."))
        return errors
    unknown = [t for t in mapping if t not in TARGETS]
    if unknown:
        errors.append(gettext("Unknown choice: %(choices)s.") % {"choices": ", ".join(unknown)})
    for target in SINGLE_USE:
        columns = [h for h, t in zip(headers, mapping, strict=True) if t == target]
        if len(columns) > 1:
            errors.append(
                gettext("%(field)s is chosen for %(count)s columns: %(columns)s.")
                % {"field": TARGETS[target], "count": len(columns), "columns": ", ".join(columns)}
            )
    if "name" not in mapping and not {"first_name", "last_name"} & set(mapping):
        errors.append(
            gettext("No column gives the person's name: choose Name, or First and Last name.")
        )
    return errors
