"""Erase a person on request: their record and every trace of them anonymised, counts kept.

erase_person       the one writer: the person becomes an anonymous stub ("Erased person
                   #123": status, joining-story kind, joining date and sectors kept, so totals,
                   check-in counts and funnels stay the same), and every row about them is
                   anonymised; an Erasure records who, when and why, and the access log
                   gets an "erase" entry
erasure_preview    what erase_person would anonymise, in sentences, for the confirmation page

What is anonymised, in order:

1. the person's own rows, and those of the records merged into them (the same human): the
   person (a save, so the erasure itself is in their history), every history row of theirs
   (names, contact, own words and notes blanked), their check-ins' notes and the history of
   those, the import rows that named them (cells, values and changes emptied, so an undo of
   the import cannot restore them either), the merge records' names and snapshots, and the
   admin's log entries' titles;
2. the rows other apps keep about them, by *erasure steps* those apps register here
   (cores: invitations' notes and reasons, review notes' text, and their histories);
3. a sweep of every text column of every table (history tables included) for the names,
   emails and phones the person ever had: a mention in someone else's note, a history
   row's change reason, an import's parsed sheet, is replaced by the stub's name.

History rows are written directly through each model's base manager: rewriting the past
must not add rows to it, and `QuerySet.update()` on the history-keeping managers raises
(members.history) precisely so that ordinary code cannot do this. Current rows of tracked
models are written with bulk_update_with_history, so the erasure shows in their history.

What is left, and why: the access log (append-only by design; it holds ids and keyed
hashes, and the reason is stored with the person's names taken out), user accounts, and
bytes the database has not reclaimed yet (PostgreSQL until VACUUM, SQLite until its pages
are reused) and older backups (see the README: keep backups for a limited time).
"""

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from members.history import bulk_update_with_history
from members.models import CapacityCheckIn, Erasure, ImportRow, Member, MergeRecord
from members.text import phone_digits

# Blanked on the person and on every history row of theirs; `name` becomes the stub's name.
BLANKED_FIELDS = (
    "preferred_name",
    "pronouns",
    "email",
    "phone",
    "city",
    "region",
    "joining_story",
    "note",
)
# Kept: they carry no identity on their own and the network's counts are made of them.
KEPT_FIELDS = ("status", "joining_story_kind", "joined_on", "sectors")
# Apps the sweep leaves alone: accounts of users (not members), sessions (signed blobs,
# expiring), Django's own bookkeeping, and the access log, which is append-only by design
# and holds only ids, counts and keyed hashes (its reason is scrubbed before it is written).
SWEEP_SKIPPED_APPS = frozenset(
    {
        "auth",
        "sessions",
        "contenttypes",
        "axes",
        "otp_totp",
        "otp_static",
        "django_otp",
        "accounts",
        "audit",
    }
)
# Names shorter than this are removed from the person's own rows but not swept from other
# people's text: "Al" or "Mark" would match unrelated words and other people.
SWEEP_MIN_LENGTH = 6
# A phone is swept by its digits too once it has this many ("(512) 555-0123" and
# "512.555.0123" are the same number in someone's note).
PHONE_MIN_DIGITS = 7
# The text the review notes on the person's alignments keep (their count stays).
ERASED_NOTE = "Erased with the person (erasure #{pk})."


def stub_name(pk: int) -> str:
    """The name an erased person keeps: "Erased person #123"."""
    return f"Erased person #{pk}"


@dataclass(frozen=True)
class ErasureStep:
    """What another app does with its rows about a person being erased.

    erase(people, *, by, erasure) -> dict[str, int]
        Anonymise every row the app keeps about the people with these pks (`people`: a
        set of ints, the person and the records merged into them), and the history rows
        of those, keeping counts: rows stay, their free text goes. Returns how many rows
        of each kind it anonymised ({"invitations": 2, ...}), kept in Erasure.counts.
    preview(people) -> list[str]
        Sentences for the confirmation page saying what will be anonymised.
    """

    name: str
    erase: Callable[..., dict]
    preview: Callable[..., list[str]] | None = None


# By name, in registration order.
erasure_steps: dict[str, ErasureStep] = {}


def register_erasure_step(step: ErasureStep) -> None:
    """Add (or replace, by name) a step every erasure runs. Call from AppConfig.ready()."""
    erasure_steps[step.name] = step


# --- reads -----------------------------------------------------------------------------------


