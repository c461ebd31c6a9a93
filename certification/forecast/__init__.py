"""Moved to reporting.forecast. Kept, as a package so that git still sees the old module as
renamed, for certification/dashboard_tables.py (owned by the table-component work) until it
imports from the new place; then delete this package."""

from reporting.forecast import STAGE_LABELS, STAGES, VERDICT_LABELS

__all__ = ["STAGE_LABELS", "STAGES", "VERDICT_LABELS"]
