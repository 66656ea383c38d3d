"""One alert: what failed, where, how bad, and a link to the run — plus its three renderings.

An ``Alert`` is built from plain values (the sensors pull them out of Dagster's events), so
formatting and deduplication are testable without Dagster. ``dedupe_key`` names one failure:
the same run, asset, partition and check always give the same key, whoever builds it.
"""

import json
import math
import time
from dataclasses import asdict, dataclass, field

DEFAULT_UI_BASE_URL = "http://127.0.0.1:3000"
MAX_LIST_ITEMS_IN_TEXT = 20  # failing ids beyond this are summarised as "… and N more" in e-mail text
MAX_VALUE_CHARS_IN_TEXT = 2000  # room for 20 sha256 photo ids
SEVERITIES = ("ERROR", "WARN")
KINDS = ("check_failed", "run_failed")


@dataclass(frozen=True)
class Alert:
    kind: str  # "check_failed" | "run_failed"
    severity: str  # "ERROR" | "WARN"
    run_id: str
    summary: str  # one line: what failed
    run_url: str
    asset: str | None = None  # asset key path joined with "/"
    partition: str | None = None
    check: str | None = None
    job: str | None = None
    description: str | None = None  # what the check protects, or the run's failure message
    details: dict = field(default_factory=dict)  # the check's metadata: counts, failing ids, thresholds
    occurred_at: float = 0.0  # unix seconds of the Dagster event

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"alert kind must be one of {KINDS}, not {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"alert severity must be one of {SEVERITIES}, not {self.severity!r}")

    @property
    def dedupe_key(self) -> str:
        """Run id + asset + partition + check: one key per failure, however often it is seen."""
        return json.dumps([self.kind, self.run_id, self.asset, self.partition, self.check])

    def to_json(self) -> dict:
        return {**asdict(self), "dedupe_key": self.dedupe_key, "source": "photoatlas"}

    @classmethod
    def from_json(cls, data: dict) -> "Alert":
        return cls(**{k: v for k, v in data.items() if k not in ("dedupe_key", "source")})


def run_url(ui_base_url: str, run_id: str) -> str:
    return f"{(ui_base_url or DEFAULT_UI_BASE_URL).rstrip('/')}/runs/{run_id}"


def json_safe(value):
    """Metadata as JSON: numbers, strings, lists and dicts pass; NaN/inf and anything else become text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    return str(value)


def check_failure_alert(
    *, run_id: str, asset: str, check: str, severity: str, ui_base_url: str, partition: str | None = None,
    job: str | None = None, description: str | None = None, metadata: dict | None = None, occurred_at: float | None = None,
) -> Alert:
    where = f"{asset} [{partition}]" if partition else asset
    return Alert(
        kind="check_failed", severity=severity, run_id=run_id, asset=asset, partition=partition, check=check, job=job,
        summary=f"check {check} failed on {where}", description=description, details=json_safe(metadata or {}),
        run_url=run_url(ui_base_url, run_id), occurred_at=occurred_at if occurred_at is not None else time.time(),
    )


def run_failure_alert(
    *, run_id: str, job: str, ui_base_url: str, message: str, partition: str | None = None,
    failed_steps: dict[str, str] | None = None, tags: dict | None = None, occurred_at: float | None = None,
) -> Alert:
    """``failed_steps``: step key -> its error, as a person should read it."""
    where = f" [{partition}]" if partition else ""
    details = {"failed_steps": dict(failed_steps or {})}
    if tags:
        details["tags"] = dict(tags)
    return Alert(
        kind="run_failed", severity="ERROR", run_id=run_id, job=job, partition=partition,
        summary=f"run of {job}{where} failed", description=message, details=json_safe(details),
        run_url=run_url(ui_base_url, run_id), occurred_at=occurred_at if occurred_at is not None else time.time(),
    )


def subject(alert: Alert) -> str:
    return f"[PhotoAtlas {alert.severity}] {alert.summary}"


def _short(value) -> str:
    if isinstance(value, list) and len(value) > MAX_LIST_ITEMS_IN_TEXT:
        value = value[:MAX_LIST_ITEMS_IN_TEXT] + [f"… and {len(value) - MAX_LIST_ITEMS_IN_TEXT} more"]
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= MAX_VALUE_CHARS_IN_TEXT else text[: MAX_VALUE_CHARS_IN_TEXT - 1] + "…"


def text(alert: Alert) -> str:
    """The plain-text body: what failed, where, the check's metadata, and the run link."""
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(alert.occurred_at))
    lines = [subject(alert), ""]
    for label, value in (
        ("severity", alert.severity), ("asset", alert.asset), ("partition", alert.partition),
        ("check", alert.check), ("job", alert.job), ("run", alert.run_id), ("when", when),
    ):
        if value:
            lines.append(f"{label:<10} {value}")
    if alert.description:
        lines += ["", alert.description.rstrip()]
    if alert.details:
        lines += ["", "what failed:"]
        lines += [f"  {k}: {_short(v)}" for k, v in sorted(alert.details.items())]
    lines += ["", f"open the run: {alert.run_url}", "", f"alert key: {alert.dedupe_key}"]
    return "\n".join(lines) + "\n"
