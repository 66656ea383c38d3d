"""E-mail delivery against a real SMTP server (aiosmtpd) on loopback, started by the test."""

import datetime
import ipaddress
import socket
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd import controller as aiosmtpd_controller  # the [test] extra; a missing server must fail, not skip
from aiosmtpd.smtp import AuthResult

from photoatlas.alerts import ChannelError, Outbox, SmtpChannel, check_failure_alert, run_failure_alert

USER, PASSWORD = "alerts@photoatlas.test", "correct horse"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({
            "from": envelope.mail_from, "to": list(envelope.rcpt_tos),
            "message": message_from_bytes(envelope.original_content, policy=default_policy),
            "tls": session.ssl is not None, "login": session.auth_data,
        })
        return "250 OK"


def self_signed(tmp_path):
    """A certificate for 127.0.0.1, so the client verifies it like a real relay's (via ca_file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "relay.crt", tmp_path / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


@pytest.fixture
def plain_relay():
    box = Mailbox()
    controller = aiosmtpd_controller.Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, box
    controller.stop()


@pytest.fixture
def tls_relay(tmp_path):
    import ssl

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox()
    controller = aiosmtpd_controller.Controller(
        box, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True,
        authenticator=authenticate, auth_required=True,
    )
    controller.start()
    yield controller, box, cert
    controller.stop()


def alert():
    return check_failure_alert(
        run_id="run-7", asset="enriched_records", check="one_record_per_manifest_row", severity="ERROR",
        partition="2026-06-01-10:00", metadata={"manifest_rows": 12, "records": 11, "missing_ids": ["e" * 64]},
        ui_base_url="http://dagster.internal:3000", occurred_at=1_780_000_000.0,
    )


def test_plain_smtp_delivers_subject_body_and_recipients(plain_relay, tmp_path):
    controller, box = plain_relay
    channel = SmtpChannel("127.0.0.1", controller.port, "dagster@photoatlas.test", ["ops@photoatlas.test", "data@photoatlas.test"],
                          starttls=False, timeout_s=5)
    outbox = Outbox(tmp_path)
    outbox.enqueue([alert()])
    assert outbox.deliver(channel).delivered == 1
    assert outbox.deliver(channel).delivered == 0

    assert len(box.messages) == 1
    got = box.messages[0]
    assert got["from"] == "dagster@photoatlas.test"
    assert got["to"] == ["ops@photoatlas.test", "data@photoatlas.test"]
    msg = got["message"]
    assert msg["Subject"] == "[PhotoAtlas ERROR] check one_record_per_manifest_row failed on enriched_records [2026-06-01-10:00]"
    assert msg["X-PhotoAtlas-Severity"] == "ERROR" and msg["Message-ID"].endswith("@photoatlas.alerts>")
    body = msg.get_content()
    for needle in ("manifest_rows: 12", "records: 11", "e" * 64, "open the run: http://dagster.internal:3000/runs/run-7"):
        assert needle in body, needle


def test_starttls_and_login_with_credentials(tls_relay):
    controller, box, cert = tls_relay
    channel = SmtpChannel("127.0.0.1", controller.port, "dagster@photoatlas.test", ["ops@photoatlas.test"],
                          starttls=True, username=USER, password=PASSWORD, ca_file=cert, timeout_s=5)
    failed_run = run_failure_alert(run_id="run-9", job="ingest_job", ui_base_url="http://x", message="boom",
                                   failed_steps={"enriched_records": "ValueError: kaput"})
    channel.send(failed_run)
    assert len(box.messages) == 1
    assert box.messages[0]["tls"] and box.messages[0]["login"] == USER.encode()
    assert box.messages[0]["message"]["Subject"] == "[PhotoAtlas ERROR] run of ingest_job failed"
    assert "ValueError: kaput" in box.messages[0]["message"].get_content()


def test_a_wrong_password_is_a_permanent_failure(tls_relay):
    controller, box, cert = tls_relay
    channel = SmtpChannel("127.0.0.1", controller.port, "d@p.test", ["o@p.test"], username=USER, password="wrong",
                          ca_file=cert, timeout_s=5)
    with pytest.raises(ChannelError) as e:
        channel.send(alert())
    assert not e.value.retryable and "535" in str(e.value)
    assert box.messages == []


def test_an_untrusted_certificate_is_refused_before_credentials_are_sent(tls_relay):
    controller, box, _ = tls_relay
    channel = SmtpChannel("127.0.0.1", controller.port, "d@p.test", ["o@p.test"], username=USER, password=PASSWORD, timeout_s=5)
    with pytest.raises(ChannelError):
        channel.send(alert())
    assert box.messages == []


def test_a_relay_that_is_down_is_retryable():
    channel = SmtpChannel("127.0.0.1", free_port(), "d@p.test", ["o@p.test"], starttls=False, timeout_s=2)
    with pytest.raises(ChannelError) as e:
        channel.send(alert())
    assert e.value.retryable


def test_credentials_never_travel_in_clear():
    with pytest.raises(ValueError):
        SmtpChannel("mail", 25, "d@p.test", ["o@p.test"], starttls=False, username=USER, password=PASSWORD)
    with pytest.raises(ValueError):
        SmtpChannel("mail", 587, "d@p.test", [], starttls=True)
