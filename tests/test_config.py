"""Production refuses to start with unsafe or missing settings, and says what to set."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import config


@pytest.fixture
def production(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_ENV", "production")
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("SURVEY_DATABASE_URL", "postgresql+psycopg://tenken@db/tenken")
    monkeypatch.setenv("SMTP_HOST", "mail.example.jp")
    monkeypatch.setenv("MAIL_FROM", "tenken@example.jp")
    for name in (
        "FLASK_DEBUG",
        "MAIL_BACKEND",
        "SMTP_SECURITY",
        "SMTP_PORT",
        "SURVEY_WORKERS",
        "SURVEY_RATELIMIT_STORAGE_URI",
        *[name for name in os.environ if name.startswith("SURVEY_LDAP_")],
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_with_explicit_settings_starts(production):
    settings = config.load()
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def test_production_without_secret_key_refuses(production):
    production.delenv("SECRET_KEY")
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.load()


def test_production_with_a_short_secret_key_refuses(production):
    production.setenv("SECRET_KEY", "changeme")
    with pytest.raises(config.ConfigError, match="SECRET_KEY が短すぎます"):
        config.load()


def test_production_without_database_refuses(production):
    production.delenv("SURVEY_DATABASE_URL")
    with pytest.raises(config.ConfigError, match="SURVEY_DATABASE_URL"):
        config.load()


def test_production_with_debug_refuses(production):
    production.setenv("FLASK_DEBUG", "1")
    with pytest.raises(config.ConfigError, match="デバッグ"):
        config.load()


def test_unknown_environment_refuses(monkeypatch):
    monkeypatch.setenv("SURVEY_ENV", "staging")
    with pytest.raises(config.ConfigError, match="staging"):
        config.load()


def test_development_generates_and_keeps_a_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_ENV", "development")
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SURVEY_DATABASE_URL", raising=False)
    first = config.load()
    assert len(first["SECRET_KEY"]) == 64
    assert config.load()["SECRET_KEY"] == first["SECRET_KEY"]
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'tenken.db'}"
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_sends_mail_over_smtp_with_starttls(production):
    settings = config.load()
    assert settings["MAIL_BACKEND"] == "smtp"
    assert (settings["SMTP_HOST"], settings["MAIL_FROM"]) == (
        "mail.example.jp",
        "tenken@example.jp",
    )
    assert (settings["SMTP_SECURITY"], settings["SMTP_PORT"]) == ("starttls", 587)


@pytest.mark.parametrize("name", ["SMTP_HOST", "MAIL_FROM"])
def test_production_without_a_mail_server_refuses(production, name):
    production.delenv(name)
    with pytest.raises(config.ConfigError, match=name):
        config.load()


def test_production_may_keep_mail_in_the_outbox_without_a_server(production):
    production.delenv("SMTP_HOST")
    production.delenv("MAIL_FROM")
    production.setenv("MAIL_BACKEND", "outbox")
    assert config.load()["MAIL_BACKEND"] == "outbox"


def test_development_keeps_mail_in_the_outbox(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_ENV", "development")
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("MAIL_BACKEND", raising=False)
    assert config.load()["MAIL_BACKEND"] == "outbox"


@pytest.mark.parametrize(
    ("name", "value"),
    [("MAIL_BACKEND", "sendmail"), ("SMTP_SECURITY", "tls"), ("SMTP_PORT", "smtp")],
)
def test_unknown_mail_settings_refuse(production, name, value):
    production.setenv(name, value)
    with pytest.raises(config.ConfigError, match=name):
        config.load()


def test_the_port_follows_the_security_unless_given(production):
    production.setenv("SMTP_SECURITY", "ssl")
    assert config.load()["SMTP_PORT"] == 465
    production.setenv("SMTP_PORT", "2525")
    assert config.load()["SMTP_PORT"] == 2525


def test_a_gunicorn_worker_moves_the_loaded_app_out_of_the_garbage_collectors_reach():
    import gc
    import runpy

    settings = runpy.run_path(str(config.BASE_DIR / "deploy" / "gunicorn.conf.py"))
    assert settings["worker_class"] == "sync" and settings["preload_app"] is False
    try:
        settings["post_worker_init"](None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_gunicorn_starts_one_worker_more_than_there_are_cores_unless_told(monkeypatch):
    import multiprocessing
    import runpy

    path = str(config.BASE_DIR / "deploy" / "gunicorn.conf.py")
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    assert runpy.run_path(path)["workers"] == multiprocessing.cpu_count() + 1
    monkeypatch.setenv("GUNICORN_WORKERS", "5")
    assert runpy.run_path(path)["workers"] == 5


def test_production_refuses_sign_in_limits_counted_in_each_workers_memory(production):
    production.setenv("SURVEY_WORKERS", "3")
    with pytest.raises(config.ConfigError, match="SURVEY_RATELIMIT_STORAGE_URI.*Redis"):
        config.load()


def test_one_worker_may_count_in_memory_and_several_share_a_redis(production):
    production.setenv("SURVEY_WORKERS", "1")
    assert config.load()["RATELIMIT_STORAGE_URI"] == "memory://"
    production.setenv("SURVEY_WORKERS", "3")
    production.setenv("SURVEY_RATELIMIT_STORAGE_URI", "redis://cache.example.lg.jp:6379/0")
    settings = config.load()
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://cache.example.lg.jp:6379/0"
    # A Redis that stops answering holds a sign-in for seconds, not minutes.
    assert settings["RATELIMIT_STORAGE_OPTIONS"] == {
        "socket_connect_timeout": config.SERVICE_TIMEOUT_SECONDS,
        "socket_timeout": config.SERVICE_TIMEOUT_SECONDS,
    }


def test_development_may_count_in_memory_with_several_workers(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_ENV", "development")
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SURVEY_WORKERS", "3")
    monkeypatch.delenv("SURVEY_RATELIMIT_STORAGE_URI", raising=False)
    assert config.load()["RATELIMIT_STORAGE_URI"] == "memory://"


def test_gunicorn_tells_the_app_how_many_workers_it_starts_and_checks_first(production):
    import runpy
    from types import SimpleNamespace

    hooks = runpy.run_path(str(config.BASE_DIR / "deploy" / "gunicorn.conf.py"))
    production.setenv("SURVEY_WORKERS", "")  # the hook sets it: unset again after the test
    server = SimpleNamespace(cfg=SimpleNamespace(workers=1))
    hooks["on_starting"](server)
    assert os.environ["SURVEY_WORKERS"] == "1"
    server.cfg.workers = 4
    with pytest.raises(config.ConfigError, match="4 個"):
        hooks["on_starting"](server)
    assert os.environ["SURVEY_WORKERS"] == "4"  # what the workers' own check reads


def test_gunicorn_stops_before_any_worker_with_limits_in_memory(production):
    """However the workers are counted (here -w, over GUNICORN_WORKERS=1), gunicorn exits with
    the reason, instead of starting workers that fail one by one."""
    production.setenv("GUNICORN_WORKERS", "1")
    production.setenv("GUNICORN_BIND", "127.0.0.1:0")
    production.setenv("MAIL_BACKEND", "outbox")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run(
        [gunicorn, "-c", "deploy/gunicorn.conf.py", "-w", "2", "wsgi:app"],
        cwd=config.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "SURVEY_RATELIMIT_STORAGE_URI" in result.stderr and "2 個" in result.stderr
    assert "Booting worker" not in result.stderr


def test_the_systemd_units_start_what_the_project_has(runner):
    """deploy/systemd: each timer has its service, and each service starts gunicorn with the
    shipped settings or a flask command the app has."""
    import configparser
    import shlex

    units = config.BASE_DIR / "deploy" / "systemd"
    for timer in units.glob("*.timer"):
        assert timer.with_suffix(".service").exists(), timer.name
    services = sorted(units.glob("*.service"))
    assert [s.name for s in services] == [
        "tenken-jobs-purge.service",
        "tenken-ldap-sync.service",
        "tenken-mail.service",
        "tenken-reminders.service",
        "tenken-worker.service",
        "tenken.service",
    ]
    for service in services:
        unit = configparser.ConfigParser(interpolation=None)
        unit.optionxform = str
        unit.read(service)
        program, *args = shlex.split(unit["Service"]["ExecStart"])
        if Path(program).name == "gunicorn":
            assert args[:2] == ["-c", "deploy/gunicorn.conf.py"] and args[-1] == "wsgi:app"
            continue
        assert Path(program).name == "flask" and args[:2] == ["--app", "wsgi"], service.name
        result = runner.invoke(args=[*args[2:], "--help"])
        assert result.exit_code == 0, (service.name, result.output)


# --- directory sign-in ----------------------------------------------------------------------

LDAP = {
    "SURVEY_LDAP_BIND_DN": "CN=tenken-sync,OU=Service,DC=city,DC=example,DC=jp",
    "SURVEY_LDAP_BIND_PASSWORD": "service-secret",
    "SURVEY_LDAP_USER_BASE": "OU=Staff,DC=city,DC=example,DC=jp",
}


def test_production_takes_ldaps_and_starttls_and_reads_the_group_mapping(production):
    for name, value in LDAP.items():
        production.setenv(name, value)
    production.setenv("SURVEY_LDAP_URL", "ldaps://dc1.city.example.jp")
    production.setenv(
        "SURVEY_LDAP_ROLE_GROUPS",
        "admin=CN=tenken-admins,OU=Groups,DC=city,DC=example,DC=jp;\n"
        " respondent = CN=tenken-users,OU=Groups,DC=city,DC=example,DC=jp",
    )
    production.setenv("SURVEY_LDAP_UNIT_GROUPS", "D04-01=CN=koseki,OU=Groups,DC=city")
    settings = config.load()
    assert settings["LDAP_TLS"] == "ldaps"
    assert settings["LDAP_ROLE_GROUPS"] == [
        ("admin", "CN=tenken-admins,OU=Groups,DC=city,DC=example,DC=jp"),
        ("respondent", "CN=tenken-users,OU=Groups,DC=city,DC=example,DC=jp"),
    ]
    assert settings["LDAP_UNIT_GROUPS"] == [("D04-01", "CN=koseki,OU=Groups,DC=city")]
    production.setenv("SURVEY_LDAP_URL", "ldap://dc1.city.example.jp")
    assert config.load()["LDAP_TLS"] == "starttls"  # ldap:// is upgraded unless told otherwise


def test_production_refuses_plain_ldap(production):
    for name, value in LDAP.items():
        production.setenv(name, value)
    production.setenv("SURVEY_LDAP_URL", "ldap://dc1.city.example.jp")
    production.setenv("SURVEY_LDAP_TLS", "none")
    with pytest.raises(config.ConfigError, match="SURVEY_LDAP_TLS=none"):
        config.load()


def test_development_may_use_plain_ldap(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_ENV", "development")
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    for name, value in LDAP.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SURVEY_LDAP_URL", "ldap://127.0.0.1:3389")
    monkeypatch.setenv("SURVEY_LDAP_TLS", "none")
    assert config.load()["LDAP_TLS"] == "none"


@pytest.mark.parametrize(
    "name, value",
    [
        ("SURVEY_LDAP_ROLE_GROUPS", "contractor=CN=firms,DC=city"),  # contractors stay local
        ("SURVEY_LDAP_ROLE_GROUPS", "admin"),
        ("SURVEY_LDAP_UNIT_GROUPS", "D04-01=koseki"),
        ("SURVEY_LDAP_URL", "https://dc1.city.example.jp"),
        ("SURVEY_LDAP_TLS", "maybe"),
    ],
)
def test_unreadable_directory_settings_refuse(production, name, value):
    for key, setting in LDAP.items():
        production.setenv(key, setting)
    production.setenv("SURVEY_LDAP_URL", "ldaps://dc1.city.example.jp")
    production.setenv(name, value)
    with pytest.raises(config.ConfigError, match=name):
        config.load()


def test_a_directory_needs_a_service_account_or_a_dn_template(production):
    production.setenv("SURVEY_LDAP_URL", "ldaps://dc1.city.example.jp")
    with pytest.raises(config.ConfigError, match="SURVEY_LDAP_BIND_DN"):
        config.load()
    production.setenv("SURVEY_LDAP_USER_DN_TEMPLATE", "{username}@city.example.jp")
    assert config.load()["LDAP_USER_DN_TEMPLATE"] == "{username}@city.example.jp"
