"""Where alerts go: the local alert log (default), a webhook, or e-mail over SMTP — plus the outbox.

Local: ``AlertsResource(alerts_dir=str(home.alerts))`` writes JSON lines to
``$PHOTOATLAS_HOME/alerts/alerts.jsonl``. Production: ``alerts_from_env()`` reads the
``PHOTOATLAS_ALERT_*`` / ``PHOTOATLAS_SMTP_*`` variables; the webhook token and the SMTP
password only ever arrive through ``EnvVar``.
"""

import os
from typing import Literal

from dagster import ConfigurableResource, EnvVar
from pydantic import Field

from photoatlas.alerts import Alert, Channel, DeliveryReport, LogChannel, Outbox, SmtpChannel, WebhookChannel
from photoatlas.alerts.alert import DEFAULT_UI_BASE_URL
from photoatlas.config import Home


class AlertsResource(ConfigurableResource):
    """Turns failures into alerts on one channel, through a durable outbox under the alerts folder."""

    channel: Literal["log", "webhook", "smtp"] = Field(default="log", description="where alerts are delivered")
    ui_base_url: str = Field(default=DEFAULT_UI_BASE_URL, description="the Dagster UI the alerts link to (/runs/<id>)")
    alerts_dir: str | None = Field(default=None, description="outbox and alert log; default $PHOTOATLAS_HOME/alerts")
    webhook_url: str | None = None
    webhook_token: str | None = Field(default=None, description="sent as 'Bearer'; pass EnvVar, never a literal")
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_from: str | None = None
    smtp_to: str | None = Field(default=None, description="comma-separated recipients")
    smtp_starttls: bool = True
    smtp_ssl: bool = Field(default=False, description="implicit TLS (usually port 465) instead of STARTTLS")
    smtp_username: str | None = None
    smtp_password: str | None = Field(default=None, description="pass EnvVar, never a literal")
    smtp_ca_file: str | None = Field(default=None, description="CA bundle for a private mail relay")
    timeout_s: float = Field(default=10.0, gt=0, description="per connection attempt")
    max_attempts: int = Field(default=3, ge=1, description="tries per alert per tick")
    backoff_s: float = Field(default=1.0, ge=0, description="first wait between tries; doubles each time")
    delivery_budget_s: float = Field(default=30.0, gt=0, description="stop starting new deliveries after this; the tick times out at 60 s")

    def directory(self) -> str:
        return self.alerts_dir or str(Home.from_env().alerts)

    def outbox(self) -> Outbox:
        return Outbox(self.directory())

    def make_channel(self) -> Channel:
        if self.channel == "webhook":
            if not self.webhook_url:
                raise ValueError("alerts channel 'webhook' needs webhook_url (PHOTOATLAS_ALERT_WEBHOOK_URL)")
            return WebhookChannel(self.webhook_url, timeout_s=self.timeout_s, bearer_token=self.webhook_token)
        if self.channel == "smtp":
            recipients = [r.strip() for r in (self.smtp_to or "").split(",") if r.strip()]
            if not (self.smtp_host and self.smtp_from and recipients):
                raise ValueError("alerts channel 'smtp' needs smtp_host, smtp_from and smtp_to (PHOTOATLAS_SMTP_*)")
            return SmtpChannel(
                self.smtp_host, self.smtp_port, self.smtp_from, recipients, starttls=self.smtp_starttls, ssl_tls=self.smtp_ssl,
                username=self.smtp_username, password=self.smtp_password, timeout_s=self.timeout_s, ca_file=self.smtp_ca_file,
            )
        return LogChannel(self.directory())

    def send(self, alerts: list[Alert]) -> tuple[int, DeliveryReport]:
        """Write the alerts down, then deliver everything pending (older ones first). Returns (new, report)."""
        outbox = self.outbox()
        new = outbox.enqueue(alerts)
        report = outbox.deliver(self.make_channel(), self.max_attempts, self.backoff_s, self.delivery_budget_s)
        outbox.prune()
        return new, report


def _env_secret(name: str):
    """EnvVar when the variable is set (resolved by Dagster, not shown in the UI); None when it is not."""
    return EnvVar(name) if os.environ.get(name) else None


def alerts_from_env() -> AlertsResource:
    """Production: every setting from the environment; secrets only through EnvVar."""
    env = os.environ.get
    return AlertsResource(
        channel=env("PHOTOATLAS_ALERT_CHANNEL", "log"),
        ui_base_url=env("PHOTOATLAS_UI_URL", DEFAULT_UI_BASE_URL),
        alerts_dir=env("PHOTOATLAS_ALERTS_DIR") or str(Home.from_env().alerts),
        webhook_url=env("PHOTOATLAS_ALERT_WEBHOOK_URL"),
        webhook_token=_env_secret("PHOTOATLAS_ALERT_WEBHOOK_TOKEN"),
        smtp_host=env("PHOTOATLAS_SMTP_HOST"),
        smtp_port=int(env("PHOTOATLAS_SMTP_PORT", "587")),
        smtp_from=env("PHOTOATLAS_SMTP_FROM"),
        smtp_to=env("PHOTOATLAS_SMTP_TO"),
        smtp_starttls=env("PHOTOATLAS_SMTP_STARTTLS", "true").lower() not in ("0", "false", "no"),
        smtp_ssl=env("PHOTOATLAS_SMTP_SSL", "false").lower() in ("1", "true", "yes"),
        smtp_username=env("PHOTOATLAS_SMTP_USERNAME"),
        smtp_password=_env_secret("PHOTOATLAS_SMTP_PASSWORD"),
        smtp_ca_file=env("PHOTOATLAS_SMTP_CA_FILE"),
    )
