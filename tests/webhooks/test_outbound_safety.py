"""Outbound safety (SSRF): in production a webhook URL must be https and its
host must resolve to public addresses only, unless RCF_WEBHOOK_ALLOW_PRIVATE
names it; checked when the endpoint is saved and again before every attempt
(the name may resolve elsewhere by then)."""

import pytest
from django.core.exceptions import ValidationError

from rcf import webhooks
from rcf.models import WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _production(settings):
    settings.RCF_WEBHOOK_REQUIRE_PUBLIC = True
    settings.RCF_WEBHOOK_ALLOW_PRIVATE = []


def problems(url):
    return " ".join(webhooks.webhook_url_problems(url))


@pytest.mark.parametrize(("url", "expected"), [
    ("http://hooks.example.org/rcf", "https"),
    ("https://127.0.0.1/rcf", "127.0.0.1, a loopback address"),
    ("https://localhost:8443/rcf", "a loopback address"),
    ("https://[::1]/rcf", "::1, a loopback address"),
    ("https://10.20.30.40/rcf", "10.20.30.40, a private address"),
    ("https://192.168.1.10/rcf", "a private address"),
    ("https://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
    ("https://0.0.0.0/rcf", "0.0.0.0, an unspecified address"),
    ("https://[::ffff:127.0.0.1]/rcf", "loopback"),
    ("https://224.0.0.1/rcf", "multicast"),
    ("https://100.64.0.1/rcf", "100.64.0.1, "),
    ("https://no-such-host.invalid/rcf", "does not resolve"),
    ("ftp://hooks.example.org/rcf", "http:// or https://"),
    # 6to4 addresses carry an IPv4 address that relays route to.
    ("https://[2002:7f00:1::]/rcf", "a loopback address"),
    ("https://[2002:a14:1e28::1]/rcf", "a private address"),
    ("https://[2002:a9fe:a9fe::]/rcf", "a link-local address"),
    ("https://hooks:s3cret@93.184.216.34/rcf", "user name and password"),
    ("https://93.184.216.34:0/rcf", "port is not a number from 1 to 65535"),
])
def test_unsafe_urls_are_refused_naming_why(url, expected):
    assert expected in problems(url)
    with pytest.raises(ValidationError) as refused:
        webhooks.webhook_endpoint_create(url=url, events=["project.created"])
    assert expected in " ".join(refused.value.message_dict["url"])


def test_a_public_https_url_is_accepted():
    assert problems("https://93.184.216.34/rcf") == ""


def test_a_listed_host_or_network_is_allowed(settings):
    settings.RCF_WEBHOOK_ALLOW_PRIVATE = ["localhost", "10.20.0.0/16"]
    assert problems("https://localhost:8443/rcf") == ""
    assert problems("https://10.20.30.40/rcf") == ""
    assert "private" in problems("https://10.21.0.1/rcf")  # outside the listed network
    assert "https" in problems("http://localhost:8443/rcf")  # listing a host does not allow plain http


def test_outside_production_a_local_http_receiver_is_fine(settings):
    settings.RCF_WEBHOOK_REQUIRE_PUBLIC = False
    assert problems("http://127.0.0.1:9000/rcf") == ""


def test_the_address_is_checked_again_before_every_attempt(settings, connection_counter, make_project):
    url = f"https://localhost:{connection_counter.port}/rcf"
    settings.RCF_WEBHOOK_ALLOW_PRIVATE = ["localhost"]
    webhooks.webhook_endpoint_create(url=url, events=["project.created"])
    settings.RCF_WEBHOOK_ALLOW_PRIVATE = []  # the host now resolves where it may not go
    make_project()
    webhooks.webhooks_deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.response_code is None
    assert "a loopback address" in delivery.last_error
    assert connection_counter.connections == 0  # refused before connecting

    settings.RCF_WEBHOOK_ALLOW_PRIVATE = ["127.0.0.0/8", "::1"]
    webhooks.webhook_redeliver(delivery=delivery)
    webhooks.webhooks_deliver_due()
    assert connection_counter.connections == 1  # allowed: it connected (the port speaks no TLS, so it failed)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "loopback" not in delivery.last_error


def test_an_existing_http_endpoint_is_not_called_once_https_is_required(settings, receiver, make_project):
    settings.RCF_WEBHOOK_REQUIRE_PUBLIC = False
    webhooks.webhook_endpoint_create(url=receiver.url, events=["project.created"])
    settings.RCF_WEBHOOK_REQUIRE_PUBLIC = True
    make_project()
    webhooks.webhooks_deliver_due()
    assert receiver.requests == []
    assert "https" in WebhookDelivery.objects.get().last_error
