"""Spanish beside English in the apps' own Python (issue 12): choice labels, model and
field names, form and service errors, messages, and exports that import back whatever
language they were written in.

The rest of the suite runs in English (settings.LANGUAGE_CODE) and pins the English
texts; these tests switch to Spanish with translation.override or the browser's
Accept-Language, as a person would.
"""

import csv
import datetime as dt
import io
import json

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from cores import services as core_services
from cores.forms.alignments import StatedAlignmentForm
from cores.models import AlignmentLevel, InvitationStage, Phase
from members import duplicates, exporting
from members.importing import applying, columns
from members.importing.values import CellError, parse_kind, parse_status
from members.models import CapacityCheckIn, JoiningStoryKind, Member, MemberStatus, Sector
from sos_tracker import dashboard, figures
from sos_tracker.dashboard import count_network_figures
from tests.factories import MemberFactory

SPANISH_HEADERS = [
    "Nombre",
    "Nombre preferido",
    "Pronombres",
    "Correo electrónico",
    "Teléfono",
    "Ciudad",
    "Estado / región",
    "Situación",
    "Historia de ingreso",
    "Sectores",
    "Fecha de ingreso",
    "Notas",
    "¿Por qué te uniste?",
]
PERSON_COLUMNS = [
    "name",
    "preferred_name",
    "pronouns",
    "email",
    "phone",
    "city",
    "region",
    "status",
    "joining_story_kind",
    "sectors",
    "joined_on",
    "note",
    "joining_story",
]


# --- labels and names -----------------------------------------------------------------------


def test_choice_labels_are_spanish_while_spanish_is_active():
    with translation.override("es"):
        assert MemberStatus.FORMER.label == "Ex miembro"
        assert MemberStatus.MEMBER.label == "Miembro"
        assert JoiningStoryKind.MIDDLE_GENERATION.label == "Generación intermedia"
        assert AlignmentLevel.NOT_YET_CLEAR.label == "Aún no está claro"
        assert Phase.COHERING.label == "Cohesionar un núcleo"
        assert InvitationStage.JOINED.label == "Se unió al proceso"
    assert MemberStatus.FORMER.label == "Former member"
    assert AlignmentLevel.NOT_YET_CLEAR.label == "Not yet clear"


def test_member_the_status_and_member_the_model_are_told_apart():
    with translation.override("es"):
        assert MemberStatus.MEMBER.label == "Miembro"
        assert Member._meta.verbose_name == "miembro"
        assert Member._meta.verbose_name_plural == "miembros"


def test_model_and_field_names_are_spanish_while_spanish_is_active():
    with translation.override("es"):
        assert Member._meta.get_field("preferred_name").verbose_name == "nombre preferido"
        assert Member._meta.get_field("joining_story").verbose_name == "en sus propias palabras"
        assert CapacityCheckIn._meta.verbose_name == "evaluación de capacidades"
        assert Sector._meta.get_field("active").help_text.startswith("Los sectores retirados")


# --- errors ----------------------------------------------------------------------------------


def test_a_form_error_is_spanish_while_spanish_is_active(tendency_a):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    data = {"tendency": tendency_a.pk, "level": "exploring", "stated_on": tomorrow.isoformat()}
    with translation.override("es"):
        form = StatedAlignmentForm(data)
        assert not form.is_valid()
        assert form.errors["stated_on"] == ["La fecha indicada no puede estar en el futuro."]
    form = StatedAlignmentForm(data)
    assert not form.is_valid()
    assert form.errors["stated_on"] == ["The date stated cannot be in the future."]


def test_a_form_error_with_a_parameter_keeps_it_in_spanish(tendency_a):
    data = {"tendency": tendency_a.pk, "level": "exploring", "stated_on": "1850-01-02"}
    with translation.override("es"):
        form = StatedAlignmentForm(data)
        assert not form.is_valid()
        assert form.errors["stated_on"] == [
            "La fecha indicada, 1850-01-02, es demasiado antigua; da una fecha desde 1900."
        ]


def test_a_model_error_is_spanish_and_names_its_field(db):
    person = Member(name="Ana Li", phone="12")
    with translation.override("es"):
        with pytest.raises(ValidationError) as raised:
            person.full_clean()
        assert raised.value.message_dict["phone"] == ["Un teléfono necesita al menos 7 dígitos."]


def test_a_service_error_reads_its_date_the_spanish_way(tendency_a):
    person = MemberFactory()
    core_services.state_alignment(
        person, tendency_a, AlignmentLevel.LEANING, by=None, on=dt.date(2025, 3, 14)
    )
    with translation.override("es"):
        with pytest.raises(ValidationError) as raised:
            core_services.state_alignment(
                person, tendency_a, AlignmentLevel.ALIGNED, by=None, on=dt.date(2025, 3, 1)
            )
        (message,) = raised.value.message_dict["stated_on"]
    assert message.startswith(
        "El nivel actual (Inclinándose) se indicó el 14 de marzo de 2025; un nivel indicado"
    )


