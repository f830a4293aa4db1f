"""Production settings: the secret key, DEBUG's default, check --deploy, CSP, login lockout, passwords, Flower."""
from __future__ import annotations

import os
import re
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.urls import reverse

from recsite.security import DEV_KEY, secret_key
from tests.factories import PASSWORD, make_user

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "dashboard" / "templates"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # as a deployment would run it: none of the suite's own settings (the browser tests allow async-unsafe code)
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "HTTPS", "SECRET_KEY", "ALLOWED_HOSTS",
                                                               "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_weak_or_default_keys_refuse_to_start_in_production(tmp_path):
    for weak in (DEV_KEY, "django-insecure-" + "x" * 60, "short", "a" * 60):
        with pytest.raises(ImproperlyConfigured, match="too weak"):
            secret_key(weak, debug=False, https=False, var_dir=tmp_path)
    with pytest.raises(ImproperlyConfigured, match="must be set when HTTPS=true"):
        secret_key("", debug=False, https=True, var_dir=tmp_path)
    strong = secrets.token_urlsafe(50)
    assert secret_key(strong, debug=False, https=True, var_dir=tmp_path) == strong
    generated = secret_key("", debug=False, https=False, var_dir=tmp_path)  # a local install without a key
    assert len(generated) >= 50 and secret_key("", debug=False, https=False, var_dir=tmp_path) == generated
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_check_deploy_passes_and_https_turns_on_cookies_hsts_redirect_and_the_proxy_header(tmp_path):
    """DEBUG is left unset: it defaults to off, and ``check --deploy`` finds nothing to warn about."""
    code = ("from django.core.management import call_command; call_command('check', '--deploy'); "
            "from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, s.SECURE_PROXY_SSL_HEADER)")
    done = manage("shell", "-c", code, HTTPS="true", SECRET_KEY=secrets.token_urlsafe(50),
                  ALLOWED_HOSTS="shop.example", VAR_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False True True True True ('HTTP_X_FORWARDED_PROTO', 'https')"


def test_templates_hold_no_inline_script_or_handler():
    """The Content-Security-Policy allows scripts from this site only: every page passes it."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for m in re.finditer(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", text):
            offenders.append(f"{path.relative_to(ROOT)}: {m.group(0)}")
        for m in re.finditer(r"\son[a-z]+=\"", text):
            offenders.append(f"{path.relative_to(ROOT)}: inline handler {m.group(0).strip()}")
        offenders += [f"{path.relative_to(ROOT)}: javascript: URL" for _ in re.finditer("javascript:", text)]
    assert offenders == []


def test_every_page_sends_the_content_security_policy(client, catalog, admin_user):
    client.force_login(admin_user)
    policy = client.get(reverse("dashboard:catalog_overview", kwargs={"catalog": catalog.slug}))[
        "Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "Content-Security-Policy" in client.get("/api/v1/docs/")


def test_logins_lock_out_after_repeated_wrong_passwords(client, db):
    make_user("mia", "merchandiser")
    for _ in range(4):
        assert client.post(reverse("login"), {"username": "mia", "password": "wrong"}).status_code == 200
    assert client.post(reverse("login"), {"username": "mia", "password": "wrong"}).status_code == 429  # the 5th
    locked = client.post(reverse("login"), {"username": "mia", "password": PASSWORD})
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_good_password_after_fewer_failures_still_logs_in(client, db):
    make_user("mia", "merchandiser")
    for _ in range(3):
        client.post(reverse("login"), {"username": "mia", "password": "wrong"})
    assert client.post(reverse("login"), {"username": "mia", "password": PASSWORD}).status_code == 302


def test_the_full_password_validators_refuse_weak_passwords(db):
    mia = make_user("mia", None)
    for weak in ("mia12345", "12345678901", "password123"):
        with pytest.raises(ValidationError):
            validate_password(weak, user=mia)
    validate_password(PASSWORD, user=mia)


def test_flower_needs_a_password_and_listens_on_loopback_only():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    flower = compose["services"]["flower"]
    assert "FLOWER_BASIC_AUTH" in flower["environment"] and ":?" in flower["environment"]["FLOWER_BASIC_AUTH"]
    assert all(str(p).startswith("127.0.0.1:") for p in flower["ports"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "DEBUG=false" in dockerfile and "HTTPS=true" in dockerfile
