"""Import people from a CSV or XLSX file, as the import page does, for scripted migrations.

    manage.py import_people old-list.csv --by olive --dry-run
    manage.py import_people old-list.csv --by olive --mapping "Town=city,Shirt size="
    manage.py import_people old-list.csv --by olive --map "City, State=city" --map "Town="

Prints what happened to every row (an update with each field it changes, old → new) and
exits with status 1 when any row was rejected or held.

Possible duplicates (weak evidence: a similar name in the same city, a shared phone under
another name, or a match with something that disagrees) need a decision the page asks a
person for. --possible-duplicates says it for all of them: "add" as new people, "skip"
them, or "hold" (the default): import the rest, list them, import none of them, exit 1.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from members.importing import applying
from members.importing.columns import TARGETS, field_label
from members.importing.planning import ADD, CREATE, HOLD, REJECT, SKIP, UPDATE
from members.importing.reading import UnreadableFile, size_refusal

LABELS = {
    CREATE: "created",
    UPDATE: "updated",
    HOLD: "held as possible duplicates",
    SKIP: "skipped as duplicate",
    REJECT: "rejected",
}


class Command(BaseCommand):
    help = "Import people from a spreadsheet (CSV or XLSX) with the same rules as the import page."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--by", required=True, help="Username the changes are attributed to in history."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would happen; write nothing."
        )
        parser.add_argument(
            "--mapping",
            default="",
            help='Override the guessed columns: "Header=field,Other header=field". Fields: '
            + ", ".join(t or "(empty: ignore)" for t in TARGETS),
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            dest="maps",
            metavar='"HEADER=field"',
            help="Map one column; repeat for more. The header is everything before the last "
            '"=", so it may hold commas: --map "City, State=city".',
        )
        parser.add_argument(
            "--possible-duplicates",
            choices=[ADD, SKIP, HOLD],
            default=HOLD,
            help="What to do with rows that may be people already here (weak evidence): "
            "add them as new people, skip them, or hold them (the default): import the "
            "rest, list them, import none of them, and exit with status 1. A row whose "
            "email someone already has is never added; it stays held.",
        )
        parser.add_argument(
            "--unknown-sectors",
            choices=["create", "leave-out"],
            default="create",
            help="What to do with sector names no sector matches (default: create them).",
        )

    def handle(
        self,
        *args,
        file,
        by,
        dry_run,
        mapping,
        unknown_sectors,
        maps=(),
        possible_duplicates=HOLD,
        **options,
    ):
        user = get_user_model().objects.filter(username=by).first()
        if user is None:
            raise CommandError(f"No user named {by!r}; --by names who is importing.")
        try:
            # Refused before it is read: a file over the limit is never loaded into memory.
            if refusal := size_refusal(file.stat().st_size):
                raise CommandError(refusal)
            content = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from error
        try:
            record = applying.start_import(filename=file.name, content=content, by=user)
        except UnreadableFile as error:
            raise CommandError(str(error)) from error

        try:
            columns = self.mapping(record, mapping, maps)
        except CommandError:
            applying.discard_import(record, by=user)  # nothing of a refused run is kept
            raise
        try:
            record = applying.preview_import(record, mapping=columns)
            if record.unknown_sectors and unknown_sectors == "leave-out":
                record = applying.preview_import(
                    record, sector_choices=dict.fromkeys(record.unknown_sectors, "")
                )
        except ValidationError as error:
            applying.discard_import(record, by=user)
            raise CommandError(" ".join(error.messages)) from error
        if possible_duplicates != HOLD:
            applying.decide_undecided(record, possible_duplicates, by=user)

        if dry_run:
            self.report(record, heading="Dry run: nothing was written.")
            counts = applying.counts_by_action(record)
            held = applying.held_counts(record)["undecided"]
            applying.discard_import(record, by=user)
        else:
            record = applying.apply_import(record, by=user, undecided=HOLD)
            self.report(record, heading=f"{record} applied.")
            counts = applying.counts_by_action(record)
            held = counts[HOLD]
        problems = []
        if counts[REJECT]:
            problems.append("Some rows were rejected; fix them and import those rows again.")
        if held:
            problems.append(
                f"{held} possible duplicate{'s were' if held != 1 else ' was'} held"
                + (", not imported" if not dry_run else "")
                + ": decide on the import page, or run again with "
                "--possible-duplicates=add or --possible-duplicates=skip."
            )
        if problems:
            raise CommandError(" ".join(problems))

    def mapping(self, record, text, maps=()) -> list[str]:
        """The guessed columns with --mapping's and then each --map's choices applied.

        --mapping splits on commas ("Town=city,Shirt size="); --map takes one column whose
        header may hold commas, split at its last "=". Raises CommandError naming the
        unknown column or field.
        """
        columns = list(record.mapping)
        pairs = [part.partition("=") for part in filter(None, (p.strip() for p in text.split(",")))]
        for one in maps:
            if "=" not in one:
                raise CommandError(f'--map {one!r} needs "HEADER=field", like "City, State=city".')
            pairs.append(one.rpartition("="))
        for header, _, target in pairs:
            header, target = header.strip(), target.strip()
            if header not in record.headers:
                raise CommandError(f"No column named {header!r}; the file has {record.headers}.")
            if target not in TARGETS:
                raise CommandError(f"Unknown field {target!r} for {header!r}.")
            columns[record.headers.index(header)] = target
        return columns

    def report(self, record, *, heading):
        write = self.stdout.write
        write(heading)
        write(
            "Columns: "
            + "; ".join(
                f"{header} → {TARGETS[target]}"
                for header, target in zip(record.headers, record.mapping, strict=True)
            )
        )
        for warning in record.warnings:
            write(self.style.WARNING(f"Warning: {warning}"))
        counts = applying.counts_by_action(record)
        write(", ".join(f"{counts[action]} {label}" for action, label in LABELS.items()))
        for action, label in LABELS.items():
            rows = list(
                record.rows.filter(action=action).select_related("member").order_by("number")
            )
            if not rows:
                continue
            write(f"\n{label.capitalize()} ({len(rows)}):")
            for row in rows:
                write(
                    f"  row {row.number}: {row.values.get('name') or '(no name)'}{self.detail(row)}"
                )

    def detail(self, row) -> str:
        """Why the row became what it did; for an update (or a held row's possible
        update), each field it changes, old → new, as the preview page lists them."""
        if row.errors:
            return " — " + "; ".join(f"{field}: {message}" for field, message in row.errors.items())
        parts = list(row.reasons)
        if row.decision:
            parts.append(f"decided: {row.decision}")
        if row.changes and row.action in (UPDATE, HOLD):
            changes = "; ".join(
                f"{field_label(name)}: {self.shown(old)} → {self.shown(new)}"
                for name, (old, new, *_added) in row.changes.items()
            )
            parts.append(("updating would change " if row.action == HOLD else "changes ") + changes)
        return " — " + "; ".join(parts) if parts else ""

    @staticmethod
    def shown(value) -> str:
        """A value on one line: "(empty)" for nothing, line breaks as " / "."""
        text = " / ".join(str(value).splitlines())
        return f"“{text}”" if text else "(empty)"
