"""Moved to reporting.selectors.dashboard_cohorts. Kept, as a package so that git still sees
the old module as renamed, for certification/dashboard_tables.py (owned by the table-component
work) until it imports from the new place; then delete this package."""

from reporting.selectors.dashboard_cohorts import CohortRisk

__all__ = ["CohortRisk"]
