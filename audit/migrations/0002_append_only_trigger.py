"""On PostgreSQL, the database itself refuses to change or delete audit entries.

A BEFORE UPDATE OR DELETE trigger raises, whoever asks (the ORM, raw SQL, a console). Two
narrow exceptions, both for members' erasure (docs/decisions/0011):
- actor_id and subject_id may become NULL (never anything else): Django's SET_NULL when an
  account is deleted;
- the snapshot columns (actor_label, subject_label, object_label) and client_address may
  change only while the transaction has set `audit.pseudonymise` to 'on', which only
  audit.services.audit_subject_pseudonymise does (SET LOCAL, gone at commit).
Everything else (when, what, the object, the changes) never changes. TRUNCATE is not
blocked: the test runner empties tables with it, and it needs the table owner's rights.
SQLite has no such trigger; there the model's save() and delete() refuse instead.
"""

from django.db import migrations

CREATE = """
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
       OR NEW.changes IS DISTINCT FROM OLD.changes
       OR (NEW.actor_id IS DISTINCT FROM OLD.actor_id AND NEW.actor_id IS NOT NULL)
       OR (NEW.subject_id IS DISTINCT FROM OLD.subject_id AND NEW.subject_id IS NOT NULL) THEN
        RAISE EXCEPTION 'audit entries are append-only: UPDATE refused';
    END IF;
    IF (NEW.actor_label IS DISTINCT FROM OLD.actor_label
        OR NEW.subject_label IS DISTINCT FROM OLD.subject_label
        OR NEW.object_label IS DISTINCT FROM OLD.object_label
        OR NEW.client_address IS DISTINCT FROM OLD.client_address)
       AND coalesce(current_setting('audit.pseudonymise', true), '') <> 'on' THEN
        RAISE EXCEPTION 'audit entries are append-only: labels change only when pseudonymising';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_auditentry_append_only
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_auditentry_guard();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_auditentry_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_auditentry_guard();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
