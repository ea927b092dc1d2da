"""Settings read from the environment, with defaults that are safe for a developer's machine.

Production (SURVEY_ENV=production) refuses to start unless the secret and database are given
explicitly, debug is off and several workers share their sign-in limits: a forgotten variable
must fail loudly, not fall back to SQLite or to limits each worker counts alone.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from reports.queries import engine_options

BASE_DIR = Path(__file__).resolve().parent
ENVIRONMENTS = ("development", "testing", "production")
SECRET_KEY_MIN_LENGTH = 32  # `python -c "import secrets; print(secrets.token_hex(32))"`: 64


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the message says which variable to set."""


def instance_dir() -> Path:
    return Path(os.environ.get("SURVEY_INSTANCE_PATH", BASE_DIR / "instance"))


def _secret_key(env: str) -> str:
    key = os.environ.get("SECRET_KEY")
    if key and env == "production" and len(key) < SECRET_KEY_MIN_LENGTH:
        # The key signs the session cookie: a short or memorable one can be guessed offline.
        raise ConfigError(
            f"SECRET_KEY が短すぎます。本番環境では {SECRET_KEY_MIN_LENGTH} 文字以上のランダムな"
            f"文字列を設定してください (SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} "
            "characters)."
        )
    if key:
        return key
    if env == "production":
        raise ConfigError(
            "SECRET_KEY が設定されていません。本番環境では環境変数 SECRET_KEY に長いランダムな"
            "文字列を設定してください (SECRET_KEY is not set)."
        )
    # Developers get a key generated once and kept, so sessions survive restarts.
    path = instance_dir() / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url(env: str) -> str:
    url = os.environ.get("SURVEY_DATABASE_URL")
    if url:
        return url
    if env == "production":
        raise ConfigError(
            "SURVEY_DATABASE_URL が設定されていません。本番環境では PostgreSQL の接続先を"
            "設定してください (例: postgresql+psycopg://tenken@db/tenken)."
        )
    instance_dir().mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance_dir() / 'tenken.db'}"


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _int(name: str, default: int, minimum: int = 1) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise ConfigError(
            f"{name}={value!r} は使えません。{minimum} 以上の整数を指定してください "
            f"({name} must be a whole number of at least {minimum})."
        )
    return number


# How long a request waits for the limits' Redis, and /healthz for the database, before giving
# up: a host that stops answering would otherwise hold a worker for minutes.
SERVICE_TIMEOUT_SECONDS = 2


def _limit_storage(uri: str) -> dict:
    """Where the sign-in limits count (Flask-Limiter): memory://, each process its own counts,
    or a Redis that every process of every server shares."""
    settings = {"RATELIMIT_STORAGE_URI": uri, "RATELIMIT_KEY_PREFIX": "tenken"}
    if uri.startswith("redis"):  # redis://, rediss://, redis+unix://, redis+sentinel://
        settings["RATELIMIT_STORAGE_OPTIONS"] = {
            "socket_connect_timeout": SERVICE_TIMEOUT_SECONDS,
            "socket_timeout": SERVICE_TIMEOUT_SECONDS,
        }
    return settings


def _refuse_limits_per_process(settings: dict) -> None:
    """In memory, each worker process counts failed sign-ins on its own: with several, an
    address gets the limit once per worker, and which one it meets is chance. SURVEY_WORKERS
    is how many processes serve the app: deploy/gunicorn.conf.py sets it from the workers
    gunicorn really starts; another server must be told (unset: one, as a flask command)."""
    workers = _int("SURVEY_WORKERS", 1)
    if workers > 1 and settings["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        raise ConfigError(
            "ログイン試行の制限が SURVEY_RATELIMIT_STORAGE_URI=memory:// のため、ワーカーごとの"
            f"メモリで別々に数えられます。本番環境でワーカーを {workers} 個使うには "
            "SURVEY_RATELIMIT_STORAGE_URI に Redis（例: redis://127.0.0.1:6379/0）を設定するか、"
            "ワーカーを 1 個にしてください "
            f"(SURVEY_RATELIMIT_STORAGE_URI=memory:// counts sign-in limits per process; with "
            f"{workers} workers set it to a Redis URL, or run one worker)."
        )