def test_evidence_stays_an_english_key_and_reads_in_spanish():
    # Import rows keep the evidence in JSON and the rules compare it: the key never changes.
    assert duplicates.SAME_EMAIL == "same email"
    with translation.override("es"):
        assert duplicates.describe(duplicates.SAME_EMAIL) == "mismo correo"
        assert duplicates.describe("different regions (OR, WA)") == "regiones distintas (OR, WA)"
        assert duplicates.kind_label("conflicting") == "en contra"


# --- messages --------------------------------------------------------------------------------


def test_a_message_is_spanish_for_a_browser_that_asks_for_spanish(as_user, lead_a, core_a):
    client = as_user(lead_a)
    url = reverse("cores:review_queue", args=[core_a.slug])

    response = client.post(url, {"clear_skips": "1"}, HTTP_ACCEPT_LANGUAGE="es", follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "Los elementos saltados volvieron a la cola."
    ]
    response = client.post(url, {"clear_skips": "1"}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Skipped items are back in the queue."
    ]


def test_counted_figures_are_plain_text_and_labels_follow_the_reader(db):
    """The worker keeps its counts as JSON: a lazy label would not serialise, and one
    written in the worker's language must not reach a Spanish reader."""
    MemberFactory(status=MemberStatus.FORMER)
    data = count_network_figures(now=timezone.now())
    json.dumps(data)
    assert ["former", "Former member", 1] in data["counts"]["by_status"]

    figures.recount_all()  # counted in English, as the worker does
    with translation.override("es"):
        network = dashboard.network_figures()
        statuses = {row.key: str(row.label) for row in network.counts.by_status}
        growth = [str(item.label) for item in network.growth]
    assert statuses["former"] == "Ex miembro"
    assert "Habilidades estratégicas" in growth


# --- export and import -----------------------------------------------------------------------
#
# The decision: an export follows the exporter's language (headers, statuses, joining-story
# kinds), so a Spanish-speaking organizer gets a file they can read; the import knows the
# headers and the labels of every language the site speaks, so any export imports back,
# whoever imports it and in whatever language.


def _export(file_format, *, by):
    content, _name, _record = exporting.export_people(
        Member.objects.all(),
        by=by,
        file_format=file_format,
        include_joining_story=True,
        filters={},
    )
    return content


def _rows(content, file_format):
    if file_format == "csv":
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_export_in_spanish_has_spanish_headers_and_labels(admin_user, file_format):
    MemberFactory(
        name="Rosa Díaz",
        status=MemberStatus.FORMER,
        joining_story_kind=JoiningStoryKind.NCM_VETERAN,
    )
    with translation.override("es"):
        rows = _rows(_export(file_format, by=admin_user), file_format)
    stamp, headers, person = rows[0], rows[1], rows[2]
    assert stamp[0].startswith("Exportado de SOS Tracker por ")
    assert headers == SPANISH_HEADERS
    assert person[7] == "Ex miembro"
    assert person[8] == "Veterano(a) del Nuevo Movimiento Comunista"


def test_the_import_knows_the_headers_and_labels_of_either_language():
    assert columns.guess_mapping(SPANISH_HEADERS) == PERSON_COLUMNS
    with translation.override("es"):
        english = exporting.PersonResource(include_joining_story=True)
    with translation.override("en"):
        assert columns.guess_mapping(english.get_export_headers()) == PERSON_COLUMNS
    assert parse_status("Ex miembro") == MemberStatus.FORMER
    assert parse_status("Former member") == MemberStatus.FORMER
    assert parse_kind("Generación intermedia") == (JoiningStoryKind.MIDDLE_GENERATION, True)
    with translation.override("es"), pytest.raises(CellError) as raised:
        parse_status("quizás")
    assert str(raised.value) == "“quizás” no es una situación; usa miembro, prospecto o ex miembro."


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize(("exported_in", "imported_in"), [("es", "en"), ("en", "es"), ("es", "es")])
def test_an_export_imports_back_as_the_same_people_whatever_the_languages(
    admin_user, file_format, exported_in, imported_in
):
    labor, housing = Sector.objects.get(slug="labor"), Sector.objects.get(slug="housing")
    MemberFactory(
        name="José García",
        status=MemberStatus.PROSPECT,
        joining_story_kind=JoiningStoryKind.SOCIAL_MOVEMENT,
        sectors=[labor, housing],
    )
    MemberFactory(
        name="Thérèse O'Neil",
        status=MemberStatus.FORMER,
        joining_story_kind=JoiningStoryKind.OTHER,
        sectors=[housing],
    )
    MemberFactory(name="Ana Li", joining_story_kind=JoiningStoryKind.MIDDLE_GENERATION)
    fields = [f for f in PERSON_COLUMNS if f != "sectors"]

    def snapshot():
        return sorted(
            (tuple(getattr(m, f) for f in fields), tuple(sorted(s.slug for s in m.sectors.all())))
            for m in Member.objects.prefetch_related("sectors")
        )

    before = snapshot()
    with translation.override(exported_in):
        content = _export(file_format, by=admin_user)
    Member.objects.all().delete()
    with translation.override(imported_in):
        record = applying.start_import(
            filename=f"people.{file_format}", content=content, by=admin_user
        )
        record = applying.preview_import(record)
        assert record.mapping == PERSON_COLUMNS
        record = applying.apply_import(record, by=admin_user)
    assert record.counts["reject"] == 0
    assert snapshot() == before
