"""Data-quality and run-failure alerts: the alert, its channels, and a durable outbox. No Dagster here."""

from photoatlas.alerts.alert import (
    DEFAULT_UI_BASE_URL,
    Alert,
    check_failure_alert,
    json_safe,
    run_failure_alert,
    run_url,
    subject,
    text,
)
from photoatlas.alerts.channels import Channel, ChannelError, LogChannel, SmtpChannel, WebhookChannel
from photoatlas.alerts.outbox import DeliveryReport, Outbox

__all__ = [
    "DEFAULT_UI_BASE_URL",
    "Alert",
    "Channel",
    "ChannelError",
    "DeliveryReport",
    "LogChannel",
    "Outbox",
    "SmtpChannel",
    "WebhookChannel",
    "check_failure_alert",
    "json_safe",
    "run_failure_alert",
    "run_url",
    "subject",
    "text",
]
