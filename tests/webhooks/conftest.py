"""A real webhook receiver on loopback (a thread running ``http.server``) that
checks every message's signature with ``standardwebhooks``, as a receiver
would; and a clock that can be moved forward for the retries."""

from __future__ import annotations

import datetime
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from rcf import webhooks
from rcf.models import WebhookDelivery


class Receiver:
    """Answers each request with the next status of ``script`` (200 once it
    is used up) and keeps what came: headers, body, whether the signature
    verified with ``secret``, and the status it answered."""

    def __init__(self):
        self.script: list[int] = []
        self.delay = 0.0  # seconds before answering (a slow receiver)
        self.secret: str | None = None
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.delay:
                    time.sleep(receiver.delay)
                headers = {key.lower(): value for key, value in self.headers.items()}
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else 200
                    verified, payload = False, None
                    if receiver.secret:
                        try:
                            payload = Webhook(receiver.secret).verify(body, headers)
                            verified = True
                        except WebhookVerificationError:
                            verified = False
                    receiver.requests.append({"headers": headers, "body": body, "verified": verified,
                                              "payload": payload or json.loads(body), "status": status,
                                              "path": self.path})
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"receiver says no")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/rcf"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def accepted(self) -> list[dict]:
        """Messages answered 2xx, first arrival of each webhook-id (what a receiver deduplicating keeps)."""
        seen, kept = set(), []
        for request in self.requests:
            if request["status"] < 300 and request["headers"]["webhook-id"] not in seen:
                seen.add(request["headers"]["webhook-id"])
                kept.append(request)
        return kept


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


class ConnectionCounter:
    """A TCP port that counts the connections made to it and closes them (no TLS, no HTTP)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()


@pytest.fixture
def connection_counter():
    counter = ConnectionCounter()
    counter.thread.start()
    yield counter
    counter.stopped.set()
    counter.thread.join(timeout=2)
    counter.sock.close()


@pytest.fixture
def clock():
    """The real clock, moved forward on demand (``clock.shift(seconds)``, ``clock.move_to(moment)``); it
    keeps ticking, so receivers check the signatures' timestamps against it as against a real one."""
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        yield traveller


def deliver_all(clock, *, limit: int = 200) -> int:
    """Run the delivery function until nothing is left to send, moving the clock to each retry's time.
    Returns the number of runs."""
    runs = 0
    while runs < limit:
        runs += 1
        webhooks.webhooks_deliver_due(time_budget=30)
        waiting = WebhookDelivery.objects.filter(status__in=["pending", "failed"], endpoint__is_active=True)
        # Each endpoint's oldest waiting delivery holds the rest back: the next thing to happen is the
        # earliest of their retry times.
        heads = [waiting.filter(endpoint_id=endpoint_id).order_by("id").first()
                 for endpoint_id in set(waiting.values_list("endpoint_id", flat=True))]
        if not heads:
            return runs
        due = min(head.next_attempt_at for head in heads)
        if due > timezone.now():
            clock.move_to(due + datetime.timedelta(seconds=1))
    raise AssertionError("deliveries never settled")


@pytest.fixture
def endpoint_for(db):
    """An endpoint for ``receiver`` subscribed to ``events`` (default: all), its secret given to the receiver."""

    def make(receiver, events=None, **extra):
        endpoint, secret = webhooks.webhook_endpoint_create(url=receiver.url, events=list(events or webhooks.EVENTS),
                                                            **extra)
        receiver.secret = secret
        return endpoint

    return make