APPROVAL_MAILS = ("immediate", "daily")
MAIL_BACKENDS = ("smtp", "outbox")
SMTP_SECURITY = {"none": 25, "starttls": 587, "ssl": 465}  # each mode's usual port


def _choice(name: str, default: str, choices) -> str:
    value = (os.environ.get(name) or default).strip().lower()
    if value not in choices:
        raise ConfigError(
            f"{name}={value!r} は使えません。{', '.join(choices)} のいずれかを指定してください "
            f"({name} must be one of {', '.join(choices)})."
        )
    return value


def _evaluation_settings() -> dict:
    """Contractor evaluations (survey.services.evaluations): a correction recommendation's
    deadline, and the month by which each year's evaluation should be done. The grades, and
    which of them issue a recommendation, are in the evaluation checklist's file."""
    due_month = _int("SURVEY_EVALUATION_DUE_MONTH", 12)
    if due_month > 12:
        raise ConfigError(
            f"SURVEY_EVALUATION_DUE_MONTH={due_month} は使えません。1〜12 の月を指定してください "
            "(SURVEY_EVALUATION_DUE_MONTH must be a month, 1 to 12)."
        )
    return {
        "EVALUATION_RECOMMENDATION_DAYS": _int("SURVEY_EVALUATION_RECOMMENDATION_DAYS", 30),
        "EVALUATION_DUE_MONTH": due_month,
    }


def _mail(env: str) -> dict:
    """Mail delivery (survey.services.mailer). Developers and tests keep mail in the outbox,
    readable on the admin page; production sends it over SMTP unless told otherwise."""
    backend = _choice("MAIL_BACKEND", "smtp" if env == "production" else "outbox", MAIL_BACKENDS)
    security = _choice(
        "SMTP_SECURITY", "starttls" if env == "production" else "none", SMTP_SECURITY
    )
    settings = {
        "MAIL_BACKEND": backend,
        "SMTP_HOST": os.environ.get("SMTP_HOST", "").strip(),
        "SMTP_PORT": _int("SMTP_PORT", SMTP_SECURITY[security]),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_SECURITY": security,
        "SMTP_TIMEOUT": _int("SMTP_TIMEOUT", 30),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "").strip(),
        # When the approvers hear that something waits for them: a mail at each hand-in, or
        # one digest a day with `flask reminders send`.
        "APPROVAL_MAIL": _choice("SURVEY_APPROVAL_MAIL", "immediate", APPROVAL_MAILS),
    }
    if env == "production" and backend == "smtp":
        for name in ("SMTP_HOST", "MAIL_FROM"):
            if not settings[name]:
                raise ConfigError(
                    f"{name} が設定されていません。本番環境でメールを送信するには SMTP_HOST と "
                    f"MAIL_FROM を設定してください（送信しない場合は MAIL_BACKEND=outbox） "
                    f"({name} is not set)."
                )
    return settings


def _audit_anchor() -> dict:
    """Where `flask audit anchor` hands the newest entry's id and hash (survey.services.anchors):
    the system log's socket (empty: none) and mail addresses besides the auditors' accounts."""
    addresses = os.environ.get("SURVEY_AUDIT_ANCHOR_MAIL_TO", "")
    return {
        "AUDIT_SYSLOG_ADDRESS": os.environ.get("SURVEY_AUDIT_SYSLOG_ADDRESS", "/dev/log").strip(),
        "AUDIT_ANCHOR_MAIL_TO": [a.strip() for a in addresses.split(",") if a.strip()],
    }


# Directory sign-in (survey.services.directory). Roles a directory group may give: contractors
# are never in the office's directory, they keep local accounts.
DIRECTORY_ROLES = ("admin", "auditor", "manager", "respondent")
LDAP_TLS_MODES = ("starttls", "ldaps", "none")


