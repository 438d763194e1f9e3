-- wharf state, version 4: the schema a run landed.
-- schema_hash identifies the landed schema ('' = not recorded); schema is
-- that schema as JSON text (NULL = not recorded).

ALTER TABLE wharf_runs ADD COLUMN schema_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE wharf_runs ADD COLUMN schema TEXT;
