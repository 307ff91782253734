"""Decide, for every row of a mapped sheet, what importing it would do. Writes nothing.

create  a new person
update  an existing person found on strong evidence (members.duplicates: the same email,
        or the same phone and a compatible name, with nothing conflicting); lists the
        fields it changes. A filled cell replaces a stored value only when it improves it
        (members.importing.improvement): an empty cell never erases, an initial never
        replaces a name, an equivalent phone or email is already up to date; sectors add.
hold    a possible duplicate (weak evidence, or strong evidence with a conflict) of a
        saved person or of an earlier row: a person decides per row whether to add it as
        a new person, update the saved person, or skip it (ImportRow.decision)
skip    a repeat of an earlier row on strong evidence, or a known person the row would
        not change
reject  a value that cannot be used; the reasons name the fields
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import prefetch_related_objects
from django.utils.translation import gettext

from members.duplicates import SAME_EMAIL, Verdict, find_duplicates_bulk
from members.importing.columns import SYNONYMS, TARGETS, normalise_header
from members.importing.improvement import is_improvement, is_respelling
from members.importing.values import (
    CellError,
    LostValue,
    as_text,
    date_reader,
    parse_date,
    parse_email,
    parse_kind,
    parse_phone,
    parse_status,
    remembered,
    sector_key,
    split_sectors,
    unneutralise,
)
from members.models import PERSON_FIELDS, Member, Sector

CREATE, UPDATE, HOLD, SKIP, REJECT = "create", "update", "hold", "skip", "reject"
ACTIONS = (CREATE, UPDATE, HOLD, SKIP, REJECT)
# What a person decides for a held row (ImportRow.decision); "" while undecided.
ADD = "add"
DECISIONS = (ADD, UPDATE, SKIP)

# Fields an import sets from a column; the notes are added to, not replaced.
IMPORTED_FIELDS = [name for name in PERSON_FIELDS if name != "note"]
# A column that would change this many existing values, and most of those it touches,
# is more likely mapped to the wrong field than right.
MANY_CHANGES = 5


@dataclass
class RowPlan:
    number: int
    cells: list[str]
    action: str = CREATE
    values: dict = field(default_factory=dict)
    sector_keys: list[str] = field(default_factory=list)
    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    member: Member | None = None
    duplicate_row: int | None = None
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    # For held rows: the evidence for and against (Evidence.as_dict()), and whether adding
    # the row as a new person is possible (not when its email already belongs to someone).
    evidence: list[dict] = field(default_factory=list)


@dataclass
class ImportPlan:
    headers: list[str]
    mapping: list[str]
    rows: list[RowPlan]
    # Sector names in the file that match no sector: folded key -> name as first written.
    unknown_sectors: dict[str, str]
    warnings: list[str]

    @property
    def counts(self) -> dict[str, int]:
        counter = Counter(row.action for row in self.rows)
        return {action: counter.get(action, 0) for action in ACTIONS}

    @property
    def changed_fields(self) -> dict[str, int]:
        """How many existing people each field would change for."""
        counter = Counter(name for row in self.rows if row.action == UPDATE for name in row.changes)
        return dict(counter.most_common())


def plan_import(sheet, mapping, *, sector_choices=None, progress=None) -> ImportPlan:
    """Plan every row of `sheet` read through `mapping` (one target per column).

    `sector_choices` maps an unknown sector's folded key to a Sector pk, "create" or ""
    (leave it out); unknown sectors without a choice are offered for creation.
    """
    sector_choices = sector_choices or {}
    sectors = _known_sectors()
    parsers = _column_parsers(sheet, mapping, sectors)
    rows, unknown = [], {}
    for number, cells in sheet.rows:
        row, written_sectors = _read_row(
            number, cells, sheet.headers, mapping, sectors, parsers=parsers
        )
        rows.append(row)
        for written in written_sectors:
            if sector_key(written) not in sectors:
                unknown.setdefault(sector_key(written), written)
    for row in rows:
        row.sector_keys = [
            key for key in row.sector_keys if key in sectors or sector_choices.get(key, "create")
        ]
    _find_duplicates(rows, progress=progress)
    updates = [row for row in rows if row.action in (UPDATE, HOLD) and row.member]
    prefetch_related_objects([row.member for row in updates], "sectors")
    for row in updates:
        _plan_update(row, sectors, unknown)
    plan = ImportPlan(sheet.headers, mapping, rows, unknown, warnings=[])
    plan.warnings = _mapping_warnings(plan)
    return plan


def _column_parsers(sheet, mapping, sectors) -> dict:
    """The parser of each column that has one, for one import: the date column's reads
    its day/month order (values.date_reader, decided once for the column), and those of
    columns written the same way on many rows read each distinct text once
    (values.remembered). Emails and phones differ on every row: parsed as they come."""
    known = sectors.keys()
    return {
        "email": parse_email,
        "phone": parse_phone,
        "status": remembered(parse_status),
        "joined_on": date_reader(sheet, mapping),
        "joining_story_kind": remembered(parse_kind),
        "sectors": remembered(lambda text: split_sectors(text, known_keys=known)),
        "sector_key": remembered(sector_key),
    }


def _read_row(
    number, cells, headers, mapping, sectors, *, parsers=None
) -> tuple[RowPlan, list[str]]:
    """The row's cleaned values and errors, and its sector names as written.

    `parsers` are _column_parsers' (one import's); without them, each value is parsed
    on its own, dates month first.
    """
    parsers = parsers or {
        "email": parse_email,
        "phone": parse_phone,
        "status": parse_status,
        "joined_on": parse_date,
        "joining_story_kind": parse_kind,
        "sectors": lambda text: split_sectors(text, known_keys=sectors.keys()),
        "sector_key": sector_key,
    }
    row = RowPlan(number=number, cells=cells)
    by_target = {}
    notes = []
    for header, target, cell in zip(headers, mapping, cells, strict=True):
        cell = unneutralise(cell)
        if not cell:
            continue
        if target == "note":
            # A column that is itself the notes goes in as written; others say their name.
            is_notes = normalise_header(header) in SYNONYMS["note"]
            notes.append(cell if is_notes else f"{header}: {cell}")
        elif target:
            by_target[target] = cell

    name = by_target.get("name") or " ".join(
        part for part in (by_target.get("first_name"), by_target.get("last_name")) if part
    )
    name = " ".join(name.split())
    if not name:
        row.errors["name"] = gettext("The row has no name.")
    row.values["name"] = name
    for target in ("preferred_name", "pronouns", "city", "region"):
        row.values[target] = " ".join(by_target.get(target, "").split())
    row.values["joining_story"] = by_target.get("joining_story", "").strip()

    lost = {
        target
        for target in ("email", "phone", "status", "joined_on")
        if _parse_into(row, target, parsers[target], by_target)
    }
    kind_text = by_target.get("joining_story_kind", "")
    row.values["joining_story_kind"], understood = parsers["joining_story_kind"](kind_text)
    if not understood:
        notes.append(f"{TARGETS['joining_story_kind']} (as written): {kind_text}")

    written = parsers["sectors"](by_target.get("sectors", ""))
    row.sector_keys = list(dict.fromkeys(parsers["sector_key"](name) for name in written))
    row.note = "\n".join(notes)
    for name, message in _too_long(row.values).items():
        row.errors.setdefault(name, message)
    if set(row.errors) - lost:
        row.action = REJECT
    return row, written


def _too_long(values: dict) -> dict[str, str]:
    """field -> why, for each value longer than its column (the model field's max_length).

    Checked here, at the preview, so a row that cannot be stored is rejected with its
    reason on both databases, instead of failing the whole import on PostgreSQL (which
    refuses an overlong value where SQLite would store it).
    """
    found = {}
    for name, value in values.items():
        limit = getattr(Member._meta.get_field(name), "max_length", None)
        if limit and isinstance(value, str) and len(value) > limit:
            found[name] = f"{len(value):,} characters; at most {limit:,} fit here."
    return found


def _parse_into(row, target, parse, by_target) -> bool:
    """Parse the row's cell for `target` into row.values, or its error into row.errors.

    Returns True when the value was lost (values.LostValue: a phone in scientific
    notation): it is left out with its reason shown, and the row is not rejected for it.
    """
    text = by_target.get(target, "")
    try:
        row.values[target] = parse(text)
    except LostValue as error:
        row.errors[target] = str(error)
        row.values[target] = ""
        return True
    except CellError as error:
        row.errors[target] = str(error)
        row.values[target] = text
    return False


def _known_sectors() -> dict[str, Sector]:
    sectors = {}
    for sector in Sector.objects.all():
        sectors[sector_key(sector.name)] = sector
        sectors.setdefault(sector_key(sector.slug), sector)
    return sectors


def _find_duplicates(rows, *, progress=None):
    candidates = [row for row in rows if row.action != REJECT]
    matches = find_duplicates_bulk(
        [
            {key: row.values.get(key) or "" for key in ("name", "email", "phone", "city", "region")}
            for row in candidates
        ],
        limit=3,
    )
    for row, found in zip(candidates, matches, strict=True):
        _decide(row, found, candidates)
    if progress:
        progress(len(rows))


def _decide(row, found, candidates):
    """Strong evidence updates or skips; weak (or contradicted) evidence holds the row.

    Matches come most likely first (strong before weak). A strong repeat of an earlier
    row is skipped; strong evidence for a saved person updates them; otherwise the
    likeliest weak match, saved person first (the only one that can be updated), holds
    the row for a person to decide.
    """
    earlier = found.earlier_rows[0] if found.earlier_rows else None
    saved = found.in_database[0] if found.in_database else None
    if earlier and earlier.verdict == Verdict.STRONG:
        row.action = SKIP
        row.duplicate_row = candidates[earlier.row].number
        row.reasons = [
            gettext("repeats row %(row)s (%(reasons)s)")
            % {"row": row.duplicate_row, "reasons": ", ".join(earlier.reason_texts)}
        ]
    elif (
        saved
        and saved.verdict == Verdict.STRONG
        and is_respelling(saved.member.name, row.values.get("name", ""))
    ):
        # The same person by email or phone, but a name word written otherwise: renaming
        # them to a typo (or keeping one) is for a person to decide, not the import.
        row.action = HOLD
        row.member = saved.member
        row.evidence = [item.as_dict() for item in saved.evidence]
        row.reasons = [
            gettext(
                "may be %(person)s (%(reasons)s), but the name is written “%(name)s” here: "
                "decide whether to update it"
            )
            % {
                "person": saved.member,
                "reasons": ", ".join(saved.reason_texts),
                "name": row.values.get("name", ""),
            }
        ]
    elif saved and saved.verdict == Verdict.STRONG:
        row.action = UPDATE
        row.member = saved.member
        row.reasons = list(saved.reason_texts)
    elif saved:
        row.action = HOLD
        row.member = saved.member
        row.evidence = [item.as_dict() for item in saved.evidence]
        row.reasons = [
            gettext("may be %(person)s (%(reasons)s)")
            % {"person": saved.member, "reasons": ", ".join(saved.reason_texts)}
        ]
    elif earlier:
        row.action = HOLD
        row.duplicate_row = candidates[earlier.row].number
        row.evidence = [item.as_dict() for item in earlier.evidence]
        row.reasons = [
            gettext("may repeat row %(row)s (%(reasons)s)")
            % {"row": row.duplicate_row, "reasons": ", ".join(earlier.reason_texts)}
        ]


def decision_choices(row) -> list[tuple[str, str]]:
    """What a person may decide for a held row (a RowPlan or ImportRow), as (value, label).

    "Add as a new person" is left out when the row's email is the other record's: the
    email belongs to one person only. "Update" needs a saved person to update.
    """
    choices = []
    if not any(item["description"] == SAME_EMAIL for item in row.evidence):
        choices.append((ADD, gettext("Add as a new person")))
    if row.member is not None:
        choices.append((UPDATE, gettext("Update %(person)s") % {"person": row.member}))
    choices.append((SKIP, gettext("Skip this row")))
    return choices


def _plan_update(row, sectors, unknown):
    """The changes the row brings to row.member; an update changing nothing is a skip.

    For a held row, the changes its "update" decision would make; it stays held.
    """
    member = row.member
    for name in IMPORTED_FIELDS:
        new = row.values.get(name)
        old = getattr(member, name)
        if not is_improvement(name, old, _typed_for_compare(name, new)):
            continue
        if name in ("status", "joining_story_kind") and new == Member._meta.get_field(name).default:
            continue  # an empty cell parsed to the default is not a change
        row.changes[name] = (as_text(old), as_text(new))
    current = {sector_key(s.name): s.name for s in member.sectors.all()}
    added = {
        key: sectors[key].name if key in sectors else unknown[key]
        for key in row.sector_keys
        if key not in current
    }
    if added:
        row.changes["sectors"] = (
            ", ".join(sorted(current.values())),
            ", ".join(sorted([*current.values(), *added.values()])),
        )
    if row.note and row.note not in member.note:
        row.changes["note"] = (
            as_text(member.note),
            "\n".join(filter(None, [member.note, row.note])),
        )
    if not row.changes and row.action == UPDATE:
        row.action = SKIP
        row.reasons = [f"{member} is already up to date"]


def _typed_for_compare(name, value):
    """Planned values are typed already, except dates kept as text by an earlier preview."""
    if name == "joined_on" and isinstance(value, str) and value:
        return dt.date.fromisoformat(value)
    return value


def _mapping_warnings(plan: ImportPlan) -> list[str]:
    """Columns that would overwrite many existing values: likely mapped to the wrong field."""
    warnings = []
    updates = [row for row in plan.rows if row.action in (UPDATE, SKIP) and row.member]
    for name in plan.changed_fields:
        if name in ("sectors", "note"):
            continue
        replaced = sum(1 for row in updates if name in row.changes and row.changes[name][0] != "")
        if replaced >= MANY_CHANGES and replaced * 2 >= len(updates):
            header = next(
                (h for h, t in zip(plan.headers, plan.mapping, strict=True) if t == name), name
            )
            warnings.append(
                gettext(
                    "The column “%(column)s” would replace %(count)s existing %(field)s values. "
                    "Check that it is mapped to the right field."
                )
                % {
                    "column": header,
                    "count": replaced,
                    "field": Member._meta.get_field(name).verbose_name,
                }
            )
    return warnings
