"""The interface's language: the browser's by default, then each user's own choice.

accounts.language and accounts.language_views; the catalogs themselves are checked in
tests/test_translations.py.
"""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from accounts import language
from accounts.models import UserPreference
from tests.auth import log_in

SWITCH = "/language/"
PASSWORD = "correct-horse-battery-staple"  # tests.factories.UserFactory


def page_language(response) -> str:
    """The `lang` of the page's <html> element."""
    return re.search(r'<html lang="([^"]+)"', response.text).group(1)


@pytest.fixture(autouse=True)
def english_after_each_test():
    """A test that renders in Spanish must not leave Spanish active for the next."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def test_english_when_nothing_says_otherwise(client, organizer):
    log_in(client, organizer)

    response = client.get("/")

    assert page_language(response) == "en"
    assert response["Content-Language"] == "en"


def test_the_browsers_language_is_the_default(client, organizer):
    log_in(client, organizer)

    response = client.get("/", headers={"accept-language": "es-MX,es;q=0.9,en;q=0.5"})

    assert page_language(response) == "es"
    assert "Accept-Language" in response["Vary"]


def test_a_language_we_do_not_have_falls_back_to_english(client, organizer):
    log_in(client, organizer)

    response = client.get("/", headers={"accept-language": "fr-FR,fr"})

    assert page_language(response) == "en"


def test_every_page_offers_the_other_language(client, organizer):
    log_in(client, organizer)

    english = client.get("/people/").text
    spanish = client.get("/people/", headers={"accept-language": "es"}).text

    assert f'action="{SWITCH}"' in english
    assert 'value="es" lang="es">Español</button>' in english
    assert 'value="en" lang="en">English</button>' in spanish
    assert '<input type="hidden" name="next" value="/people/">' in english


def test_switching_stores_the_choice_and_returns_to_the_same_page(client, organizer):
    log_in(client, organizer)

    response = client.post(SWITCH, {"language": "es", "next": "/people/?q=ana"})

    assert response.status_code == 302
    assert response["Location"] == "/people/?q=ana"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert UserPreference.objects.get(user=organizer).language == "es"
    # The account's choice wins over what the browser asks for.
    later = client.get("/people/", headers={"accept-language": "en"})
    assert page_language(later) == "es"


def test_the_choice_follows_the_user_to_a_new_session(organizer):
    first = log_in(Client(), organizer)
    first.post(SWITCH, {"language": "es", "next": "/"})
    first.post("/logout/")

    # Another browser: no cookie, an English Accept-Language.
    other = Client(headers={"accept-language": "en-US,en"})
    other.post("/login/", {"username": organizer.username, "password": PASSWORD})
    response = other.get("/")

    assert response.status_code == 200
    assert page_language(response) == "es"


def test_the_choice_is_each_users_own(client, organizer, lead_a):
    log_in(client, organizer)
    client.post(SWITCH, {"language": "es", "next": "/"})

    colleague = log_in(Client(), lead_a)

    assert page_language(colleague.get("/")) == "en"
    assert not UserPreference.objects.filter(user=lead_a).exists()


def test_the_accounts_choice_wins_over_this_browsers_cookie(organizer):
    language.choose_language(organizer, "en")
    browser = Client()
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    log_in(browser, organizer)

    assert page_language(browser.get("/")) == "en"


def test_switching_back_to_english(client, organizer):
    log_in(client, organizer)
    client.post(SWITCH, {"language": "es", "next": "/"})

    client.post(SWITCH, {"language": "en", "next": "/"})

    assert page_language(client.get("/", headers={"accept-language": "es"})) == "en"
    assert UserPreference.objects.get(user=organizer).language == "en"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/people/", "javascript:alert(1)"]
)
def test_the_switch_never_sends_anyone_off_the_site(client, organizer, next_url):
    log_in(client, organizer)

    response = client.post(SWITCH, {"language": "es", "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_an_unknown_language_changes_nothing(client, organizer):
    log_in(client, organizer)

    response = client.post(SWITCH, {"language": "xx", "next": "/"})

    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert not UserPreference.objects.filter(user=organizer).exists()
    assert page_language(client.get("/")) == "en"


def test_the_switch_answers_only_post(client, organizer):
    log_in(client, organizer)

    assert client.get(SWITCH, {"language": "es", "next": "/"}).status_code == 405
    assert not UserPreference.objects.exists()


def test_a_visitor_chooses_on_the_login_page_with_the_cookie_only(client, db):
    login_page = client.get("/login/")
    assert f'action="{SWITCH}"' in login_page.text

    response = client.post(SWITCH, {"language": "es", "next": "/login/"})

    assert response["Location"] == "/login/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert not UserPreference.objects.exists()
    assert page_language(client.get("/login/")) == "es"


def test_the_switch_is_checked_against_forgery(organizer):
    browser = log_in(Client(enforce_csrf_checks=True), organizer)

    response = browser.post(SWITCH, {"language": "es", "next": "/"})

    assert response.status_code == 403
    assert not UserPreference.objects.exists()


def test_choose_language_refuses_a_language_we_do_not_have(organizer):
    with pytest.raises(ValueError, match="xx"):
        language.choose_language(organizer, "xx")


def test_dates_follow_the_language(client, organizer):
    """English keeps "Mar 14, 2025"; Spanish writes the date its own way."""
    from django.template import Context, Template

    template = Template('{{ day|date:"DATE_FORMAT" }}')
    day = __import__("datetime").date(2025, 3, 14)

    with translation.override("en"):
        assert template.render(Context({"day": day})) == "Mar 14, 2025"
    with translation.override("es"):
        assert template.render(Context({"day": day})) == "14 de marzo de 2025"


def test_date_inputs_keep_iso_dates_in_spanish():
    """<input type="date"> reads only ISO dates: a Spanish page must not write 14/03/2025."""
    import datetime as dt

    from django import forms

    class DayForm(forms.Form):
        day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    with translation.override("es"):
        form = DayForm(initial={"day": dt.date(2025, 3, 14)})
        assert 'value="2025-03-14"' in str(form["day"])
        assert DayForm({"day": "2025-03-14"}).is_valid()


def test_the_login_page_speaks_the_browsers_language(client, db):
    """A visitor who has chosen nothing gets the page in their browser's language."""
    spanish = client.get("/login/", headers={"accept-language": "es-US,es;q=0.9"}).text

    for text in ("Iniciar sesión", "Nombre de usuario", "Contraseña", "English</button>"):
        assert text in spanish
    for text in ("Log in", "Username", "Password"):
        assert text not in spanish


def test_a_refused_sign_in_says_why_in_spanish(client, organizer):
    response = client.post(
        "/login/",
        {"username": organizer.username, "password": "wrong"},
        headers={"accept-language": "es"},
    )

    assert response.status_code == 200
    assert 'lang="es"' in response.text
    # Django's own message, from Django's own Spanish catalog.
    assert "Please enter a correct" not in response.text
    assert "Por favor" in response.text
