"""Migrations run while the old code still serves (docs/decisions/0027-online-migrations.md).

Each operation of our apps' migrations is read (no database needed): on a table that exists
already, nothing may take a long lock (a plain CREATE INDEX, a constraint validated at once,
a column made NOT NULL or changed in type) or take away what the old code reads (a column or
table removed or renamed). Those are done in steps instead, as the decision says. Migrations
applied before the rule are listed with what made them acceptable then; a new migration that
breaks the rule fails here with the step to take instead.
"""

import pytest
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from config.migration_operations import AddIndexOnline

OUR_APPS = {"members", "training", "certification", "reporting", "audit", "api", "imports", "webhooks"}

# What a field may change without any SQL (Django's AlterField emits none for these).
NO_SQL_FIELD_ATTRIBUTES = {
    "choices",
    "help_text",
    "verbose_name",
    "validators",
    "blank",
    "auto_now",
    "auto_now_add",
    "default",
    "editable",
    "error_messages",
    "upload_to",
    "related_name",
    "related_query_name",
    "limit_choices_to",
}

# Data migrations and raw SQL cannot be read here: each is reviewed and named.
REVIEWED = {
    ("audit", "0002_append_only_trigger"): "creates a trigger: no table scan, a brief lock",
    ("audit", "0006_pseudonymise_changes"): "rewrote audit rows in batches before release",
    ("certification", "0004_leader_tally"): "filled a new table from certificates before release",
    ("certification", "0007_certificate_status_list_index"): "numbered certificates before release",
    ("members", "0005_user_name_trigram_indexes"): "trigram indexes built before release",
    ("members", "0006_user_staff_region_access_version"): "filled a new column before release",
    ("training", "0010_enrolment_place_and_certified"): "filled new columns before release",
    ("webhooks", "0003_endpoint_paused_notified_at"): "a nullable column: no rewrite",
}

# Applied before the rule was written (7 December 2026), on tables of a few thousand rows at
# most, where a short lock went unnoticed. Nothing may join this list.
BEFORE_THE_RULE = {
    ("certification", "0002_certificate_emails_in_notice_ledger"),
    ("certification", "0007_certificate_status_list_index"),
    ("members", "0004_profile_membership_number"),
    ("training", "0002_assessment"),
    ("training", "0005_notices"),
    ("training", "0008_notice_unique_subject_first"),
    ("training", "0009_submission_file_removal"),
    ("training", "0012_journey_states_and_notice_kinds"),
    ("training", "0014_resubmit_due_on"),
}


def _field_changes_sql(old, new) -> bool:
    """True if AlterField would emit SQL: anything changed beyond NO_SQL_FIELD_ATTRIBUTES."""
    _name, old_path, old_args, old_kwargs = old.deconstruct()
    _name, new_path, new_args, new_kwargs = new.deconstruct()

    def kept(kwargs):
        return {key: value for key, value in kwargs.items() if key not in NO_SQL_FIELD_ATTRIBUTES}

    return (old_path, old_args, kept(old_kwargs)) != (new_path, new_args, kept(new_kwargs))


def _problems(operation, *, app: str, state: ProjectState, created: set[str]) -> list[str]:
    """Why this operation would lock a live table or break the old code (empty if it is safe)."""
    if isinstance(operation, migrations.SeparateDatabaseAndState):
        return [
            problem
            for inner in operation.database_operations
            for problem in _problems(inner, app=app, state=state, created=created)
        ]
    if isinstance(operation, AddIndexConcurrently) and not isinstance(operation, AddIndexOnline):
        return ["refuses SQLite, which `make run` migrates: use AddIndexOnline"]
    if isinstance(operation, (AddIndexConcurrently, RemoveIndexConcurrently)):
        return []
    if isinstance(operation, (migrations.RunPython, migrations.RunSQL)):
        return ["runs code or SQL that must be reviewed (REVIEWED)"]
    model = getattr(operation, "model_name", None) or getattr(operation, "name", "")
    if isinstance(operation, migrations.CreateModel) or model.lower() in created:
        return []  # a new table: nobody else holds it yet
    if isinstance(operation, migrations.AddIndex):
        return ["CREATE INDEX blocks writes: use AddIndexOnline in a non-atomic migration"]
    if isinstance(operation, migrations.AddConstraint):
        return [
            "a constraint is validated under a lock: add it NOT VALID and VALIDATE it apart "
            "(a unique one: build its index concurrently first)"
        ]
    if isinstance(operation, (migrations.AlterUniqueTogether, migrations.AlterIndexTogether)):
        return ["builds an index under a lock: use a concurrent index and a constraint in steps"]
    if isinstance(
        operation,
        (
            migrations.RemoveField,
            migrations.DeleteModel,
            migrations.RenameField,
            migrations.RenameModel,
            migrations.AlterModelTable,
        ),
    ):
        return ["takes away what the old code reads: stop using it in one release, remove it in the next"]
    if isinstance(operation, migrations.AddField):
        field = operation.field
        if (
            not field.null
            and field.default is models.NOT_PROVIDED
            and field.db_default is models.NOT_PROVIDED
        ):
            return [
                "a NOT NULL column without a default fails or rewrites: add it nullable or with a default"
            ]
        return []
    if isinstance(operation, migrations.AlterField):
        old = state.models[app, operation.model_name.lower()].fields[operation.name]
        if _field_changes_sql(old, operation.field):
            return ["changes the column (type, null, index or key): add a new column and move in steps"]
        return []
    return []


def _migration_problems() -> dict[tuple[str, str], list[str]]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found: dict[tuple[str, str], list[str]] = {}
    state = ProjectState(real_apps=loader.unmigrated_apps)
    plan = []
    for leaf in loader.graph.leaf_nodes():
        plan += [key for key in loader.graph.forwards_plan(leaf) if key not in plan]
    for key in plan:
        migration = loader.graph.nodes[key]
        if key[0] in OUR_APPS:
            created: set[str] = set()
            for operation in migration.operations:
                problems = _problems(operation, app=key[0], state=state, created=created)
                if problems:
                    found.setdefault(key, []).extend(f"{type(operation).__name__}: {p}" for p in problems)
                if isinstance(operation, migrations.CreateModel):
                    created.add(operation.name.lower())
                operation.state_forwards(key[0], state)
        else:
            state = migration.mutate_state(state, preserve=False)
    return found


def test_migrations_run_while_the_old_code_serves():
    problems = {
        key: reasons
        for key, reasons in _migration_problems().items()
        if key not in BEFORE_THE_RULE
        and not (key in REVIEWED and all("must be reviewed" in reason for reason in reasons))
    }
    assert problems == {}, "\n".join(f"{app}.{name}: {reasons}" for (app, name), reasons in problems.items())


def test_the_lists_of_exceptions_hold_nothing_that_passes():
    """An exception no longer needed (the migration was squashed or is fine) leaves the list."""
    flagged = _migration_problems()
    assert set(REVIEWED) | BEFORE_THE_RULE <= set(flagged)


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (
            migrations.AddIndex("mark", models.Index(fields=["kind"], name="mark_kind")),
            "AddIndexOnline",
        ),
        (
            AddIndexConcurrently("mark", models.Index(fields=["kind"], name="mark_kind")),
            "SQLite",
        ),
        (migrations.RemoveField("mark", "comment"), "next"),
        (migrations.RenameField("mark", "comment", "remark"), "next"),
    ],
)
def test_what_would_lock_or_break_is_named(operation, expected):
    assert expected in " ".join(_problems(operation, app="training", state=ProjectState(), created=set()))
