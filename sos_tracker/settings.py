"""Settings for SOS Tracker: one module, every deployment value read from the environment.

Defaults are the safe production ones; a developer turns DEBUG on in `.env`
(`make demo` writes that file). See `.env.example` for every variable.
"""

from pathlib import Path

import environ
import phonenumbers
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Put one in .env or the environment "
        '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Recovery codes: single-use static tokens, shown once.
    "django_otp.plugins.otp_static",
    "simple_history",
    "import_export",
    "django_htmx",
    "django_tasks_db",
    "sos_tracker",
    "accounts",
    "audit",
    "members",
    # After members: cores/admin.py extends the Member admin with alignment inlines.
    "cores",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the cookie (a choice made on this browser) or else Accept-Language;
    # after sessions, before CommonMiddleware (Django's documented place).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # NUL and control characters out of every GET and POST value, the admin's included
    # (PostgreSQL refuses a NUL); overlong query parameters refused (sos_tracker.cleaning).
    "sos_tracker.cleaning.InputCleaningMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in user's own choice of language wins over the cookie and the browser.
    "accounts.language.UserLanguageMiddleware",
    # Cache-Control: no-store, private on every page (all but static files hold or follow
    # personal data).
    "accounts.session_middleware.NoStoreMiddleware",
    # Django's LoginRequiredMiddleware, keeping a form sent after the session ended so
    # that signing in again fills it back in (sos_tracker.kept_forms).
    "sos_tracker.kept_forms.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle timeout and absolute limit; after messages (it says why), before the factors.
    "accounts.session_middleware.SessionTimeoutMiddleware",
    # request.user.is_verified(): has this session passed the second factor?
    "django_otp.middleware.OTPMiddleware",
    # Until it has, those who need it see only the code and set-up pages.
    "accounts.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so a locked-out login attempt never reaches a view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sos_tracker.urls"
WSGI_APPLICATION = "sos_tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the pages read while an import writes; IMMEDIATE avoids "database is locked"
    # when two requests upgrade a read transaction to a write at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sign-in: Argon2 first, lockout after repeated failures.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 1  # hours
# Each parameter counts on its own: an account is locked after AXES_FAILURE_LIMIT failures
# from any addresses (guesses spread over many addresses), an address after as many on any
# accounts (one address trying many accounts).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Axes' own reset on success would clear the address's count too: an insider signing in to
# their own account from the address would wipe their guesses at a colleague's. A success
# clears only that account's failures (accounts.lockout).
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind a reverse proxy every request comes from the proxy's address: without this, five
# wrong passwords from anyone would lock the proxy's address, i.e. everyone. With
# TRUSTED_PROXY_COUNT=1 (the README's nginx, which appends the client's address to
# X-Forwarded-For) the client's address is the right-most entry the proxy wrote; anything
# a client wrote to the left of it is never trusted. 0 (direct serving): the socket address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "accounts.client_address.client_address"
LOGIN_URL = "login"
# Two factors (TOTP) for core leads, staff and superusers (permissions.two_factor_required).
# Off only on a demo or developer machine: `make demo` writes TWO_FACTOR_REQUIRED=false.
TWO_FACTOR_REQUIRED = env.bool("TWO_FACTOR_REQUIRED", default=True)

# A reviewed alignment comes back to its tendency's review queue, marked stale, after this
# many days (about six months); an open invitation with no move for this many days is
# flagged as stalled on its core's page.
REVIEW_STALE_AFTER_DAYS = env.int("REVIEW_STALE_AFTER_DAYS", default=182)
INVITATION_STALLED_AFTER_DAYS = env.int("INVITATION_STALLED_AFTER_DAYS", default=30)
# A prospect no core took past "identified", with no activity for this many days, is listed
# for an admin to erase or keep (members.retention, /people/retention/).
PROSPECT_REVIEW_AFTER_DAYS = env.int("PROSPECT_REVIEW_AFTER_DAYS", default=365)
# The figures that read a share of the whole network (the dashboard's people by status,
# story and sector, check-ins per month, capacity growth; each core's queue size, levels,
# coverage, funnel and readiness) are counted by the background worker and shown "as of"
# their time (sos_tracker.figures). A change to people, check-ins, alignments, invitations
# or milestones asks for a new count at once; this many seconds is how old they may grow
# when nothing the history sees has changed (a sector renamed in the admin, a raw write).
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=300)
# Django's cache: memory of each process by default; CACHE_URL may name another (e.g.
# dbcache://sos_cache after `manage.py createcachetable`, or rediscache://...).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# The country a phone number typed without +code belongs to (ISO 3166 code, e.g. US, GB).
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="US").upper()
if PHONE_DEFAULT_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured(
        f"PHONE_DEFAULT_REGION={PHONE_DEFAULT_REGION!r} is not a region code; "
        "use one like US or GB."
    )

