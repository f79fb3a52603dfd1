"""Whole-site behaviour: health, languages, security headers, deploy checks, error pages."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from gongkai.core.tlog.notes import generate_signer
from tests.conftest import Org

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_reports_the_database(db, client: Client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}  # nothing about the engine (test_small_leaks)
    assert response["Cache-Control"].startswith("max-age=0")


def test_chinese_is_the_default_even_for_an_english_browser(db, client: Client):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    body = response.content.decode()
    assert '<html lang="zh-hans">' in body
    assert "工号" in body


def test_language_switcher_changes_the_language(db, client: Client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    body = client.get(reverse("accounts:login")).content.decode()
    assert '<html lang="en">' in body
    assert "Employee number" in body
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "工号" in client.get(reverse("accounts:login")).content.decode()


def test_every_page_has_the_language_switcher(org: Org, client: Client):
    client.force_login(org["employee"])
    for url in ["/", reverse("org:unit_list"), "/no/such/page/"]:
        body = client.get(url).content.decode()
        assert 'action="/i18n/setlang/"' in body, url


def test_home_shows_the_chain_company_department_team(org: Org, client: Client):
    client.force_login(org["employee"])
    body = client.get("/").content.decode()
    positions = [body.index(name) for name in ("示范热电有限责任公司", "锅炉分场", "锅炉运行一班")]
    assert positions == sorted(positions)


def test_home_fits_the_role(org: Org, client: Client):
    client.force_login(org["union"])
    union_home = client.get("/").content.decode()
    client.force_login(org["employee"])
    employee_home = client.get("/").content.decode()
    for link in (reverse("org:roster_import"), reverse("audit:event_list")):
        assert link in union_home
        assert link not in employee_home


def test_security_headers(db, client: Client):
    response = client.get(reverse("accounts:login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_load_no_external_assets(org: Org, client: Client):
    client.force_login(org["union"])
    body = client.get(reverse("org:unit_detail", args=[org.boiler.code])).content.decode()
    assert "http://" not in body and "https://" not in body and "//cdn" not in body


# Nothing listens on port 9: the deploy check must not need to connect to either.
UNREACHABLE_POSTGRES = "postgres://gongkai@127.0.0.1:9/gongkai"
UNREACHABLE_REDIS = "redis://127.0.0.1:9/0"


def deploy_check(**environment: str | None) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "REDIS_URL", "LIMITS_URL"}
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "gongkai.example",
        "DATABASE_URL": UNREACHABLE_POSTGRES,
        "REDIS_URL": UNREACHABLE_REDIS,
        "LEDGER_SIGNING_KEY": generate_signer("gongkai.example/ledger")[0],
        "LEDGER_SIGNING_KEY_FILE": "/nonexistent/ledger-signing.key",
    }
    for name, value in environment.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("key", "named"),
    [(None, "manage.py ledger_key create"), ("PRIVATE+KEY+not+a+key", "gongkai.ledger.E002")],
    ids=["missing", "not-a-key"],
)
def test_the_deploy_check_wants_the_ledger_signing_key(key, named):
    result = deploy_check(LEDGER_SIGNING_KEY=key)
    assert result.returncode != 0
    assert named in result.stderr + result.stdout


def test_production_limits_are_kept_in_redis():
    code = "from django.conf import settings; print(settings.LIMITS_URL)"
    env = {k: v for k, v in os.environ.items() if k != "LIMITS_URL"}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": UNREACHABLE_POSTGRES,
        "REDIS_URL": UNREACHABLE_REDIS,
        "LIMITS_URL": "sqlite:////tmp/not-in-production.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == UNREACHABLE_REDIS, result.stderr


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:////tmp/gongkai-check.db"}, "DATABASE_URL"),
        ({"REDIS_URL": None}, "REDIS_URL"),
        ({"REDIS_URL": ""}, "REDIS_URL"),
    ],
    ids=["no-database", "sqlite", "no-redis", "empty-redis"],
)
def test_production_refuses_to_start_without_postgresql_and_redis(environment, named):
    result = deploy_check(**environment)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{named} must be set" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
