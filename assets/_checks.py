"""Turn the core's quality outcomes into Dagster check specs and results."""

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MetadataValue

from photoatlas.quality import Outcome


def specs(asset: str, checks: dict[str, tuple[str, bool]]) -> list[AssetCheckSpec]:
    """``checks``: name -> (description, blocking). Blocking checks stop bad data spreading.

    The specs are not partitioned: a backfilled range runs as one run (single-run policy), and
    dagster 1.13 records a partitioned check of such a run against no hour, leaving every hour
    "skipped" in the UI. Each result's metadata names the partitions it covered and the failing ones.
    """
    return [AssetCheckSpec(name, asset=asset, description=desc, blocking=blocking) for name, (desc, blocking) in checks.items()]


def results(outcomes: list[Outcome], checks: dict[str, tuple[str, bool]]) -> list[AssetCheckResult]:
    out = []
    for o in outcomes:
        _, blocking = checks[o.name]
        metadata = {k: (MetadataValue.json(v) if isinstance(v, (list, dict)) else v) for k, v in o.metadata.items()}
        metadata["protects"] = o.description
        out.append(
            AssetCheckResult(
                check_name=o.name,
                passed=o.passed,
                severity=AssetCheckSeverity.ERROR if blocking else AssetCheckSeverity.WARN,
                metadata=metadata,
            )
        )
    return out
