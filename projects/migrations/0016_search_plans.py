"""Issue 14: a misspelt word found on an index (projects.search).

``projects_search_word``: every word of the projects' titles and summaries
(both languages), lower case, with a GIN trigram index. A word the exact
search does not find ("logisitcs") is looked up there first (pg_trgm's word
similarity, ``%>``, on a table of words, not on every summary) and the
search then asks for the similar words it names ("logistics") by their
substrings, on the indexes as any word. Asking ``summary %> 'logisitcs'``
of the projects themselves checked the similarity of every summary
containing "log", "ogi", "gis"...: 11 to 39 s at 100,000 projects.

Kept by statement triggers (one INSERT a statement of the words not there
yet, COPY and bulk_create included; an UPDATE only for the rows whose texts
changed). No unique constraint on purpose: with one, two transactions adding
the same new word would queue behind each other (``ON CONFLICT`` waits for
the other to commit), so every edit would risk waiting on an unrelated one.
A word two concurrent edits both add is stored twice, which is harmless (the
look-up takes DISTINCT words). Words are never removed: a word no project has any more
leads the search to nothing, as the exact search of that word would.
Filled here from the projects there are (one pass; about a minute at
1,000,000 projects). PostgreSQL only: SQLite has no fuzzy search.
"""

from django.db import migrations

TABLE = "projects_search_word"
# Words: split on spaces and ASCII punctuation (a Korean word stays whole), 4 to 60 characters (shorter
# ones are never looked up: projects.search.FUZZY_MIN_LENGTH), no digits (a mistyped number or code is
# another one, and codes would fill the table with words no one misspells).
WORDS = ("SELECT DISTINCT w FROM {rows}, regexp_split_to_table(lower(concat_ws(' ', {p}title, {p}title_ko, "
         "{p}summary, {p}summary_ko)), '[[:space:][:punct:]]+') AS w "
         "WHERE char_length(w) BETWEEN 4 AND 60 AND w !~ '[0-9]' "
         f"AND NOT EXISTS (SELECT 1 FROM {TABLE} AS known WHERE known.word = w)")

CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (word text NOT NULL);
CREATE INDEX IF NOT EXISTS {TABLE}_word ON {TABLE} (word);
CREATE INDEX IF NOT EXISTS {TABLE}_trgm ON {TABLE} USING gin (word gin_trgm_ops);

CREATE OR REPLACE FUNCTION projects_search_words_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {TABLE} (word) {WORDS.format(rows="new_rows", p="")};
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION projects_search_words_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {TABLE} (word) {WORDS.format(
      rows="new_rows JOIN old_rows ON old_rows.id = new_rows.id AND (old_rows.title, old_rows.title_ko, "
           "old_rows.summary, old_rows.summary_ko) IS DISTINCT FROM (new_rows.title, new_rows.title_ko, "
           "new_rows.summary, new_rows.summary_ko)", p="new_rows.")};
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS projects_search_words_insert ON projects_cooperativeproject;
CREATE TRIGGER projects_search_words_insert AFTER INSERT ON projects_cooperativeproject
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION projects_search_words_inserted();
DROP TRIGGER IF EXISTS projects_search_words_update ON projects_cooperativeproject;
CREATE TRIGGER projects_search_words_update AFTER UPDATE ON projects_cooperativeproject
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION projects_search_words_updated();

INSERT INTO {TABLE} (word) {WORDS.format(rows="projects_cooperativeproject", p="")};
ANALYZE {TABLE};
"""

DROP = f"""
DROP TRIGGER IF EXISTS projects_search_words_insert ON projects_cooperativeproject;
DROP TRIGGER IF EXISTS projects_search_words_update ON projects_cooperativeproject;
DROP FUNCTION IF EXISTS projects_search_words_inserted();
DROP FUNCTION IF EXISTS projects_search_words_updated();
DROP TABLE IF EXISTS {TABLE};
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("projects", "0015_api_sort_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
