"""The production deployment: only a TLS-terminating proxy is published, and
the application believes X-Forwarded-Proto only when told a proxy sets it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

# Runs in a fresh interpreter so that settings are read with DJANGO_ENV=production.
PRODUCTION_PROBE = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client(HTTP_HOST="rcf.example.org")
spoofed = client.get("/projects/", HTTP_X_FORWARDED_PROTO="https")
language = client.post("/i18n/setlang/", {"language": "ko", "next": "/"}, secure=True,
                       HTTP_X_FORWARDED_PROTO="https")
cookie = language.cookies.get("django_language")
print(json.dumps({
    "spoofed_status": spoofed.status_code,
    "spoofed_location": spoofed.get("Location", ""),
    "language_cookie_secure": bool(cookie and cookie["secure"]),
    "language_cookie_httponly": bool(cookie and cookie["httponly"]),
}))
"""


def _production(**extra_env):
    env = {
        **{key: value for key, value in os.environ.items() if key != "TRUST_X_FORWARDED_PROTO"},
        "DJANGO_SETTINGS_MODULE": "rcf.settings",
        "DJANGO_ENV": "production",
        "SECRET_KEY": "test-only-" + "x" * 50,
        "ALLOWED_HOSTS": "rcf.example.org",
        # Reading settings must not need a reachable database or broker.
        "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:////tmp/rcf-deploy-probe.sqlite3"),
        **extra_env,
    }
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_client_cannot_claim_https_with_a_header_by_default():
    """gunicorn reached directly: X-Forwarded-Proto from the client is not
    believed, so the request is redirected to HTTPS like any plain request."""
    probe = _production()
    assert probe["spoofed_status"] == 301
    assert probe["spoofed_location"].startswith("https://rcf.example.org/projects/")


def test_behind_the_proxy_the_header_is_believed_when_configured():
    probe = _production(TRUST_X_FORWARDED_PROTO="true")
    # Treated as HTTPS: no redirect to https, the login page instead.
    assert probe["spoofed_status"] == 302
    assert "/accounts/login/" in probe["spoofed_location"]


def test_language_cookie_is_secure_and_http_only_in_production():
    probe = _production(TRUST_X_FORWARDED_PROTO="true")
    assert probe["language_cookie_secure"] is True
    assert probe["language_cookie_httponly"] is True


def test_only_the_tls_proxy_publishes_ports():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy:")
    assert "healthcheck" in proxy
    assert {"80:80", "443:443"} <= set(proxy["ports"])
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile
    mounted = [volume.split(":")[0] for volume in proxy["volumes"]]
    assert "./deploy/Caddyfile" in mounted
    # The application trusts the header only because the proxy stands in front.
    environment = compose["x-app"]["environment"]
    assert environment["TRUST_X_FORWARDED_PROTO"] == "true"
    assert "8000" in [str(port) for port in services["web"].get("expose", [])]
