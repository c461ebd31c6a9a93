"""Erasure reaches what an entry's changes recorded about a member (a search for their name in
an API call's query string, a reason naming them): on PostgreSQL the trigger now lets the
`changes` column change too, but only while `audit.pseudonymise` is 'on', as the snapshot
labels and the client address already could (0002; docs/decisions/0011 and 0012). Everything
else (when, what, the object, the ids) still never changes; DELETE is still refused.
"""

from django.db import migrations

GUARD = """
CREATE OR REPLACE FUNCTION audit_auditentry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit entries are append-only: DELETE refused';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id
       OR NEW.at IS DISTINCT FROM OLD.at
       OR NEW.action IS DISTINCT FROM OLD.action
       OR NEW.object_type_id IS DISTINCT FROM OLD.object_type_id
       OR NEW.object_id IS DISTINCT FROM OLD.object_id
       {changes_always_refused}
       OR (NEW.actor_id IS DISTINCT FROM OLD.actor_id AND NEW.actor_id IS NOT NULL)
       OR (NEW.subject_id IS DISTINCT FROM OLD.subject_id AND NEW.subject_id IS NOT NULL) THEN
        RAISE EXCEPTION 'audit entries are append-only: UPDATE refused';
    END IF;
    IF (NEW.actor_label IS DISTINCT FROM OLD.actor_label
        OR NEW.subject_label IS DISTINCT FROM OLD.subject_label
        OR NEW.object_label IS DISTINCT FROM OLD.object_label
        {changes_when_pseudonymising}
        OR NEW.client_address IS DISTINCT FROM OLD.client_address)
       AND coalesce(current_setting('audit.pseudonymise', true), '') <> 'on' THEN
        RAISE EXCEPTION 'audit entries are append-only: labels change only when pseudonymising';
    END IF;
    RETURN NEW;
END;
$$;
"""

FORWARD = GUARD.format(
    changes_always_refused="", changes_when_pseudonymising="OR NEW.changes IS DISTINCT FROM OLD.changes"
)
BACKWARD = GUARD.format(
    changes_always_refused="OR NEW.changes IS DISTINCT FROM OLD.changes", changes_when_pseudonymising=""
)


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_webhook_actions")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD))]
