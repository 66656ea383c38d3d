"""The alerts resource: one setting picks the channel; secrets arrive only through EnvVar."""

import pytest
from dagster import EnvVar, build_resources

from photoatlas.alerts import LogChannel, SmtpChannel, WebhookChannel
from resources.alerts import AlertsResource, alerts_from_env

ALERT_ENV = [
    "PHOTOATLAS_ALERT_CHANNEL", "PHOTOATLAS_UI_URL", "PHOTOATLAS_ALERTS_DIR", "PHOTOATLAS_ALERT_WEBHOOK_URL",
    "PHOTOATLAS_ALERT_WEBHOOK_TOKEN", "PHOTOATLAS_SMTP_HOST", "PHOTOATLAS_SMTP_PORT", "PHOTOATLAS_SMTP_FROM",
    "PHOTOATLAS_SMTP_TO", "PHOTOATLAS_SMTP_STARTTLS", "PHOTOATLAS_SMTP_SSL", "PHOTOATLAS_SMTP_USERNAME",
    "PHOTOATLAS_SMTP_PASSWORD", "PHOTOATLAS_SMTP_CA_FILE",
]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ALERT_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PHOTOATLAS_HOME", str(tmp_path / "home"))
    return monkeypatch


def test_the_default_is_the_local_log_under_the_home_alerts_folder(clean_env, tmp_path):
    alerts = AlertsResource()
    channel = alerts.make_channel()
    assert isinstance(channel, LogChannel)
    assert channel.path == tmp_path / "home" / "alerts" / "alerts.jsonl"
    assert alerts.ui_base_url == "http://127.0.0.1:3000"


def test_production_reads_the_channel_from_env_and_secrets_through_envvar(clean_env):
    clean_env.setenv("PHOTOATLAS_ALERT_CHANNEL", "smtp")
    clean_env.setenv("PHOTOATLAS_UI_URL", "https://dagster.photoatlas.example")
    clean_env.setenv("PHOTOATLAS_SMTP_HOST", "mail.photoatlas.example")
    clean_env.setenv("PHOTOATLAS_SMTP_PORT", "2525")
    clean_env.setenv("PHOTOATLAS_SMTP_FROM", "dagster@photoatlas.example")
    clean_env.setenv("PHOTOATLAS_SMTP_TO", "ops@photoatlas.example, data@photoatlas.example")
    clean_env.setenv("PHOTOATLAS_SMTP_USERNAME", "dagster")
    clean_env.setenv("PHOTOATLAS_SMTP_PASSWORD", "hunter2")

    unresolved = alerts_from_env()
    assert isinstance(unresolved.smtp_password, EnvVar) and unresolved.smtp_password == "PHOTOATLAS_SMTP_PASSWORD"
    assert "hunter2" not in repr(unresolved._convert_to_config_dictionary())  # the UI never shows the secret
    with build_resources({"alerts": unresolved}) as r:
        channel = r.alerts.make_channel()
    assert isinstance(channel, SmtpChannel)
    assert (channel.host, channel.port, channel.starttls) == ("mail.photoatlas.example", 2525, True)
    assert channel.recipients == ["ops@photoatlas.example", "data@photoatlas.example"]
    assert channel._password == "hunter2"


def test_unset_secrets_stay_unset(clean_env):
    clean_env.setenv("PHOTOATLAS_ALERT_CHANNEL", "webhook")
    clean_env.setenv("PHOTOATLAS_ALERT_WEBHOOK_URL", "https://hooks.photoatlas.example/alerts")
    alerts = alerts_from_env()
    assert alerts.webhook_token is None and alerts.smtp_password is None
    channel = alerts.make_channel()
    assert isinstance(channel, WebhookChannel) and channel._token is None


@pytest.mark.parametrize("config, needs", [
    ({"channel": "webhook"}, "webhook_url"),
    ({"channel": "smtp", "smtp_host": "mail"}, "smtp_from"),
    ({"channel": "smtp", "smtp_host": "mail", "smtp_from": "a@b", "smtp_to": " , "}, "smtp_to"),
])
def test_an_incomplete_channel_says_what_it_needs(clean_env, config, needs):
    with pytest.raises(ValueError, match=needs):
        AlertsResource(**config).make_channel()


def test_an_unknown_channel_is_refused(clean_env):
    clean_env.setenv("PHOTOATLAS_ALERT_CHANNEL", "pager")
    with pytest.raises(Exception, match="channel"):
        alerts_from_env()
