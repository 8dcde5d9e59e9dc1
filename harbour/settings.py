"""Harbour settings, read from the environment.

HARBOUR_ENV=production turns on every protection and refuses to start with a
default secret, DEBUG, a missing pseudonymisation key or no ALLOWED_HOSTS.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from harbour.lib.env import env_bool, env_decimal, env_int, env_list, env_str
from harbour.lib.keys import MIN_PSEUDONYM_KEY_BYTES, load_ring

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HARBOUR_VAR_DIR", str(BASE_DIR / "var")))

HARBOUR_ENV = env_str("HARBOUR_ENV", "development")
if HARBOUR_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured("HARBOUR_ENV must be development, test or production.")
PRODUCTION = HARBOUR_ENV == "production"

DEBUG = env_bool("DEBUG", default=False) if PRODUCTION else env_bool("DEBUG", default=True)

_INSECURE_DEV_KEY = "django-insecure-harbour-development-only-never-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else _INSECURE_DEV_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])

_dev_keys = None if PRODUCTION else VAR_DIR / "keys"
PSEUDONYM_KEYS = load_ring(
    "HARBOUR_PSEUDONYM_KEYS",
    "HARBOUR_PSEUDONYM_KEY_FILE",
    _dev_keys / "pseudonym.keys" if _dev_keys else None,
)
FIELD_ENCRYPTION_KEYS = load_ring(
    "HARBOUR_FIELD_KEYS",
    "HARBOUR_FIELD_KEY_FILE",
    _dev_keys / "field.keys" if _dev_keys else None,
)

if PRODUCTION:
    problems = []
    if DEBUG:
        problems.append("DEBUG must be off")
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure") or len(set(SECRET_KEY)) < 5:
        problems.append("SECRET_KEY must be a random string of at least 50 characters")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS must name this server's host names (no '*')")
    if not PSEUDONYM_KEYS or any(len(k.secret) < MIN_PSEUDONYM_KEY_BYTES for k in PSEUDONYM_KEYS):
        problems.append(
            "a pseudonymisation key of at least 32 bytes must be given in "
            "HARBOUR_PSEUDONYM_KEYS or HARBOUR_PSEUDONYM_KEY_FILE"
        )
    if not FIELD_ENCRYPTION_KEYS or any(len(k.secret) != 32 for k in FIELD_ENCRYPTION_KEYS):
        problems.append(
            "a 32-byte field encryption key must be given in HARBOUR_FIELD_KEYS "
            "or HARBOUR_FIELD_KEY_FILE"
        )
    if problems:
        raise ImproperlyConfigured("Harbour refuses to start: " + "; ".join(problems) + ".")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "harbour.accounts",
    "harbour.sites",
    "harbour.audit",
    "harbour.clients",
    "harbour.visits",
    "harbour.stock",
    "harbour.ost",
    "harbour.testing",
    "harbour.casework",
    "harbour.drugchecking",
    "harbour.reports",
    "harbour.dhis2",
    "harbour.exchange",
    "harbour.demo",
    "harbour.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "harbour.accounts.middleware.IdleTimeoutMiddleware",
    "harbour.accounts.middleware.TwoFactorRequiredMiddleware",
    "harbour.accounts.middleware.AccessMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "harbour.urls"
WSGI_APPLICATION = "harbour.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "harbour" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "harbour.accounts.context_processors.harbour",
                "harbour.drugchecking.context_processors.alerts",
            ]
        },
    }
]

_default_db = f"sqlite:///{VAR_DIR / 'harbour.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL", _default_db))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE makes a writer take the lock at BEGIN, so concurrent writers wait
        # (busy timeout) instead of failing halfway with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation adds 0.5-1.5 s to indicator queries whose real work is ~0.1 s.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if HARBOUR_ENV == "test":
    # Argon2 is deliberately slow; tests create hundreds of users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
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
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout: after 5 failed logins for one username, 30 minutes' wait.
AXES_FAILURE_LIMIT = env_int("HARBOUR_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("HARBOUR_LOCKOUT_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 advises adding ip_address. We do not: a site's staff share one public
# address (NAT, a mobile hotspot), so an IP lockout would lock a whole counter out
# during a morning rush. Each account is protected by the per-username limit.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# Idle timeout: a session that sees no request for 30 minutes is over.
SESSION_IDLE_SECONDS = env_int("HARBOUR_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_COOKIE_AGE = 12 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
OTP_TOTP_ISSUER = env_str("HARBOUR_OTP_ISSUER", "Harbour")

# OST: the largest dose change a nurse may make without a clinician, per medication.
OST_DOSE_STEP_MG = {
    "methadone": env_decimal("HARBOUR_OST_STEP_METHADONE_MG", "10"),
    "buprenorphine": env_decimal("HARBOUR_OST_STEP_BUPRENORPHINE_MG", "2"),
    "diacetylmorphine": env_decimal("HARBOUR_OST_STEP_DIACETYLMORPHINE_MG", "30"),
    "other": env_decimal("HARBOUR_OST_STEP_OTHER_MG", "5"),
}

# Testing: people whose last negative HIV or hepatitis C test is older are offered another.
RETEST_INTERVAL_DAYS = env_int("HARBOUR_RETEST_INTERVAL_DAYS", 182, minimum=1)
# Case management: a referral with no outcome after this many days is followed up.
REFERRAL_FOLLOW_UP_DAYS = env_int("HARBOUR_REFERRAL_FOLLOW_UP_DAYS", 14, minimum=1)
# k of published figures: a count from 1 to k-1 is never shown (spec, "Published figures").
PUBLIC_MIN_CELL = env_int("HARBOUR_PUBLIC_MIN_CELL", 5, minimum=3)
# Text reminders: the gateway class. The default keeps messages in Harbour's outbox,
# so nothing leaves the machine in tests and demos.
SMS_BACKEND = env_str("HARBOUR_SMS_BACKEND", "harbour.casework.sms.OutboxBackend")

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The project package is not an app, so its static folder must be named here.
STATICFILES_DIRS = [BASE_DIR / "harbour" / "static"]
STATIC_ROOT = VAR_DIR / "static"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# No inline scripts or styles anywhere: everything comes from our own static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("HARBOUR_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("HARBOUR_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["harbour.api.permissions.HasCapability"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "harbour.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Harbour API",
    "DESCRIPTION": "Harbour's JSON API. Raw UICs are accepted, never returned.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "YesNoUnknownEnum": "harbour.clients.models.YesNoUnknown",
        "GenderEnum": "harbour.clients.models.Gender",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {
        # Request bodies can hold UIC components: never log them.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