# Uploads to the import are read as a stream and refused at the first limit passed, so no
# file's shape (a million columns, two million rows, one huge cell) can exhaust memory
# (members.importing.reading). Bytes of the file; rows and columns holding data; characters
# in one cell; cells in the whole sheet (what the sheet costs in memory and in the database).
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=100_000)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=200)
IMPORT_MAX_CELL_CHARS = env.int("IMPORT_MAX_CELL_CHARS", default=10_000)
IMPORT_MAX_CELLS = env.int("IMPORT_MAX_CELLS", default=1_000_000)
# An XLSX is a zip: the unpacked size of its parts bounds the reading time of the sheet.
IMPORT_MAX_UNPACKED_BYTES = env.int("IMPORT_MAX_UNPACKED_BYTES", default=100 * 1024 * 1024)
# Days an import keeps its rows (what each row became, the values written and replaced)
# after it is applied, undone, discarded or failed; `manage.py purge_import_data` (daily)
# deletes them, after which the import can no longer be undone.
IMPORT_ROW_DATA_DAYS = env.int("IMPORT_ROW_DATA_DAYS", default=30)
# Bulk-access quotas (audit.quotas): opening more different people in an hour, or
# exporting more people in a day, is refused (429) and raises an alert for the admins.
# 0 turns a quota off.
ACCESS_PEOPLE_PER_HOUR = env.int("ACCESS_PEOPLE_PER_HOUR", default=200)
EXPORT_PEOPLE_PER_DAY = env.int("EXPORT_PEOPLE_PER_DAY", default=2000)
OTP_TOTP_ISSUER = "SOS Tracker"
# The admin never shows an authenticator's secret or a recovery code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Hours an enrolment link (an admin issues it to a lead or admin who must set up a second
# factor) stays valid; it dies sooner once used (accounts.enrolment).
ENROLMENT_LINK_HOURS = env.int("ENROLMENT_LINK_HOURS", default=72)
# Outgoing e-mail (enrolment and invitation links) through Django's SMTP backend. Without
# EMAIL_HOST nothing is sent: the admin copies the link shown on the page instead.
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SOS Tracker <noreply@localhost>")
if DEBUG and not EMAIL_HOST:
    # A developer's machine prints the mail it would send (invitation links) to the console.
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Days a user invitation's link works (accounts.invitations); it also dies once used.
USER_INVITATION_DAYS = env.int("USER_INVITATION_DAYS", default=7)
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# English unless the user chose otherwise (accounts.language) or the browser asks for
# Spanish. Each language's name is shown in that language, so it is not translated.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
# The templates' catalog; each app keeps its own in <app>/locale (locale/README.md).
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates as the app has always written them in English ("Mar 14, 2025"); Spanish keeps
# Django's ("14 de marzo de 2025") but reads and writes ISO dates in date inputs.
FORMAT_MODULE_PATH = ["sos_tracker.formats"]
# A choice made on the login page outlives the browser session; a signed-in user's choice
# is also stored with their account (accounts.models.UserPreference).
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Tests run with DEBUG off but without collectstatic: let whitenoise find files in place.
WHITENOISE_USE_FINDERS = True
WHITENOISE_MANIFEST_STRICT = False

# History: who changed what, visible only to those allowed to see the history model.
SIMPLE_HISTORY_ENFORCE_HISTORY_MODEL_PERMISSIONS = True
SIMPLE_HISTORY_REVERT_DISABLED = True
# A change reason is written by the app (a confirmed "different person" names the look-alikes)
# and can be long: a text column keeps it whole instead of failing past 100 characters.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
# The longest query parameter accepted (a search, a filter); longer is a 400 naming it.
MAX_QUERY_PARAM_LENGTH = env.int("MAX_QUERY_PARAM_LENGTH", default=1000)

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Content-Security-Policy: nothing from other hosts, no inline script or style.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Transport and cookie safety; all on unless DEBUG (a developer's plain-HTTP runserver).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# A session ends after this many minutes without a request, and this many hours after
# sign-in however active (accounts.session_middleware); the cookie lives no longer.
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
SESSION_ABSOLUTE_HOURS = env.int("SESSION_ABSOLUTE_HOURS", default=12)
SESSION_COOKIE_AGE = 60 * 60 * SESSION_ABSOLUTE_HOURS
SECURE_HSTS_SECONDS = 0 if DEBUG else env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A form whose CSRF token a sign-in in another tab replaced is kept and comes back after
# sign-in; any other failure gets templates/403_csrf.html (sos_tracker.kept_forms).
CSRF_FAILURE_VIEW = "sos_tracker.kept_forms.csrf_failure"

SILENCED_SYSTEM_CHECKS = [
    # HSTS preload is a one-way commitment for the whole domain; the operator opts in.
    "security.W021",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
