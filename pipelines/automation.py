"""Declarative automation: a new (or late) hour flows through every downstream stage by itself."""

from dagster import AssetSelection, AutomationCondition, AutomationConditionSensorDefinition, DefaultSensorStatus

# eager() only looks at the latest time window; photos for an older hour (a late inbox drop,
# a backfilled source) must flow too, so that restriction is removed. Partitions whose
# upstream hour is missing stay blocked (~any_deps_missing), so enabling this never floods.
every_hour_eagerly = AutomationCondition.eager().without(AutomationCondition.in_latest_time_window())

automation_sensor = AutomationConditionSensorDefinition(
    "photoatlas_automation",
    target=AssetSelection.all(),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Materialises downstream stages when their upstream hour changes (any hour, not only the latest).",
)
