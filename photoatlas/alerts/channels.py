"""Where an alert goes: a webhook (JSON POST), e-mail over SMTP, or a local JSON-lines log.

Every channel has ``send(alert)``: it returns when the alert is accepted and raises
``ChannelError`` otherwise. ``retryable`` tells the outbox whether trying again can help
(a 503 or a refused connection can; a 400 or an unknown recipient cannot). Retries and
backoff live in the outbox, not here, so every channel gets them the same way.
"""

import hashlib
import json
import os
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol

from photoatlas.alerts.alert import Alert, subject, text

RETRYABLE_HTTP_STATUSES = {408, 425, 429}  # plus every 5xx
LOG_FILE_NAME = "alerts.jsonl"


class ChannelError(Exception):
    def __init__(self, message: str, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class Channel(Protocol):
    name: str

    def send(self, alert: Alert) -> None: ...


class LogChannel:
    """Appends one JSON line per alert to ``<dir>/alerts.jsonl``: the local default."""

    name = "log"

    def __init__(self, directory: str | os.PathLike):
        self.path = Path(directory) / LOG_FILE_NAME

    def send(self, alert: Alert) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(alert.to_json(), ensure_ascii=False, sort_keys=True) + "\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise ChannelError(f"cannot append to {self.path}: {e}") from e

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]


class WebhookChannel:
    """POSTs the alert's JSON to a URL. The ``Idempotency-Key`` header lets a receiver drop a re-send."""

    name = "webhook"

    def __init__(self, url: str, timeout_s: float = 10.0, bearer_token: str | None = None):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook URL must be http(s)://, not {url!r}")
        self.url = url
        self.timeout_s = timeout_s
        self._token = bearer_token

    def send(self, alert: Alert) -> None:
        body = json.dumps(alert.to_json(), ensure_ascii=False, sort_keys=True).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "photoatlas-alerts",
            "Idempotency-Key": hashlib.sha256(alert.dedupe_key.encode()).hexdigest(),
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as e:
            retryable = e.code >= 500 or e.code in RETRYABLE_HTTP_STATUSES
            raise ChannelError(f"webhook answered HTTP {e.code} {e.reason}", retryable=retryable) from e
        except (urllib.error.URLError, OSError) as e:  # refused, unreachable, timed out
            raise ChannelError(f"webhook unreachable: {getattr(e, 'reason', e)}") from e


class SmtpChannel:
    """Sends a plain-text e-mail. STARTTLS (or implicit TLS) and login when configured; no defaults for secrets."""

    name = "smtp"

    def __init__(
        self, host: str, port: int, sender: str, recipients: list[str], *, starttls: bool = True, ssl_tls: bool = False,
        username: str | None = None, password: str | None = None, timeout_s: float = 10.0, ca_file: str | None = None,
    ):
        if not host or not sender or not recipients:
            raise ValueError("SMTP needs a host, a sender and at least one recipient")
        if username and not password:
            raise ValueError("SMTP username given without a password")
        if username and not (starttls or ssl_tls):
            raise ValueError("refusing to send SMTP credentials without STARTTLS or TLS")
        self.host, self.port, self.sender, self.recipients = host, port, sender, list(recipients)
        self.starttls, self.ssl_tls, self.timeout_s, self.ca_file = starttls, ssl_tls, timeout_s, ca_file
        self._username, self._password = username, password

    def message(self, alert: Alert) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = subject(alert)
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Date"] = formatdate(alert.occurred_at or None, usegmt=True)
        # The same failure always gets the same Message-ID, so a mail system can drop a re-send.
        msg["Message-ID"] = f"<{hashlib.sha256(alert.dedupe_key.encode()).hexdigest()}@photoatlas.alerts>"
        msg["X-PhotoAtlas-Severity"] = alert.severity
        msg.set_content(text(alert))
        return msg

    def send(self, alert: Alert) -> None:
        context = ssl.create_default_context(cafile=self.ca_file)
        try:
            if self.ssl_tls:
                client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            with client:
                client.ehlo()
                if self.starttls and not self.ssl_tls:
                    client.starttls(context=context)
                    client.ehlo()
                if self._username:
                    client.login(self._username, self._password)
                # A dict of refused recipients when some (not all) were refused: the alert reached
                # someone, and a re-send would double it for them, so it counts as delivered.
                client.send_message(self.message(alert))
        except smtplib.SMTPResponseException as e:  # 4xx: try later; 5xx: it will not get better
            raise ChannelError(f"SMTP server answered {e.smtp_code} {e.smtp_error!r}", retryable=e.smtp_code < 500) from e
        except smtplib.SMTPRecipientsRefused as e:
            raise ChannelError(f"SMTP server refused every recipient: {e.recipients}", retryable=False) from e
        except (smtplib.SMTPException, OSError) as e:  # connection refused/lost, TLS failure, timeout
            raise ChannelError(f"SMTP server {self.host}:{self.port} unreachable: {e}") from e
