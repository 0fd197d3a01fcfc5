"""WasteEx configuration: one class per environment.

Every upper-case setting can be overridden by an environment variable of the
same name prefixed with ``WASTEEX_`` (``WASTEEX_DATABASE_URL``,
``WASTEEX_SECRET_KEY``, ``WASTEEX_REDIS_URL`` ...); see ``wasteex.app``.
"""
from datetime import timedelta

DEV_SECRET_KEY = "dev-only-secret-not-for-production"


class Config:
    SECRET_KEY = DEV_SECRET_KEY
    # None means: a SQLite file inside the instance folder (filled in by the factory).
    DATABASE_URL: str | None = None
    # A PostgreSQL read replica of it for the regulators' cockpit (wasteex/replica.py); None: none.
    REPLICA_DATABASE_URL: str | None = None
    REDIS_URL: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    WTF_CSRF_TIME_LIMIT = None

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # Checked on the server on every request (accounts/session.py): a session ends after this
    # many idle minutes, and this many minutes after sign-in whatever the activity.
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_MINUTES = 12 * 60
    # Sensitive acts (signing a transfer slip) need a sign-in or a re-confirmation this recent
    # (accounts/reauth.py).
    REAUTH_MAX_AGE_MINUTES = 5

    # TOTP second factor (accounts/second_factor.py). Platform roles that must use it, comma-
    # separated ("regulator,admin"; "" for none): they enrol right after their first sign-in and
    # can do nothing else until they have.
    TOTP_REQUIRED_ROLES = "regulator,admin"
    TOTP_ISSUER = "WasteEx"
    # Keys encrypting the stored TOTP secrets, comma-separated; the first encrypts, all decrypt.
    # A Fernet key or any long random string. Unset: derived from SECRET_KEY (when rotating
    # SECRET_KEY, list the old one here or enrolled users must enrol again).
    TOTP_ENCRYPTION_KEYS: str | None = None
    # How long the "enter your code" step after a correct password stays open.
    TOTP_LOGIN_PENDING_SECONDS = 300

    # Security events as JSON lines (security_log.py); also written to this file when set.
    SECURITY_LOG_FILE: str | None = None

    # Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For/-Proto/-Host are then
    # trusted, so the client's address (throttling, security log) and https (HSTS, secure CSRF
    # checks) are the real ones. Never set it when clients reach gunicorn directly.
    TRUSTED_PROXIES = 0

    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    API_MAX_JSON_BYTES = 1024 * 1024

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}

    PASSWORD_MIN_LENGTH = 12
    LOGIN_MAX_FAILURES = 5
    LOGIN_FAILURE_WINDOW = 900  # seconds
    API_TOKEN_LIFETIME = timedelta(days=30)
    # "memory://" in one process; production points this at Redis so that
    # every gunicorn worker shares the counters (FIELD_NOTES.md).
    RATELIMIT_STORAGE_URI = "memory://"

    # Geocoding through geopy's Nominatim only when explicitly enabled; the
    # offline gazetteer always works.
    GEOCODER: str | None = None

    # Transport cost shown in proposals' explanations (yuan per tonne-km); not part of the objective.
    TRANSPORT_YUAN_PER_TKM = "0.45"
    # A queued or running matcher run older than this is taken as dead (its worker was killed).
    MATCH_RUN_STALE_SECONDS = 3600

    # Transfer slips (transfers/): a received weight differing from the dispatched one by more
    # than this share is a discrepancy; no truck plausibly carries more than SLIP_MAX_LOAD_T;
    # a slip is overdue when not received this many hours after dispatch, or not operated this
    # many days after reception.
    SLIP_TOLERANCE = "0.02"
    SLIP_MAX_LOAD_T = 100
    SLIP_TRANSIT_HOURS = 72
    SLIP_OPERATION_DAYS = 30

    # Notifications (wasteex/notifications). The address users reach WasteEx at, for links in
    # e-mails and webhook payloads ("https://wasteex.example.cn"); unset: the address of the
    # request that caused the notification, or a bare path when there was none (a cron job).
    PUBLIC_URL: str | None = None
    # E-mail through SMTP, off while MAIL_SERVER is unset. MAIL_USE_TLS: STARTTLS on MAIL_PORT.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = False
    MAIL_SENDER = "WasteEx <noreply@wasteex.invalid>"
    MAIL_TIMEOUT_SECONDS = 10
    # The outbox (e-mails and webhook calls): a failed attempt is retried after
    # base × 2^(n−1) seconds, capped, until the last attempt.
    DELIVERY_MAX_ATTEMPTS = 8
    DELIVERY_RETRY_BASE_SECONDS = 30
    DELIVERY_RETRY_MAX_SECONDS = 6 * 3600
    # A webhook is disabled after this many failed calls in a row (its admins are told).
    WEBHOOK_MAX_FAILURES = 5
    WEBHOOK_TIMEOUT_SECONDS = 10
    # Webhooks to loopback, private or reserved addresses are refused (SSRF) unless this is on
    # (tests, an intranet receiver).
    WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    API_TITLE = "WasteEx API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_REDOC_PATH = None
    OPENAPI_SWAGGER_UI_PATH = None

    PAGE_SIZE = 20
    SEED_DEMO_ALLOWED = True


class DevelopmentConfig(Config):
    DEBUG = False
    # The demo admin and regulator sign in with their password alone under `make run` (README:
    # WASTEEX_TOTP_REQUIRED_ROLES=regulator,admin to try the enforced second factor). Anyone
    # may still enrol from the account page; an enrolled account is always asked for its code.
    TOTP_REQUIRED_ROLES = ""


class TestingConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = True
    # Tests do not need a memory-hard KDF at full strength.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    # Regulator and admin fixtures sign in with a password; the TOTP tests turn this on.
    TOTP_REQUIRED_ROLES = ""


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-session"
    SEED_DEMO_ALLOWED = False


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
