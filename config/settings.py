"""Samverkan settings: one module, every deployment difference comes from environment variables.

See README.md ("Konfiguration") for the list of variables.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SAMVERKAN_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "csp",
    "axes",
    "organisations",
    "sip",
    "sip.delaktighet",
    "avvikelser",
    "api",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "organisations.context.RequestContextMiddleware",
    # Last: turns a locked-out login (django-axes) into config.security.lockout_response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "frontend.context_processors.site",
                "frontend.context_processors.forum_nav",
                "frontend.context_processors.org_admin_nav",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
# SQLite is only the zero-set-up default; production and CI set DATABASE_URL to PostgreSQL (psycopg 3).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # Fail fast when the database is away, so /readyz and the API answer 503 quickly.
    _options["connect_timeout"] = env_int("DATABASE_CONNECT_TIMEOUT", 3)
    # Prepared statements (off unless set): parameters bound by the server, and a statement run this many times on
    # a connection is prepared, so PostgreSQL plans it once. Measured both ways in docs/performance.md (seventh
    # pass: ~5 % more requests/s in the load test; the targets hold without); not for a transaction-pooling
    # PgBouncer older than 1.21 (docs/operations.md).
    # The planner searches join orders over at most this many tables at once (PostgreSQL's default is 8). A page's
    # rows with the names of seven related objects took 3–5 ms to plan and under 1 ms to run; with 6 planning
    # takes ~1 ms and the plans stay the same (docs/performance.md, fifth pass). Sent in the connection's startup
    # options; 0 leaves the server's setting (e.g. behind PgBouncer, which drops startup options: then set it with
    # ALTER ROLE … SET, docs/operations.md).
    _collapse_limit = env_int("DATABASE_JOIN_COLLAPSE_LIMIT", 6)
    if _collapse_limit > 0:
        _options["options"] = f"-c join_collapse_limit={_collapse_limit} -c from_collapse_limit={_collapse_limit}"
    _prepare_threshold = env_int("DATABASE_PREPARE_THRESHOLD", 0)
    if _prepare_threshold > 0:
        _options["server_side_binding"] = True
        _options["prepare_threshold"] = _prepare_threshold
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users and authentication ---------------------------------------------------------------------------
AUTH_USER_MODEL = "organisations.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked username and IP address before any password is checked (django-axes).
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, the session's user read by a compiled query (organisations/sessions.py).
    "organisations.sessions.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "frontend:home"
LOGOUT_REDIRECT_URL = "login"

# OpenID Connect login for the region's SITHS/BankID identity provider; off unless configured.
OIDC_ENABLED = env_bool("OIDC_ENABLED", False)
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET", "")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_OP_LOGOUT_ENDPOINT = env_str("OIDC_OP_LOGOUT_ENDPOINT", "")
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile")
OIDC_USERNAME_CLAIM = env_str("OIDC_USERNAME_CLAIM", "sub")
OIDC_OP_ISSUER = env_str("OIDC_OP_ISSUER", "")  # when set, an id_token from another issuer is refused
if OIDC_ENABLED:
    missing = [
        name
        for name in ("OIDC_RP_CLIENT_ID", "OIDC_OP_AUTHORIZATION_ENDPOINT", "OIDC_OP_TOKEN_ENDPOINT",
                     "OIDC_OP_USER_ENDPOINT", "OIDC_OP_JWKS_ENDPOINT")
        if not globals()[name]
    ]
    if missing:
        raise ImproperlyConfigured(f"OIDC_ENABLED needs {', '.join(missing)}")
    INSTALLED_APPS.append("mozilla_django_oidc")
    # Kept in the session for RP-initiated logout (frontend/views/auth.py); refused logins go to the form.
    OIDC_STORE_ID_TOKEN = True
    LOGIN_REDIRECT_URL_FAILURE = "/login/"
    AUTHENTICATION_BACKENDS.insert(0, "organisations.oidc.MembershipOIDCBackend")

# django-guardian: no anonymous user, no model-wide permission opening every object.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
GUARDIAN_USER_OBJ_PERMS_MODEL = "guardian.UserObjectPermission"
GUARDIAN_GROUP_OBJ_PERMS_MODEL = "guardian.GroupObjectPermission"

# --- Internationalisation -------------------------------------------------------------------------------
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Svenska")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("STATIC_MANIFEST", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- E-mail ---------------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Samverkan <noreply@samverkan.local>")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# --- Cache ----------------------------------------------------------------------------------------------
CACHE_URL = env_str("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# The forum pattern view's denominators (active SIPs per period) are kept this long per forum and window
# (avvikelser/patterns.py); 0 turns the cache off.
PATTERN_DENOMINATOR_CACHE_SECONDS = env_int("PATTERN_DENOMINATOR_CACHE_SECONDS", 600)
# …and its whole answers, until anything they show changes (avvikelser/pattern_cache.py; never longer than their
# denominators, so PATTERN_DENOMINATOR_CACHE_SECONDS = 0 turns this off too).
PATTERN_ANSWER_CACHE = env_bool("PATTERN_ANSWER_CACHE", True)

# --- Celery ---------------------------------------------------------------------------------------------
# Without a broker every task runs eagerly in the calling process (tests, a bare `manage.py runserver`).
CELERY_TASK_ALWAYS_EAGER = not env_str("CELERY_BROKER_URL", "")
# In eager mode nothing is sent; the in-memory transport only keeps kombu from looking for a server.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
# Reliability (docs/operations.md, "Celery och meddelandekö"): a task is acknowledged only when it has finished,
# a task whose worker process died is put back on the queue, a worker takes one task at a time, and every task
# is idempotent (organisations/once.py), so a redelivered task does nothing twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
_CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
if env_str("CELERY_BROKER_URL", "").startswith(("redis://", "rediss://", "unix://")):
    # Redis has no acknowledgements: a task taken by a worker that dies goes back on the queue after the
    # visibility timeout, which must be longer than any task runs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _CELERY_VISIBILITY_TIMEOUT,
        "unacked_restore_interval": max(1, min(10, _CELERY_VISIBILITY_TIMEOUT // 2)),
        "unacked_restore_throttle": 1 if _CELERY_VISIBILITY_TIMEOUT < 60 else 10,
    }
elif env_str("CELERY_BROKER_URL", "").startswith(("amqp://", "amqps://", "pyamqp://")):
    # Publisher confirms: .delay() returns only when RabbitMQ has the message.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    "clean-orphan-object-permissions": {
        "task": "organisations.tasks.clean_orphan_object_permissions",
        "schedule": 24 * 3600,
    },
    "purge-expired-tokens": {"task": "organisations.tasks.purge_expired_tokens", "schedule": 3600},
    "sip-reminders": {"task": "sip.tasks.send_sip_reminders", "schedule": 3600},
    "sip-expired-consents": {"task": "sip.tasks.refresh_expired_consents", "schedule": 3600},
    "delaktighet-reminders": {"task": "sip.delaktighet.tasks.send_invitation_reminders", "schedule": 3600},
    "deviation-notices": {"task": "avvikelser.tasks.send_deviation_notices", "schedule": 3600},
    # Monday morning; the later runs are retries only (one digest per member and week).
    "forum-digests": {"task": "avvikelser.tasks.send_forum_digests",
                      "schedule": crontab(minute=0, hour="7-9", day_of_week="mon")},
}

# --- REST framework -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.IsStaffMember"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "api.filters.FilterBackend",
        "api.filters.StableOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_THROTTLE_RATES": {
        "token": env_str("THROTTLE_TOKEN", "10/min"),
        "public": env_str("THROTTLE_PUBLIC", "30/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(hours=env_int("API_TOKEN_TTL_HOURS", 10)),
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Samverkan API",
    "DESCRIPTION": (
        "Samordnade individuella planer (SIP), delaktighet och samverkansavvikelser för kommun och region. "
        "Errors are RFC 9457 application/problem+json."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Every operation documents its problem+json error answers (api/schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.add_problem_responses"],
    "ENUM_NAME_OVERRIDES": {
        "OrganisationKindEnum": "organisations.models.OrganisationKind",
        "UnitKindEnum": "organisations.models.UnitKind",
        "RoleEnum": "organisations.models.Role",
        "AuditActionEnum": "organisations.models.AuditAction",
        "SipStatusEnum": "sip.models.SipStatus",
        "ActionStatusEnum": "sip.models.ActionStatus",
        "GoalStatusEnum": "sip.models.GoalStatus",
        "MeetingStatusEnum": "sip.models.MeetingStatus",
        "GoalKindEnum": "sip.models.GoalKind",
        "MeetingKindEnum": "sip.models.MeetingKind",
        "ParticipantKindEnum": "sip.models.ParticipantKind",
    },
}

# --- Security -------------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Django's database sessions, read by a compiled query (organisations/sessions.py).
SESSION_ENGINE = "organisations.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Content-Security-Policy (django-csp 4): scripts and styles from this site only, nothing inline, no plugins,
# no framing. htmx's indicator styles are off (base.html htmx-config). The API docs pages relax style-src for
# their own bundles only (api/urls.py).
_logout = urlsplit(OIDC_OP_LOGOUT_ENDPOINT)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        # Chromium applies form-action to the redirect after a POST too: logout may go on to the provider.
        "form-action": ["'self'", *([f"{_logout.scheme}://{_logout.netloc}"] if _logout.netloc else [])],
    },
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Login lockout (django-axes): 5 failures for one username from one IP address lock that pair for 15 minutes,
# on the login form and on POST /api/v1/auth/token/. A success resets the count.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False  # its log lines name the username
AXES_DISABLE_ACCESS_LOG = True  # failures are counted; successful logins are already in the audit log
# The client's address is REMOTE_ADDR unless AXES_PROXY_COUNT trusted proxies set X-Forwarded-For: otherwise a
# client could send a new made-up address with every guess.
_axes_proxies = env_int("AXES_PROXY_COUNT", 0)
AXES_IPWARE_PROXY_COUNT = _axes_proxies or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if _axes_proxies else ["REMOTE_ADDR"]

# --- Logging --------------------------------------------------------------------------------------------
# Log lines carry ids and request ids only; personal data never goes to logs (see docs/security.md).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_secrets": {"()": "config.logfilters.RedactSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request lines and 404 warnings carry the path, and answer links carry a secret in theirs.
        "django.request": {"level": "WARNING", "filters": ["redact_secrets"]},
        "django.server": {"filters": ["redact_secrets"]},
        "gunicorn.access": {"filters": ["redact_secrets"]},
        # One line per task is worker noise when tasks run inline in the web process.
        "celery.app.trace": {"level": "WARNING" if not env_str("CELERY_BROKER_URL", "") else "INFO"},
    },
}

# --- Samverkan ------------------------------------------------------------------------------------------
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "samverkan-demo")
# Defaults where a region has not set its own limit (DOMAIN.md: Blekinge 3 weeks; lag 2017:612: 3 days).
SIP_CALL_LIMIT_DAYS = env_int("SIP_CALL_LIMIT_DAYS", 21)
SIP_DISCHARGE_CALL_LIMIT_DAYS = env_int("SIP_DISCHARGE_CALL_LIMIT_DAYS", 3)
SIP_PRESENCE_SECONDS = env_int("SIP_PRESENCE_SECONDS", 30)
SIP_PRESENCE_POLL_SECONDS = env_int("SIP_PRESENCE_POLL_SECONDS", 10)
# Delaktighet: how long an answer link lives, when the one reminder goes out, the smallest reported cell.
DELAKTIGHET_LINK_DAYS = env_int("DELAKTIGHET_LINK_DAYS", 30)
DELAKTIGHET_REMINDER_DAYS = env_int("DELAKTIGHET_REMINDER_DAYS", 7)
DELAKTIGHET_MIN_CELL = env_int("DELAKTIGHET_MIN_CELL", 5)
SMS_SENDER = env_str("SMS_SENDER", "sip.delaktighet.senders.ConsoleSmsSender")

# --- Gallring (retention) -------------------------------------------------------------------------------
# Periods per record type; defaults and legal grounds in organisations/retention.py and docs/operations.md.
# Each can be set with RETENTION_<NAME>, e.g. RETENTION_SIP_CLOSED_YEARS=10. The access log keeps at least 5 years.
RETENTION = {
    name: env_int(f"RETENTION_{name}", default)
    for name, default in {
        "SIP_CLOSED_YEARS": 10, "PERSON_WITHOUT_PLAN_DAYS": 365, "DELAKTIGHET_TOKEN_DAYS": 30,
        "DELAKTIGHET_FREE_TEXT_YEARS": 3, "DEVIATION_CLOSED_YEARS": 5, "AUDIT_YEARS": 10, "REMINDER_LOG_DAYS": 400,
    }.items()
}
# Nightly, after the backup window (docs/operations.md); the job is idempotent, a missed night catches up.
CELERY_BEAT_SCHEDULE["gallring"] = {"task": "organisations.tasks.apply_retention",
                                    "schedule": crontab(minute=30, hour=3)}