def _pairs(name: str, allowed=None) -> list[tuple[str, str]]:
    """`KEY=GROUP DN` pairs, separated by `;` or new lines; the key is everything before the
    first `=` (a DN holds `=` itself). Kept in the order written: the first match wins."""
    pairs = []
    for part in os.environ.get(name, "").replace("\n", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, dn = part.partition("=")
        key, dn = key.strip(), dn.strip()
        if not sep or not key or "=" not in dn or (allowed and key not in allowed):
            expected = f"{'|'.join(allowed)}=" if allowed else "CODE="
            raise ConfigError(
                f"{name} の「{part}」は読めません。「{expected}グループのDN」を ; で区切って"
                f"指定してください ({name}: write {expected}GROUP_DN pairs separated by ;)."
            )
        pairs.append((key, dn))
    return pairs


def _directory() -> dict:
    """LDAP / Active Directory (docs/deployment.md, "Directory sign-in"). Empty SURVEY_LDAP_URL:
    local accounts only. ldaps:// is TLS from the first byte; ldap:// upgrades with StartTLS,
    and only a developer's or the tests' configuration may leave it plain (checked again in
    `_refuse_plain_directory` after the overrides)."""
    url = os.environ.get("SURVEY_LDAP_URL", "").strip()
    tls_default = "ldaps" if url.lower().startswith("ldaps://") else "starttls"
    return {
        "LDAP_URL": url,
        "LDAP_TLS": _choice("SURVEY_LDAP_TLS", tls_default, LDAP_TLS_MODES),
        "LDAP_CA_FILE": os.environ.get("SURVEY_LDAP_CA_FILE", "").strip(),
        "LDAP_TIMEOUT": _int("SURVEY_LDAP_TIMEOUT", 5),
        # Either a service account that searches for the user (and that `flask register
        # sync-ldap` needs), or a template the user's DN is made from ({username}).
        "LDAP_BIND_DN": os.environ.get("SURVEY_LDAP_BIND_DN", "").strip(),
        "LDAP_BIND_PASSWORD": os.environ.get("SURVEY_LDAP_BIND_PASSWORD", ""),
        "LDAP_USER_DN_TEMPLATE": os.environ.get("SURVEY_LDAP_USER_DN_TEMPLATE", "").strip(),
        "LDAP_USER_BASE": os.environ.get("SURVEY_LDAP_USER_BASE", "").strip(),
        "LDAP_USER_FILTER": os.environ.get("SURVEY_LDAP_USER_FILTER", "(objectClass=person)"),
        "LDAP_LOGIN_ATTRIBUTE": os.environ.get("SURVEY_LDAP_LOGIN_ATTRIBUTE", "uid").strip(),
        "LDAP_NAME_ATTRIBUTE": os.environ.get("SURVEY_LDAP_NAME_ATTRIBUTE", "displayName").strip(),
        "LDAP_MAIL_ATTRIBUTE": os.environ.get("SURVEY_LDAP_MAIL_ATTRIBUTE", "mail").strip(),
        "LDAP_UNIT_ATTRIBUTE": os.environ.get("SURVEY_LDAP_UNIT_ATTRIBUTE", "").strip(),
        "LDAP_GROUP_BASE": os.environ.get("SURVEY_LDAP_GROUP_BASE", "").strip(),
        "LDAP_GROUP_FILTER": os.environ.get(
            "SURVEY_LDAP_GROUP_FILTER", "(&(objectClass=groupOfNames)(member={dn}))"
        ),
        "LDAP_ROLE_GROUPS": _pairs("SURVEY_LDAP_ROLE_GROUPS", DIRECTORY_ROLES),
        "LDAP_UNIT_GROUPS": _pairs("SURVEY_LDAP_UNIT_GROUPS"),
    }


def _refuse_plain_directory(settings: dict) -> None:
    """In production the directory password must never cross the network in clear."""
    url = settings.get("LDAP_URL", "")
    if not url:
        return
    scheme = url.lower().split("://", 1)[0]
    if scheme not in ("ldap", "ldaps"):
        raise ConfigError(
            f"SURVEY_LDAP_URL={url!r} は使えません。ldaps:// か ldap:// で始まる URL を指定して"
            "ください (SURVEY_LDAP_URL must start with ldaps:// or ldap://)."
        )
    if settings["SURVEY_ENV"] == "production" and settings.get("LDAP_TLS") == "none":
        raise ConfigError(
            "本番環境では暗号化しない LDAP 接続 (SURVEY_LDAP_TLS=none) は使えません。"
            "ldaps:// を使うか SURVEY_LDAP_TLS=starttls にしてください "
            "(plain LDAP sends passwords in clear: use ldaps:// or StartTLS in production)."
        )
    if not (settings.get("LDAP_BIND_DN") or settings.get("LDAP_USER_DN_TEMPLATE")):
        raise ConfigError(
            "SURVEY_LDAP_URL を設定したときは、SURVEY_LDAP_BIND_DN（サービスアカウント）か "
            "SURVEY_LDAP_USER_DN_TEMPLATE を設定してください "
            "(set SURVEY_LDAP_BIND_DN or SURVEY_LDAP_USER_DN_TEMPLATE with SURVEY_LDAP_URL)."
        )


def _workbook_limits() -> dict:
    """The most each kind of uploaded workbook may hold, checked before a cell is read
    (checklists.workbook_limits): openpyxl spends microseconds on every cell, and a workbook of a
    few KB can hold millions. An answer sheet has some six cells per item, a checklist a dozen
    per item, a register about ten per person, contract or system, an access log about ten per
    look-up."""
    return {
        kind: {
            "cells": _int(f"SURVEY_{kind.upper()}_MAX_CELLS", cells),
            "rows": _int(f"SURVEY_{kind.upper()}_MAX_ROWS", rows),
            "unpacked_bytes": _int(f"SURVEY_{kind.upper()}_MAX_UNPACKED_MB", mb) * 1024 * 1024,
        }
        for kind, cells, rows, mb in (
            ("answer_sheet", 20_000, 5_000, 10),
            ("checklist", 100_000, 10_000, 20),
            ("register", 600_000, 60_000, 50),
            # A month of a system's access log: Excel's own limit of rows, some ten cells each.
            ("access_log", 12_000_000, 1_048_576, 1024),
        )
    }


def _jobs() -> dict:
    """Long exports (survey.services.jobs): the Redis that RQ queues them on (empty: each runs
    in a thread of the web process that took the click, for a developer's `make run`), how
    long the longest may take, how soon a worker that stopped refreshing a job's heartbeat
    counts as gone, and how long a finished job's file is kept for its owner."""
    return {
        "JOB_QUEUE_URL": os.environ.get("SURVEY_JOB_QUEUE_URL", "").strip(),
        "JOB_TIMEOUT_MINUTES": _int("SURVEY_JOB_TIMEOUT_MINUTES", 60),
        "JOB_STALE_SECONDS": _int("SURVEY_JOB_STALE_SECONDS", 60, minimum=4),
        "JOB_RETENTION_HOURS": _int("SURVEY_JOB_RETENTION_HOURS", 24),
    }


def load(overrides: dict | None = None) -> dict:
    """Build the settings dictionary for `create_app`, validating production settings."""
    overrides = overrides or {}
    env = overrides.get("SURVEY_ENV") or os.environ.get("SURVEY_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(
            f"SURVEY_ENV={env!r} は不明です。"
            f"{', '.join(ENVIRONMENTS)} のいずれかを指定してください。"
        )
    debug = _flag("FLASK_DEBUG") or bool(overrides.get("DEBUG"))
    if env == "production" and debug:
        raise ConfigError(
            "本番環境 (SURVEY_ENV=production) ではデバッグモードを有効にできません。"
            "FLASK_DEBUG を外してください (debug must be off in production)."
        )
    database_url = overrides.get("SQLALCHEMY_DATABASE_URI") or _database_url(env)
    settings = {
        "SURVEY_ENV": env,
        "TESTING": env == "testing",
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(env),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, **engine_options(database_url)},
        "BABEL_DEFAULT_LOCALE": os.environ.get("SURVEY_LOCALE", "ja"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("SURVEY_TIMEZONE", "Asia/Tokyo"),
        "LANGUAGES": ("ja", "en"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("SURVEY_MAX_UPLOAD_MB", "10")) * 1024 * 1024,
        "CHECKLIST_MAX_BYTES": int(os.environ.get("SURVEY_CHECKLIST_MAX_KB", "1024")) * 1024,
        "WORKBOOK_LIMITS": _workbook_limits(),
        # Cookies: never readable by scripts, not sent by other sites' forms, HTTPS-only in
        # production. Remember-me is not used; its cookie is locked down all the same.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env == "production",
        # Sign-in (survey.services.signin, survey.auth): the password policy, the lockout of an
        # account after repeated failures, the limit per client address, two-factor sign-in and
        # how long a session lasts.
        "PASSWORD_MIN_LENGTH": _int("SURVEY_PASSWORD_MIN_LENGTH", 12, minimum=8),
        "SIGNIN_MAX_FAILURES": _int("SURVEY_SIGNIN_MAX_FAILURES", 5),
        "SIGNIN_FAILURE_WINDOW_MINUTES": _int("SURVEY_SIGNIN_FAILURE_WINDOW_MINUTES", 15),
        "SIGNIN_LOCK_MINUTES": _int("SURVEY_SIGNIN_LOCK_MINUTES", 15),
        "LOGIN_RATE_LIMIT": os.environ.get("SURVEY_LOGIN_RATE_LIMIT", "20 per minute"),
        **_limit_storage(
            overrides.get("RATELIMIT_STORAGE_URI")
            or os.environ.get("SURVEY_RATELIMIT_STORAGE_URI")
            or "memory://"
        ),
        "PROXY_COUNT": _int("SURVEY_PROXY_COUNT", 0, minimum=0),
        "SERVICE_TIMEOUT_SECONDS": SERVICE_TIMEOUT_SECONDS,
        "REQUIRE_2FA": _flag("SURVEY_REQUIRE_2FA", default=env == "production"),
        "TOTP_ISSUER": os.environ.get("SURVEY_TOTP_ISSUER", "tenken"),
        "SESSION_IDLE_MINUTES": _int("SURVEY_SESSION_IDLE_MINUTES", 30),
        "SESSION_MAX_HOURS": _int("SURVEY_SESSION_MAX_HOURS", 12),
        "WTF_CSRF_ENABLED": True,
        # Personal access tokens for /api/v1 (survey.services.tokens): the lifetime offered by
        # default and the longest one allowed, and the requests one token may make.
        "API_TOKEN_DAYS": _int("SURVEY_API_TOKEN_DAYS", 90),
        "API_TOKEN_MAX_DAYS": _int("SURVEY_API_TOKEN_MAX_DAYS", 365),
        "API_RATE_LIMIT": os.environ.get("SURVEY_API_RATE_LIMIT", "120 per minute"),
        "INVITATION_DAYS": int(os.environ.get("SURVEY_INVITATION_DAYS", "14")),
        # Password reset by mail (survey.services.password_resets): how long a link works, and
        # the requests allowed per address typed and per client address.
        "PASSWORD_RESET_MINUTES": _int("SURVEY_PASSWORD_RESET_MINUTES", 30, minimum=5),
        "PASSWORD_RESET_ADDRESS_LIMIT": os.environ.get(
            "SURVEY_PASSWORD_RESET_ADDRESS_LIMIT", "3 per hour"
        ),
        "PASSWORD_RESET_CLIENT_LIMIT": os.environ.get(
            "SURVEY_PASSWORD_RESET_CLIENT_LIMIT", "10 per hour"
        ),
        # Imported access logs are deleted this many days after their newest entry (`flask logs
        # purge`); review rounds keep the entries they sampled.
        "LOG_RETENTION_DAYS": _int("SURVEY_LOG_RETENTION_DAYS", 365),
        "SURVEY_BASE_URL": os.environ.get("SURVEY_BASE_URL", "http://127.0.0.1:5000"),
        **_jobs(),
        **_evaluation_settings(),
        **_mail(env),
        **_audit_anchor(),
        **_directory(),
    }
    settings.update(overrides)
    _refuse_plain_directory(settings)
    if env == "production":
        _refuse_limits_per_process(settings)
    return settings
