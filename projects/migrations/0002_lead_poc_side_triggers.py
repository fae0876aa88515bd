"""The database guarantees that a project's U.S. lead POC is a U.S. POC and
its ROK lead POC a ROK one. A CHECK constraint cannot look at another table,
so this is a trigger on each side of the relation (the project's lead fields,
and a POC's side). tests/projects/test_constraints.py proves it is in place:
SQLite drops triggers when a later migration rebuilds the table, and that
test would then fail.
"""

from django.db import migrations

MESSAGE = "lead POC side mismatch: us_lead_poc must be a U.S. POC and rok_lead_poc a ROK POC"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION projects_check_lead_poc_sides() RETURNS trigger AS $$
BEGIN
    IF (NEW.us_lead_poc_id IS NOT NULL AND
        (SELECT side FROM contacts_pointofcontact WHERE id = NEW.us_lead_poc_id) <> 'us')
    OR (NEW.rok_lead_poc_id IS NOT NULL AND
        (SELECT side FROM contacts_pointofcontact WHERE id = NEW.rok_lead_poc_id) <> 'rok') THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER projects_lead_poc_sides
BEFORE INSERT OR UPDATE OF us_lead_poc_id, rok_lead_poc_id ON projects_cooperativeproject
FOR EACH ROW EXECUTE FUNCTION projects_check_lead_poc_sides();

CREATE OR REPLACE FUNCTION contacts_check_poc_side_change() RETURNS trigger AS $$
BEGIN
    IF NEW.side <> OLD.side AND EXISTS (
        SELECT 1 FROM projects_cooperativeproject
        WHERE (us_lead_poc_id = NEW.id AND NEW.side <> 'us')
           OR (rok_lead_poc_id = NEW.id AND NEW.side <> 'rok')) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER contacts_poc_side_change
BEFORE UPDATE OF side ON contacts_pointofcontact
FOR EACH ROW EXECUTE FUNCTION contacts_check_poc_side_change();
"""

POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS projects_lead_poc_sides ON projects_cooperativeproject;
DROP FUNCTION IF EXISTS projects_check_lead_poc_sides();
DROP TRIGGER IF EXISTS contacts_poc_side_change ON contacts_pointofcontact;
DROP FUNCTION IF EXISTS contacts_check_poc_side_change();
"""

_SQLITE_PROJECT_WHEN = """
    (NEW.us_lead_poc_id IS NOT NULL AND
     (SELECT side FROM contacts_pointofcontact WHERE id = NEW.us_lead_poc_id) <> 'us')
 OR (NEW.rok_lead_poc_id IS NOT NULL AND
     (SELECT side FROM contacts_pointofcontact WHERE id = NEW.rok_lead_poc_id) <> 'rok')
"""

SQLITE_UP = [
    f"""CREATE TRIGGER projects_lead_poc_sides_insert BEFORE INSERT ON projects_cooperativeproject
        WHEN {_SQLITE_PROJECT_WHEN} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER projects_lead_poc_sides_update
        BEFORE UPDATE OF us_lead_poc_id, rok_lead_poc_id ON projects_cooperativeproject
        WHEN {_SQLITE_PROJECT_WHEN} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER contacts_poc_side_change BEFORE UPDATE OF side ON contacts_pointofcontact
        WHEN NEW.side <> OLD.side AND EXISTS (
            SELECT 1 FROM projects_cooperativeproject
            WHERE (us_lead_poc_id = NEW.id AND NEW.side <> 'us')
               OR (rok_lead_poc_id = NEW.id AND NEW.side <> 'rok'))
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS projects_lead_poc_sides_insert;",
    "DROP TRIGGER IF EXISTS projects_lead_poc_sides_update;",
    "DROP TRIGGER IF EXISTS contacts_poc_side_change;",
]


def _run(schema_editor, postgres, sqlite):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(postgres)
    elif vendor == "sqlite":
        for statement in sqlite:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(f"No lead-POC side trigger for {vendor}")


def up(apps, schema_editor):
    _run(schema_editor, POSTGRES_UP, SQLITE_UP)


def down(apps, schema_editor):
    _run(schema_editor, POSTGRES_DOWN, SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial"), ("contacts", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
