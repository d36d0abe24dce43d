"""Production settings (DJANGO_ENV=production): `check --deploy` is clean, the headers and cookies are
strict, and insecure configurations refuse to start. Each runs in a subprocess with its own
environment; development and test settings stay as they were (plain http, plain cookie names)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k7#Qw9!zR2$vL5^mN8&pT3*xB6(cF1)hJ4-dG0_sY7+eU2=aZ5~oI9"  # 54 characters, no "dev-only"


def production_env(tmp_path, **overrides) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CONNECTOR_", "SESSION_COOKIE"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=GOOD_KEY,
        DJANGO_ALLOWED_HOSTS="court.example",
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
from django.urls import reverse
response = Client().get(reverse("login"), secure=True, HTTP_HOST="court.example")
plain = Client().get(reverse("login"), HTTP_HOST="court.example")
print(json.dumps({
    "status": response.status_code,
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""),
    "headers": dict(response.headers),
    "cookies": {name: dict(morsel) for name, morsel in response.cookies.items()},
    "settings": {name: getattr(settings, name, None) for name in [
        "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_NAME",
        "CSRF_COOKIE_NAME", "SESSION_COOKIE_PATH", "CSRF_COOKIE_PATH", "SESSION_COOKIE_DOMAIN",
        "CSRF_COOKIE_DOMAIN", "SECURE_PROXY_SSL_HEADER", "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF",
        "SECURE_REFERRER_POLICY", "CONNECTOR_ALLOWED_HOSTS"]},
}))
"""


def probe(tmp_path, **overrides) -> dict:
    result = run([sys.executable, "-c", PROBE], production_env(tmp_path, **overrides))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_passes_with_production_settings(tmp_path):
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def production_probe(tmp_path_factory) -> dict:
    """One probe of the production settings for the two tests that read the same answer."""
    return probe(tmp_path_factory.mktemp("production"))


def test_production_settings_are_strict(production_probe):
    found = production_probe
    s = found["settings"]
    assert s["DEBUG"] is False
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] == 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and s["SECURE_HSTS_PRELOAD"] is True
    assert s["SESSION_COOKIE_SECURE"] is True and s["CSRF_COOKIE_SECURE"] is True
    assert s["SESSION_COOKIE_NAME"] == "__Host-sessionid" and s["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    assert s["SESSION_COOKIE_PATH"] == "/" and s["CSRF_COOKIE_PATH"] == "/"
    assert s["SESSION_COOKIE_DOMAIN"] is None and s["CSRF_COOKIE_DOMAIN"] is None
    assert s["SECURE_PROXY_SSL_HEADER"] is None  # only behind a proxy that says so
    assert s["X_FRAME_OPTIONS"] == "DENY" and s["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert s["SECURE_REFERRER_POLICY"] == "same-origin"
    assert s["CONNECTOR_ALLOWED_HOSTS"] == []


def test_production_responses_carry_the_security_headers(production_probe):
    found = production_probe
    assert found["plain_status"] == 301 and found["plain_location"].startswith("https://court.example/")
    assert found["status"] == 200
    headers = {k.lower(): v for k, v in found["headers"].items()}
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    csp = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";") if part.strip())
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["img-src"] == "'self' data:"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert "unsafe-eval" not in headers["content-security-policy"]
    csrf = found["cookies"]["__Host-csrftoken"]
    assert csrf["secure"] is True and csrf["path"] == "/" and not csrf["domain"]


def test_proxy_ssl_header_only_when_asked(tmp_path):
    found = probe(tmp_path, DJANGO_BEHIND_TLS_PROXY="true")
    assert found["settings"]["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG must be off"),
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_SECRET_KEY": "dev-only-insecure-key-change-me-in-production-0123456789"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "x" * 10 + "Yz!9" * 9}, "at least 50 characters"),
        ({"DJANGO_ALLOWED_HOSTS": None}, "DJANGO_ALLOWED_HOSTS must be set"),
        ({"DJANGO_ALLOWED_HOSTS": " , "}, "DJANGO_ALLOWED_HOSTS must be set"),
        ({"DJANGO_ENV": "prod"}, "DJANGO_ENV must be"),
    ],
    ids=["debug", "no-key", "dev-key", "short-key", "no-hosts", "blank-hosts", "unknown-env"],
)
def test_production_refuses_to_start_when_insecure(tmp_path, overrides, message):
    result = run([sys.executable, "-c", "import django; django.setup()"], production_env(tmp_path, **overrides))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr


def test_development_and_tests_are_unchanged():
    assert settings.DJANGO_ENV == "development" and not settings.PRODUCTION
    assert not getattr(settings, "SECURE_SSL_REDIRECT", False)
    assert settings.SECURE_HSTS_SECONDS == 0
    assert settings.SESSION_COOKIE_NAME == "sessionid" and settings.CSRF_COOKIE_NAME == "csrftoken"
    assert settings.SESSION_COOKIE_SECURE is False
    assert "csp.middleware.CSPMiddleware" not in settings.MIDDLEWARE
    assert settings.CONNECTOR_ALLOWED_HOSTS == ["127.0.0.1", "localhost"]


def test_templates_have_no_inline_scripts_or_event_handlers():
    """The CSP allows only our own script files: no inline <script> bodies, on*= handlers,
    javascript: URLs or htmx hx-on attributes (which htmx runs with eval)."""
    import re

    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handler = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I)
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (inline_script, handler, re.compile(r"javascript:", re.I), re.compile(r"\bhx-on", re.I)):
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert offenders == []
