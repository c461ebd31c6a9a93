"""Moved to reporting.selectors.dashboard. Kept, as a package so that git still sees the old
module as renamed, for certification/dashboard_tables.py (owned by the table-component work)
until it imports from the new place; then delete this package."""

from reporting.selectors.dashboard import NOWHERE, TargetProgress

__all__ = ["NOWHERE", "TargetProgress"]
