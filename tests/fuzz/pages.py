"""What a page asks for: its forms' fields and the query parameters its links use.

The crawler fills these with generated values, so every field a page offers (the admin's
list filters and search included) is tried without naming it here.
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Form:
    method: str
    action: str
    # name -> the values the page offers (a hidden field's value, a select's options)
    fields: dict = field(default_factory=dict)


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.link_params: set[str] = set()
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "?" in (attrs.get("href") or ""):
            query = urlsplit(attrs["href"]).query
            self.link_params.update(name for name, _ in parse_qsl(query, keep_blank_values=True))
        elif tag == "form":
            self._form = Form(
                method=(attrs.get("method") or "get").lower(), action=attrs.get("action") or ""
            )
            self.forms.append(self._form)
        elif self._form is None or (not attrs.get("name") and tag != "option"):
            return
        elif tag in ("input", "textarea", "button"):
            offered = self._form.fields.setdefault(attrs["name"], [])
            if attrs.get("value") is not None:
                offered.append(attrs["value"])
        elif tag == "select":
            self._select = attrs["name"]
            self._form.fields.setdefault(self._select, [])
        elif tag == "option" and self._select and attrs.get("value") is not None:
            self._form.fields[self._select].append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def read_page(html: str) -> tuple[list[Form], set[str]]:
    """The forms of `html` and the names of the query parameters its links carry."""
    parser = _PageParser()
    parser.feed(html)
    return parser.forms, parser.link_params
