-- wharf state, version 4: the schema a run landed, and specs kept as the
-- exact canonical bytes deploy hashed.
-- schema_hash identifies the landed schema ('' = not recorded); schema is
-- that schema as JSON text (NULL = not recorded).
-- spec becomes text: jsonb re-formats what it stores, so the bytes read back
-- differed from the bytes spec_hash was computed from.

ALTER TABLE wharf_runs ADD COLUMN schema_hash text NOT NULL DEFAULT '';
ALTER TABLE wharf_runs ADD COLUMN schema text;
ALTER TABLE wharf_workflows ALTER COLUMN spec TYPE text USING spec::text;
