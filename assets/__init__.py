"""The pipeline's software-defined assets, one module per stage."""

import warnings

from dagster import BetaWarning

# The hourly assets take `backfill_policy` (beta in Dagster 1.13) on purpose, so that a backfill
# of a range runs as one run; the warning tells a user of the pipeline nothing they can act on.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy` of function", category=BetaWarning)
