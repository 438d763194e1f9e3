-- wharf state, version 6: where a run writes in the lake.
-- lake_prefix is the lake URL (redacted) and the path prefix a run writes
-- under ('' = not recorded), so a dead run's files are removed without
-- connecting to its source.

ALTER TABLE wharf_runs ADD COLUMN lake_prefix text NOT NULL DEFAULT '';
