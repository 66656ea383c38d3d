"""Tunable knobs of the enrichment, in one place the UI shows."""

from dagster import ConfigurableResource
from pydantic import Field


class EnrichmentSettings(ConfigurableResource):
    """Palette size and data-quality thresholds."""

    palette_k: int = Field(default=5, ge=1, le=16, description="colours per palette")
    max_quarantine_rate: float = Field(default=0.25, ge=0, le=1, description="WARN above this share of quarantined photos")