def same_person_pks(pk: int) -> set[int]:
    """`pk` and the pks of every record merged into it (and into those), merges not undone.

    A merged-away record was the same human; its history rows carry their old name and
    contact under its own pk.
    """
    found, frontier = {pk}, {pk}
    while frontier:
        merged = set(
            MergeRecord.objects.filter(survivor_pk__in=frontier, undone_at=None).values_list(
                "merged_pk", flat=True
            )
        )
        frontier = merged - found
        found |= frontier
    return found


def erasure_preview(member: Member) -> list[str]:
    """What erasing `member` anonymises, as sentences, for the confirmation page."""
    people = same_person_pks(member.pk)
    history = Member.history.filter(id__in=people).count()
    check_ins = CapacityCheckIn.objects.filter(member_id__in=people).count()
    rows = ImportRow.objects.filter(member_id__in=people).count()
    merges = MergeRecord.objects.filter(Q(survivor_pk__in=people) | Q(merged_pk__in=people)).count()
    lines = [
        gettext(
            "Their name becomes “%(name)s”; preferred name, pronouns, email, phone, city, "
            "region, joining story in their own words and notes are blanked. Status, "
            "joining-story kind, joining date and sectors stay, so totals stay the same."
        )
        % {"name": stub_name(member.pk)},
        ngettext(
            "%(count)d history row of the person anonymised the same way.",
            "%(count)d history rows of the person anonymised the same way.",
            history,
        )
        % {"count": history},
        ngettext(
            "%(count)d check-in kept with its scores; its note blanked.",
            "%(count)d check-ins kept with their scores; their notes blanked.",
            check_ins,
        )
        % {"count": check_ins},
        ngettext(
            "%(count)d import row and %(merges)s naming them emptied.",
            "%(count)d import rows and %(merges)s naming them emptied.",
            rows,
        )
        % {
            "count": rows,
            "merges": ngettext("%(count)d merge record", "%(count)d merge records", merges)
            % {"count": merges},
        },
    ]
    for step in erasure_steps.values():
        if step.preview is not None:
            lines += step.preview(people)
    lines.append(
        gettext(
            "Every other mention of their names, emails and phones, in any table and its "
            "history, is replaced by their new name."
        )
    )
    return lines


# --- the erasure -----------------------------------------------------------------------------


