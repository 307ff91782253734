"""Spanish beside English: every marked string translated, every template string marked.

The catalogs: the templates' in locale/, each app's in <app>/locale (locale/README.md).
The compiled .mo files are committed, so a fresh clone needs no gettext; these tests keep
them honest. Where GNU gettext is installed (CI installs it), makemessages is run on a
copy of the source to find strings marked since the catalogs were last made.
"""

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

ROOT = Path(settings.BASE_DIR)
TEMPLATES = ROOT / "templates"
LANGUAGES = [code for code, _ in settings.LANGUAGES if code != "en"]
# Every catalog of the project: the templates' (LOCALE_PATHS) and each app's.
CATALOG_DIRS = [
    *settings.LOCALE_PATHS,
    *(ROOT / app / "locale" for app in ("accounts", "audit", "cores", "members", "sos_tracker")),
]


def po_files() -> list[Path]:
    found = [
        Path(locale) / code / "LC_MESSAGES" / "django.po"
        for locale in CATALOG_DIRS
        for code in LANGUAGES
    ]
    return [path for path in found if path.exists()]


def test_every_language_has_the_templates_catalog():
    for code in LANGUAGES:
        assert (ROOT / "locale" / code / "LC_MESSAGES" / "django.po").exists(), code


@pytest.mark.parametrize("po_path", po_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_entry_is_translated_and_none_is_fuzzy(po_path):
    catalog = polib.pofile(str(po_path))

    untranslated = [entry.msgid for entry in catalog.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalog.fuzzy_entries()]

    # A fuzzy header is skipped when compiling: the catalog would lose its charset.
    assert not catalog.metadata_is_fuzzy, f"{po_path}: the header is marked fuzzy"
    assert not untranslated, f"{po_path}: no translation for {untranslated}"
    assert not fuzzy, f"{po_path}: fuzzy (check, then drop the flag) {fuzzy}"


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


@pytest.mark.parametrize("po_path", po_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_translations_keep_every_placeholder(po_path):
    """A translation that drops or misspells %(name)s would fail at run time."""
    wrong = []
    for entry in polib.pofile(str(po_path)).translated_entries():
        pairs = (
            [(entry.msgid, entry.msgstr)]
            if not entry.msgid_plural
            else [(entry.msgid_plural, text) for text in entry.msgstr_plural.values()]
        )
        for source, text in pairs:
            expected = sorted(set(PLACEHOLDER.findall(source)))
            if entry.msgid_plural:
                # The singular may say "one" instead of the count.
                expected = [p for p in expected if p not in ("%(count)s", "%(counter)s")]
            found = sorted(set(PLACEHOLDER.findall(text)))
            if any(p not in found for p in expected) or any(
                p not in sorted(set(PLACEHOLDER.findall(source + entry.msgid))) for p in found
            ):
                wrong.append(entry.msgid)
    assert not wrong, f"{po_path}: placeholders differ in {wrong}"


@pytest.mark.parametrize("po_path", po_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_compiled_catalog_matches_its_source(po_path):
    """The committed .mo says what the .po says (else: manage.py compilemessages)."""
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run manage.py compilemessages"

    def entries(catalog):
        return {
            (entry.msgctxt, entry.msgid, entry.msgid_plural): (
                entry.msgstr,
                tuple(sorted(entry.msgstr_plural.items())),
            )
            for entry in catalog
            if (entry.msgstr or any(entry.msgstr_plural.values())) and not entry.obsolete
        }

    assert entries(polib.mofile(str(mo_path))) == entries(polib.pofile(str(po_path))), (
        f"{mo_path} is out of date: run manage.py compilemessages"
    )


# --- every marked string is in its catalog -----------------------------------------------

MAKEMESSAGES_IGNORE = [".venv/*", "tests/*", "build/*", "staticfiles/*", "artifacts/*"]


@pytest.fixture(scope="module")
def fresh_catalogs(tmp_path_factory):
    """The catalogs as makemessages would write them now, made on a copy of the source."""
    if shutil.which("xgettext") is None:
        message = "GNU gettext is not installed (apt-get install gettext)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: CI must run this check (.ci/run installs it)")
        pytest.skip(f"{message}; CI runs this check")
    copy = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns(
        ".venv", ".git", "node_modules", "staticfiles", "artifacts", "build", "*.mo", "tests"
    )
    for item in ROOT.iterdir():
        if item.name in {".venv", ".git", "tests", "build", "staticfiles", "artifacts"}:
            continue
        if item.is_dir():
            shutil.copytree(item, copy / item.name, ignore=ignore)
        elif item.suffix in {".py", ".toml"}:
            shutil.copy2(item, copy / item.name)
    command = [
        str(ROOT / ".venv" / "bin" / "python"),
        "manage.py",
        "makemessages",
        "--no-obsolete",
        *(f"-l{code}" for code in LANGUAGES),
        *(f"-i{pattern}" for pattern in MAKEMESSAGES_IGNORE),
    ]
    subprocess.run(command, cwd=copy, check=True, capture_output=True, env=_env())
    return copy


def _env():
    return {**os.environ, "SECRET_KEY": os.environ.get("SECRET_KEY") or "makemessages-only"}


def test_every_marked_string_is_in_its_catalog(fresh_catalogs):
    """A string marked in code or a template since makemessages last ran is missing from
    the catalog, so it would show in English: run makemessages and translate it."""
    missing = {}
    for fresh in fresh_catalogs.rglob("locale/*/LC_MESSAGES/django.po"):
        committed = ROOT / fresh.relative_to(fresh_catalogs)
        have = (
            {(e.msgctxt, e.msgid) for e in polib.pofile(str(committed)) if not e.obsolete}
            if committed.exists()
            else set()
        )
        new = [e.msgid for e in polib.pofile(str(fresh)) if (e.msgctxt, e.msgid) not in have]
        if new:
            missing[str(committed.relative_to(ROOT))] = new
    assert not missing, f"marked but not in the catalog (run makemessages): {missing}"


# --- no words outside the translation tags ------------------------------------------------

# Attributes whose text a person reads or hears.
READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "data-label"}
# Names and symbols that are the same in every language.
SAME_IN_EVERY_LANGUAGE = {"SOS", "Tracker", "CSV", "XLSX", "TOTP", "QR", "SVG", "OK"}
WORD = re.compile(r"[^\W\d_]{2,}")
# Filters and tags whose literal argument is shown to the reader, in English.
ENGLISH_FILTER = re.compile(
    r"\|\s*(pluralize|yesno)\b|\|\s*default(_if_none)?\s*:\s*(['\"])(.*?)\3"
)
SHOWN_LITERAL_TAG = re.compile(r"^\s*(firstof|cycle)\b")
LITERAL = re.compile(r"""(['"])(.*?)\1""")
MARK = "\u2063"  # stands for a value or a translated string in the text left over


class _ReadableText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.pieces.append(value)
            submit = tag == "input" and dict(attrs).get("type") in ("submit", "button")
            if name == "value" and submit and value:
                self.pieces.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.pieces.append(data)


def untranslated_words(source: str, *, html: bool = True) -> list[str]:
    """The words of `source` (a template) a reader would see that no translation tag covers."""
    outside: list[str] = []
    problems: list[str] = []
    depth = 0  # inside {% blocktranslate %} or {% comment %}
    for token in Lexer(source).tokenize():
        content = token.contents
        if token.token_type == TokenType.BLOCK:
            name = content.split()[0] if content.split() else ""
            if name in ("blocktranslate", "blocktrans", "comment"):
                depth += 1
            elif name in ("endblocktranslate", "endblocktrans", "endcomment"):
                depth -= 1
            elif depth == 0 and name in ("translate", "trans"):
                outside.append(MARK)
            elif depth == 0 and SHOWN_LITERAL_TAG.match(content):
                literals = [m.group(2) for m in LITERAL.finditer(content)]
                problems += [text for text in literals if WORD.search(text)]
        elif depth:
            continue
        elif token.token_type == TokenType.TEXT:
            outside.append(token.contents)
        elif token.token_type == TokenType.VAR:
            outside.append(MARK)
            for match in ENGLISH_FILTER.finditer(content):
                if match.group(1) or WORD.search(match.group(4) or ""):
                    problems.append(match.group(0))
    text = "".join(outside)
    if html:
        parser = _ReadableText()
        parser.feed(text)
        parser.close()
        pieces = parser.pieces
    else:
        pieces = [text]
    for piece in pieces:
        problems += [w for w in WORD.findall(piece) if w not in SAME_IN_EVERY_LANGUAGE]
    return problems


TEMPLATE_FILES = sorted(
    path for path in TEMPLATES.rglob("*") if path.suffix in (".html", ".txt", ".svg")
)


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_has_no_words_outside_translation_tags(path):
    words = untranslated_words(path.read_text(), html=path.suffix != ".txt")

    assert not words, f"{path.relative_to(ROOT)} shows untranslated text: {words}"


def test_the_check_finds_words_outside_the_tags():
    """The check above is only as good as what it catches."""
    assert untranslated_words("<p>Hello</p>") == ["Hello"]
    assert untranslated_words('<input placeholder="Search">') == ["Search"]
    assert untranslated_words("{{ n }} person{{ n|pluralize }}") != []
    assert untranslated_words('{{ who|default:"nobody" }}') != []
    assert untranslated_words('{% firstof a "not yet" %}') == ["not yet"]
    assert untranslated_words('<p>{% translate "Hello" %} {{ name }}</p>') == []
    assert (
        untranslated_words(
            "{% blocktranslate trimmed count n=n %}{{ n }} person{% plural %}{{ n }} people"
            "{% endblocktranslate %}"
        )
        == []
    )
    assert untranslated_words("{# a comment #}{% comment %}notes{% endcomment %}<b>SOS</b>") == []
    assert untranslated_words('<a href="/people/?q=x" class="button">{{ label }}</a>') == []
