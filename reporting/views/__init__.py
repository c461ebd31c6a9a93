"""The dashboard, the tables and lists behind its figures, and the targets pages: one module
per page family; who may use each view is stated by its mixin (reporting.views.base)."""