@transaction.atomic
def erase_person(member: Member, *, by, reason: str) -> Erasure:
    """Erase `member` on request, as `by` (the admin), for `reason` (required, as typed).

    Returns the Erasure, whose `counts` say how many rows of each kind were anonymised.
    The person is locked first; the whole erasure is one transaction. Raises
    ValidationError on `reason` when it is blank, and on `__all__` when the person was
    erased already or is gone.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": gettext("Say why this person is erased (e.g. who asked, when).")}
        )
    member = Member.objects.select_for_update().filter(pk=member.pk).first()
    if member is None:
        raise ValidationError(
            gettext("This person is no longer here (merged or deleted)."), code="gone"
        )
    if member.erased_at is not None:
        raise ValidationError(gettext("This person was erased already."), code="erased")
    people = same_person_pks(member.pk)
    name = stub_name(member.pk)
    names, contacts = _identifiers(people)
    pattern = _pattern([*names, *contacts])
    # The reason goes into the access log, which nobody can change: not with their name.
    reason = pattern.sub(name, reason) if pattern else reason
    now = timezone.now()
    erasure = Erasure.objects.create(
        member_pk=member.pk, erased_by=by, erased_at=now, reason=reason
    )

    counts = {"people": 1}
    member.name = name
    for field in BLANKED_FIELDS:
        setattr(member, field, "")
    member.erased_at = now
    member.version += 1
    member._history_user = by
    member._change_reason = erasure.history_reason
    member.save()
    counts["person history rows"] = Member.history.model._base_manager.filter(id__in=people).update(
        name=name, **dict.fromkeys(BLANKED_FIELDS, "")
    )
    counts["check-ins"] = _blank_check_in_notes(people, by=by, erasure=erasure)
    counts["import rows"] = ImportRow.objects.filter(member_id__in=people).update(
        cells=[], values={}, changes={}, evidence=[], reasons=[], note=""
    )
    counts["merge records"] = _empty_merge_records(people, name=name, erasure=erasure)
    counts["admin log entries"] = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Member),
        object_id__in=[str(pk) for pk in people],
    ).update(object_repr=name)
    for step in erasure_steps.values():
        counts.update(step.erase(people, by=by, erasure=erasure))
    sweep_strong = [text for text in names if len(text) >= SWEEP_MIN_LENGTH] + contacts
    counts.update(sweep_mentions(sweep_strong, replacement=name, by=by, erasure=erasure))

    erasure.counts = {label: n for label, n in counts.items() if n}
    erasure.save(update_fields=["counts"])
    _log(by, erasure)
    return erasure


def _identifiers(people: set[int]) -> tuple[list[str], list[str]]:
    """Every name and every email or phone the person ever had (all history rows included),
    longest first: (names, contacts)."""
    names, contacts = set(), set()
    rows = Member.history.filter(id__in=people).values_list(
        "name", "preferred_name", "email", "phone"
    )
    current = Member.objects.filter(pk__in=people).values_list(
        "name", "preferred_name", "email", "phone"
    )
    for name, preferred, email, phone in [*rows, *current]:
        names.update(text.strip() for text in (name, preferred) if text.strip())
        contacts.update(text.strip() for text in (email, phone) if text.strip())
        digits = phone_digits(phone)
        if len(digits) >= PHONE_MIN_DIGITS:
            contacts.add(digits)
    for record in MergeRecord.objects.filter(survivor_pk__in=people, undone_at=None):
        # A merged-away record's values as the merge kept them (members.merging's snapshot).
        other = record.snapshot.get("merged", {}) if isinstance(record.snapshot, dict) else {}
        for key in ("name", "preferred_name"):
            if isinstance(other.get(key), str) and other[key].strip():
                names.add(other[key].strip())
        for key in ("email", "phone"):
            if isinstance(other.get(key), str) and other[key].strip():
                contacts.add(other[key].strip())
    return sorted(names, key=len, reverse=True), sorted(contacts, key=len, reverse=True)


def _pattern(needles: Iterable[str]) -> re.Pattern | None:
    """One case-insensitive pattern for all needles, each as a whole word or address."""
    needles = sorted({n for n in needles if n}, key=len, reverse=True)
    if not needles:
        return None
    alternatives = "|".join(re.escape(n) for n in needles)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _blank_check_in_notes(people, *, by, erasure) -> int:
    check_ins = list(CapacityCheckIn.objects.filter(member_id__in=people).exclude(note=""))
    for check_in in check_ins:
        check_in.note = ""
    if check_ins:
        bulk_update_with_history(
            check_ins, CapacityCheckIn, ["note"], by=by, reason=erasure.history_reason
        )
    CapacityCheckIn.history.model._base_manager.filter(member_id__in=people).update(note="")
    return CapacityCheckIn.objects.filter(member_id__in=people).count()


def _empty_merge_records(people, *, name, erasure) -> int:
    """Names out of every merge of the person; snapshots emptied (they hold both records'
    fields). An undo is refused from now on: the kept person changed since (the erasure)."""
    records = MergeRecord.objects.filter(Q(survivor_pk__in=people) | Q(merged_pk__in=people))
    n = 0
    for record in records:
        if record.survivor_pk in people:
            record.survivor_name = name
        if record.merged_pk in people:
            record.merged_name = name
        record.snapshot = {"erased": erasure.pk}
        record.save(update_fields=["survivor_name", "merged_name", "snapshot"])
        n += 1
    return n


# --- the sweep -------------------------------------------------------------------------------


def sweep_mentions(needles: list[str], *, replacement: str, by, erasure) -> dict[str, int]:
    """Replace every whole-word mention of `needles` (case aside) in every text and JSON
    column of every model (history models last) with `replacement`.

    Returns rows changed per model label. Current rows of history-keeping models are saved
    with a history row (attributed to `by`, the erasure's reason); history rows and other
    models are written through the base manager. One filtering query per model, then one
    write per matching row.
    """
    pattern = _pattern(needles)
    if pattern is None:
        return {}
    counts = {}
    for model in sorted(_sweepable_models(), key=_is_history_model):
        fields = _text_fields(model)
        n = 0
        if fields:
            n = _sweep_model(model, fields, needles, pattern, replacement, by=by, erasure=erasure)
        n += _sweep_files(model, needles, replacement)
        if n:
            counts[f"mentions in {model._meta.verbose_name_plural}"] = n
    return counts


def _sweep_files(model, needles, replacement) -> int:
    """Uploads kept as bytes (an import's file, kept until it is imported or discarded):
    each needle as UTF-8 or Windows-1252 text is replaced. A compressed file (XLSX) holds
    no readable text; its parsed sheet, a JSON column, is swept with the rest."""
    fields = [f for f in model._meta.concrete_fields if isinstance(f, models.BinaryField)]
    changed = 0
    for field in fields:
        rows = model._base_manager.exclude(**{field.attname: b""}).order_by()
        for pk, content in rows.values_list("pk", field.attname).iterator():
            original = content = bytes(content)
            for needle in needles:
                for encoding in ("utf-8", "cp1252"):
                    try:
                        encoded = needle.encode(encoding)
                    except UnicodeEncodeError:
                        continue
                    pattern = re.compile(re.escape(encoded), re.IGNORECASE)
                    content = pattern.sub(replacement.encode(encoding), content)
            if content != original:
                model._base_manager.filter(pk=pk).update(**{field.attname: content})
                changed += 1
    return changed


def _sweepable_models():
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label not in SWEEP_SKIPPED_APPS
        and not model._meta.proxy
        and model._meta.managed
    ]


def _is_history_model(model) -> bool:
    return hasattr(model, "instance_type")  # simple_history's historical models


def _text_fields(model) -> list[models.Field]:
    """Columns that hold free text: text and JSON, not choices, keys or unique values."""
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField | models.JSONField)
        and not field.choices
        and not field.primary_key
        and not field.unique
    ]


def _sweep_model(model, fields, needles, pattern, replacement, *, by, erasure) -> int:
    manager = model._base_manager
    annotations, matches = {}, Q()
    for field in fields:
        column = field.attname
        if isinstance(field, models.JSONField):
            # JSON is stored with non-ASCII escaped on SQLite ("Jos\u00e9"), as is on
            # PostgreSQL: look for both spellings in the text of the value.
            alias = f"_erasure_{column}"
            annotations[alias] = Cast(column, output_field=TextField())
            for needle in needles:
                escaped = json.dumps(needle)[1:-1]
                matches |= Q(**{f"{alias}__icontains": needle})
                if escaped != needle:
                    matches |= Q(**{f"{alias}__icontains": escaped})
        else:
            for needle in needles:
                matches |= Q(**{f"{column}__icontains": needle})
    rows = manager.annotate(**annotations).filter(matches).order_by()
    changed = []
    for obj in rows.only("pk", *[field.attname for field in fields]):
        touched = []
        for field in fields:
            value = getattr(obj, field.attname)
            new = _replace(value, pattern, replacement)
            if isinstance(field, models.CharField) and isinstance(new, str):
                new = new[: field.max_length]
            if new != value:
                setattr(obj, field.attname, new)
                touched.append(field.attname)
        if touched:
            changed.append((obj, touched))
    if not changed:
        return 0
    tracked = not _is_history_model(model) and hasattr(model, "history")
    if tracked:
        names = sorted({name for _, touched in changed for name in touched})
        objs = [model._base_manager.get(pk=obj.pk) for obj, _ in changed]
        for full, (obj, touched) in zip(objs, changed, strict=True):
            for name in touched:
                setattr(full, name, getattr(obj, name))
        if has_version(model):
            # An edit page opened before the erasure is stale now: saving it must not
            # write the old text back (optimistic locking).
            for full in objs:
                full.version += 1
            names.append("version")
        bulk_update_with_history(objs, model, names, by=by, reason=erasure.history_reason)
    else:
        for obj, touched in changed:
            manager.filter(pk=obj.pk).update(**{name: getattr(obj, name) for name in touched})
    return len(changed)


def has_version(model) -> bool:
    """Whether `model` carries an optimistic-locking `version` that a write must bump."""
    return any(field.name == "version" for field in model._meta.concrete_fields)


def _replace(value, pattern: re.Pattern, replacement: str):
    """`value` with every match of `pattern` replaced, inside JSON lists and dicts too."""
    if isinstance(value, str):
        return pattern.sub(replacement, value)
    if isinstance(value, list):
        return [_replace(item, pattern, replacement) for item in value]
    if isinstance(value, dict):
        return {key: _replace(item, pattern, replacement) for key, item in value.items()}
    return value


def _log(by, erasure: Erasure) -> None:
    """The access log's "erase" entry, when the audit app has its log (it may not yet)."""
    try:
        from audit.log import record
    except ImportError:  # an older deployment without the access log
        return
    record(by, "erase", person=erasure.member_pk, record_id=erasure.pk, reason=erasure.reason)
