-- wharf state, version 1: runs, the files they landed, and watermarks.
-- Times are INTEGER microseconds since the Unix epoch (UTC).
-- Watermarks are typed: a coltype kind name plus the canonical text.

CREATE TABLE wharf_runs (
    id                  TEXT    NOT NULL PRIMARY KEY,
    workflow            TEXT    NOT NULL,
    run_trigger         TEXT    NOT NULL CHECK (run_trigger IN ('manual', 'schedule', 'retry')),
    status              TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped')),
    started_at          INTEGER NOT NULL,
    finished_at         INTEGER,
    row_count           INTEGER NOT NULL DEFAULT 0 CHECK (row_count >= 0),
    byte_count          INTEGER NOT NULL DEFAULT 0 CHECK (byte_count >= 0),
    file_count          INTEGER NOT NULL DEFAULT 0 CHECK (file_count >= 0),
    watermark_from_kind TEXT,
    watermark_from      TEXT,
    watermark_to_kind   TEXT,
    watermark_to        TEXT,
    full_load           INTEGER NOT NULL DEFAULT 0 CHECK (full_load IN (0, 1)),
    error_message       TEXT    NOT NULL DEFAULT '',
    CHECK ((watermark_from_kind IS NULL) = (watermark_from IS NULL)),
    CHECK ((watermark_to_kind IS NULL) = (watermark_to IS NULL))
) STRICT;

CREATE INDEX wharf_runs_started_idx ON wharf_runs (started_at DESC, id DESC);
CREATE INDEX wharf_runs_workflow_started_idx ON wharf_runs (workflow, started_at DESC, id DESC);
CREATE INDEX wharf_runs_running_idx ON wharf_runs (workflow, started_at) WHERE status = 'running';

CREATE TABLE wharf_files (
    run_id     TEXT    NOT NULL REFERENCES wharf_runs (id) ON DELETE CASCADE,
    workflow   TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    row_count  INTEGER NOT NULL CHECK (row_count >= 0),
    byte_count INTEGER NOT NULL CHECK (byte_count >= 0),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, path)
) STRICT;

CREATE INDEX wharf_files_workflow_idx ON wharf_files (workflow);

CREATE TABLE wharf_watermarks (
    workflow      TEXT    NOT NULL PRIMARY KEY,
    cursor_column TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    watermark     TEXT    NOT NULL,
    run_id        TEXT    REFERENCES wharf_runs (id) ON DELETE SET NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
