"""Webhook delivery against a real HTTP server on loopback, started by the test."""

import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from photoatlas.alerts import ChannelError, Outbox, WebhookChannel, check_failure_alert


class Receiver:
    """An HTTP server answering a script of status codes (the last one repeats); records every request."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/photoatlas"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(request):
    r = Receiver(request.param)
    yield r
    r.close()


def alert():
    return check_failure_alert(
        run_id="run-42", asset="enriched_records", check="quarantine_rate", severity="WARN", partition="2026-06-01-10:00",
        metadata={"quarantined": 9, "records": 12, "rate": 0.75, "max_rate": 0.25, "failing_ids": ["f" * 64]},
        description="a human should look when many photos of an hour are quarantined",
        ui_base_url="http://dagster.internal:3000", occurred_at=1_780_000_000.0,
    )


@pytest.mark.parametrize("receiver", [[503, 503, 200]], indirect=True)
def test_webhook_retries_through_two_503s_and_posts_the_alert_json(receiver, tmp_path):
    box = Outbox(tmp_path)
    box.enqueue([alert()])
    waits = []
    report = box.deliver(WebhookChannel(receiver.url, timeout_s=5, bearer_token="s3cret"), max_attempts=3, backoff_s=0.01, sleep=waits.append)

    assert (report.delivered, report.pending) == (1, 0)
    assert len(receiver.requests) == 3 and waits == [0.01, 0.02]
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert bodies[0] == bodies[2]  # the same alert each time
    body = bodies[-1]
    assert body["asset"] == "enriched_records" and body["partition"] == "2026-06-01-10:00"
    assert body["check"] == "quarantine_rate" and body["severity"] == "WARN" and body["kind"] == "check_failed"
    assert body["details"] == {"quarantined": 9, "records": 12, "rate": 0.75, "max_rate": 0.25, "failing_ids": ["f" * 64]}
    assert body["run_url"] == "http://dagster.internal:3000/runs/run-42"
    assert body["dedupe_key"] == alert().dedupe_key
    headers = receiver.requests[-1]["headers"]
    assert receiver.requests[-1]["path"] == "/hooks/photoatlas"
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["Idempotency-Key"] == hashlib.sha256(alert().dedupe_key.encode()).hexdigest()


@pytest.mark.parametrize("receiver", [[503]], indirect=True)
def test_webhook_down_for_a_tick_keeps_the_alert_for_the_next(receiver, tmp_path):
    box = Outbox(tmp_path)
    box.enqueue([alert()])
    channel = WebhookChannel(receiver.url, timeout_s=5)
    first = box.deliver(channel, max_attempts=2, backoff_s=0, sleep=lambda _: None)
    assert (first.delivered, first.pending) == (0, 1) and "503" in first.last_error
    receiver.statuses = [200]
    assert box.deliver(channel, max_attempts=2, backoff_s=0).delivered == 1
    assert box.deliver(channel).delivered == 0
    assert len(receiver.requests) == 3  # 2 refused tries + 1 delivery, nothing after


@pytest.mark.parametrize("receiver", [[400]], indirect=True)
def test_a_400_is_not_retried(receiver):
    with pytest.raises(ChannelError) as e:
        WebhookChannel(receiver.url, timeout_s=5).send(alert())
    assert not e.value.retryable and "400" in str(e.value)


def test_a_refused_connection_is_retryable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(ChannelError) as e:
        WebhookChannel(f"http://127.0.0.1:{port}/", timeout_s=2).send(alert())
    assert e.value.retryable and "unreachable" in str(e.value)


def test_only_http_urls_are_accepted():
    with pytest.raises(ValueError):
        WebhookChannel("file:///etc/passwd")
